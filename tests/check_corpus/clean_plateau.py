# expect: clean
# ReduceLROnPlateau is stepped once per epoch with the validation loss.
import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau


def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total = 0.0
    for batch in loader:
        x, y = batch["x"], batch["y"]
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def validate(model, loader, loss_fn):
    model.eval()
    with torch.inference_mode():
        losses = [loss_fn(model(b["x"]), b["y"]).item() for b in loader]
    return sum(losses) / len(losses)


def main(model, train_loader, val_loader):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    plateau = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=3)
    loss_fn = nn.MSELoss()
    for epoch in range(100):
        tr = train_one_epoch(model, train_loader, optimizer, loss_fn)
        va = validate(model, val_loader, loss_fn)
        plateau.step(va)
        print(epoch, tr, va)


if __name__ == "__main__":
    main(None, None, None)
