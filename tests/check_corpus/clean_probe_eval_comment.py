# expect: clean
# The eval() during training carries a comment that says why.
import torch


def train_epoch(model, loader, optimizer):
    # frozen features: keep the backbone's batchnorm statistics as they were pre-trained
    model.eval()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def main(model, loader, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        train_epoch(model, loader, optimizer)
