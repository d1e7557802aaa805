# expect: validate-on-train-split@8
import torch
from torch.utils.data import DataLoader


def build_loaders(train_ds, test_ds, bs=64):
    train_loader = DataLoader(train_ds, batch_size=bs, shuffle=True)
    val_loader = DataLoader(train_ds, batch_size=bs)  # mistake
    return train_loader, val_loader


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).float().mean().item() for x, y in loader) / len(loader)
