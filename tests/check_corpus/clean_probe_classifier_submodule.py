# expect: clean
# Linear probe: only the classifier (a sub-module of the same model) is optimised, so the model
# is kept in eval mode on purpose while it trains.
import torch
from torch import nn


class Probe(nn.Module):
    def __init__(self, backbone, classes):
        super().__init__()
        self.backbone = backbone
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        return self.classifier(self.backbone(x))


def main(backbone, loader, epochs):
    model = Probe(backbone, 10)
    optimizer = torch.optim.SGD(model.classifier.parameters(), lr=0.1)
    for epoch in range(epochs):
        model.eval()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
