# expect: scheduler-before-optimizer-step@16
import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import OneCycleLR


def train(model, loader, epochs, max_lr=0.01):
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr)
    scheduler = OneCycleLR(optimizer, max_lr=max_lr, epochs=epochs, steps_per_epoch=len(loader))
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            scheduler.step()  # mistake
            optimizer.step()
