# expect: scheduler-in-batch-loop
import torch
def train(model, dl, epochs):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2)
    for epoch in range(epochs):
        model.train()
        for x, y in dl:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            plateau.step(loss.item())
