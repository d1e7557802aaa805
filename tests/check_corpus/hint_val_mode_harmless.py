# expect: validation-in-train-mode@27
# A true finding of a harmless kind: the model has no dropout or batchnorm, so the checker
# reports it as a hint and says so.
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        return self.body(x)


def fit(train_loader, val_loader, epochs=3):
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
        with torch.no_grad():
            for x, y in val_loader:
                print(model(x))
