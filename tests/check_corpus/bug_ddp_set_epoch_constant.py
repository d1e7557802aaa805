# expect: ddp-missing-set-epoch@14
import torch
from torch.utils.data import DataLoader, DistributedSampler


class Trainer:
    def __init__(self, model, optimizer, train_set):
        self.model = model
        self.optimizer = optimizer
        self.loader = self.prepare(train_set)

    @staticmethod
    def prepare(dataset):
        return DataLoader(dataset, batch_size=16, sampler=DistributedSampler(dataset, shuffle=True))

    def fit(self, epochs):
        self.loader.sampler.set_epoch(0)  # once, before the loop: every epoch the same order
        for _ in range(epochs):
            for x, y in self.loader:
                self.optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.mse_loss(self.model(x), y)
                loss.backward()
                self.optimizer.step()
