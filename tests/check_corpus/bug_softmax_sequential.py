# expect: softmax-before-cross-entropy@11
import torch
from torch import nn
from torch.nn import functional as F

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(28 * 28, 256),
    nn.ReLU(),
    nn.Linear(256, 10),
    nn.Softmax(dim=1),  # mistake
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(loader, epochs):
    model.train()
    for epoch in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
