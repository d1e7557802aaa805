# expect: clean
# One helper trains or evaluates by a mode string; every step it takes follows the same branch.
import torch


def run_epoch(model, loader, optimizer, mode):
    if mode == "train":
        model.train()
    else:
        model.eval()
    total = 0.0
    for x, y in loader:
        with torch.set_grad_enabled(mode == "train"):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        if mode != "train":
            total += loss.item()
            continue
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total


def main(model, train_loader, val_loader, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        run_epoch(model, train_loader, optimizer, "train")
        run_epoch(model, val_loader, optimizer, "val")
