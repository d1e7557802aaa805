# expect: validation-in-train-mode@16
# One batch function for both phases, chosen by a flag: autograd is switched off for the test
# data, but nothing ever calls model.eval().
import torch


class Runner:
    def __init__(self, model, train_loader, test_loader):
        self.model = model
        self.train_loader = train_loader
        self.test_loader = test_loader
        self.opt = torch.optim.AdamW(model.parameters())

    def _batch(self, x, y, train: bool = True):
        with torch.set_grad_enabled(train):
            _, loss = self.model(x, y)
        if train:
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        return loss.item()

    def _epoch(self, loader, train: bool = True):
        return [self._batch(x, y, train) for x, y in loader]

    def fit(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            self._epoch(self.train_loader, train=True)
            self._epoch(self.test_loader, train=False)
