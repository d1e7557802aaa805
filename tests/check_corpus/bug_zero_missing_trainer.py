# expect: zero-grad-missing@23
# The per-batch work lives in a method; nothing ever clears the gradients.
import torch
from torch import nn


class Learner:
    def __init__(self, model, loader, lr=1e-3):
        self.model = model
        self.loader = loader
        self.opt = torch.optim.Adam(model.parameters(), lr=lr)
        self.loss_func = nn.CrossEntropyLoss()

    def one_batch(self, xb, yb):
        loss = self.loss_func(self.model(xb), yb)
        loss.backward()
        self.opt.step()
        return loss.item()

    def fit(self, n_epoch):
        for epoch in range(n_epoch):
            self.model.train()
            for xb, yb in self.loader:  # mistake
                self.one_batch(xb, yb)


learn = Learner(None, None)
learn.fit(5)
