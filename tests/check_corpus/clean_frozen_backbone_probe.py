# expect: clean
# Linear probing: the backbone stays in eval (frozen, under no_grad); only the head is optimised
# and put in train mode.
import torch
from torch import nn


def probe(backbone, loader, dim, classes, epochs=5):
    head = nn.Linear(dim, classes)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    backbone.eval()
    for epoch in range(epochs):
        head.train()
        for x, y in loader:
            with torch.no_grad():
                feats = backbone(x)
            loss = nn.functional.cross_entropy(head(feats), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
