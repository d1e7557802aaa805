# expect: scheduler-in-batch-loop@23
import torch
from torch import nn
from torch.optim import lr_scheduler


class Trainer:
    def __init__(self, model, loaders, epochs):
        self.model = model
        self.train_loader, self.val_loader = loaders
        self.epochs = epochs
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        self.scheduler = lr_scheduler.MultiStepLR(self.optimizer, milestones=[30, 60, 80], gamma=0.1)
        self.criterion = nn.CrossEntropyLoss()

    def train_epoch(self, epoch):
        self.model.train()
        for step, (images, targets) in enumerate(self.train_loader):
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(images), targets)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()  # mistake

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        return sum((self.model(x).argmax(1) == y).sum().item() for x, y in self.val_loader)

    def run(self):
        for epoch in range(self.epochs):
            self.train_epoch(epoch)
            print(epoch, self.evaluate())


Trainer(None, (None, None), 90).run()
