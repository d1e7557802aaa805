# expect: ddp-missing-set-epoch@27
import torch
import torch.distributed as dist


class EpochShuffle(torch.utils.data.Sampler):
    """Every rank takes every world-th index of one shuffled order, seeded by seed + epoch."""

    def __init__(self, n, seed=0):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.n, generator=g).tolist()
        return iter(order[dist.get_rank() :: dist.get_world_size()])

    def __len__(self):
        return len(range(dist.get_rank(), self.n, dist.get_world_size()))


def train(model, optimizer, dataset, epochs):
    loader = torch.utils.data.DataLoader(
        dataset,
        sampler=EpochShuffle(len(dataset)),
        batch_size=64,
    )
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
