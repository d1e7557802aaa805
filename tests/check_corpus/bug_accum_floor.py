# expect: accumulation-loss-not-scaled
import torch
def train(model, loader, optimizer, accumulation_steps=4):
    model.train()
    optimizer.zero_grad()
    for idx, (x, y) in enumerate(loader, start=1):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if idx % accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
