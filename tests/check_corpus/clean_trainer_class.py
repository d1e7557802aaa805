# expect: clean
"""A Trainer class holding its optimizer and a per-step OneCycle scheduler as attributes."""
import torch
from torch import nn
from torch.optim.lr_scheduler import OneCycleLR


class Trainer:
    def __init__(self, model, train_loader, val_loader, epochs=10, lr=1e-3):
        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.epochs = epochs
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.scheduler = OneCycleLR(self.optimizer, max_lr=lr, total_steps=epochs * len(train_loader))
        self.best = float("inf")

    def training_step(self, batch):
        x, y = batch
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.criterion(self.model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.scheduler.step()
        return loss.item()

    def train_epoch(self):
        self.model.train()
        total = 0.0
        for batch in self.train_loader:
            total += self.training_step(batch)
        return total / len(self.train_loader)

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        losses = []
        for x, y in self.val_loader:
            losses.append(self.criterion(self.model(x), y).item())
        return sum(losses) / len(losses)

    def fit(self):
        for epoch in range(self.epochs):
            train_loss = self.train_epoch()
            val_loss = self.validate()
            if val_loss < self.best:
                self.best = val_loss
                torch.save(self.model.state_dict(), "best_model.pt")
            print(epoch, train_loss, val_loss)


if __name__ == "__main__":
    trainer = Trainer(None, None, None)
    trainer.fit()
