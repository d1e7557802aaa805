# expect: log-loss-tensor
import torch
def train(model, loader, opt, crit):
    history = []
    model.train()
    for epoch in range(5):
        for x, y in loader:
            opt.zero_grad()
            batch_loss = crit(model(x), y)
            batch_loss.backward()
            opt.step()
            history.append(batch_loss)
    return history
