# expect: validation-without-no-grad@24
import torch
from torch import nn


class Engine:
    def __init__(self, model, optimizer, device):
        self.model = model
        self.optimizer = optimizer
        self.device = device
        self.criterion = nn.CrossEntropyLoss()

    def train_epoch(self, loader):
        self.model.train()
        for x, y in loader:
            self.optimizer.zero_grad()
            self.criterion(self.model(x.to(self.device)), y.to(self.device)).backward()
            self.optimizer.step()

    def evaluate(self, loader):
        self.model.eval()
        correct = 0
        for x, y in loader:
            logits = self.model(x.to(self.device))  # mistake
            correct += (logits.argmax(1).cpu() == y).sum().item()
        self.model.train()
        return correct / len(loader.dataset)


def main(model, train_loader, val_loader, device):
    engine = Engine(model, torch.optim.SGD(model.parameters(), lr=0.1), device)
    for epoch in range(10):
        engine.train_epoch(train_loader)
        print(engine.evaluate(val_loader))


main(None, None, None, "cpu")
