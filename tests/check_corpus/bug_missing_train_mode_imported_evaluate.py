# expect: missing-train-mode@15
# The evaluation comes from a sibling module; it leaves the model in eval mode.
import torch
from helper_engine import evaluate


def main(model, train_loader, val_loader, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        evaluate(model, val_loader)
