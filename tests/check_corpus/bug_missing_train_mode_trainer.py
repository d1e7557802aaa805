# expect: missing-train-mode@30
# The Trainer sets train() once in fit() before the loop; validate() leaves the model in eval mode.
import torch
from torch import nn


class Trainer:
    def __init__(self, model, train_dl, val_dl, lr=1e-3):
        self.model = model
        self.train_dl = train_dl
        self.val_dl = val_dl
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()

    def fit(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            for x, y in self.train_dl:
                self._step(x, y)
            print(epoch, self.validate())

    def _step(self, x, y):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.optimizer.step()

    @torch.no_grad()
    def validate(self):
        self.model.eval()  # mistake
        losses = []
        for x, y in self.val_dl:
            losses.append(self.loss_fn(self.model(x), y).item())
        return sum(losses) / len(losses)
