# expect: softmax-before-cross-entropy@15
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, d_in, n_classes):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, 128), nn.ReLU())
        self.out = nn.Linear(128, n_classes)

    def forward(self, x):
        h = self.body(x)
        probs = F.softmax(self.out(h), dim=-1)  # mistake
        return probs


def train(loader, epochs=10):
    model = Classifier(32, 5)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
