# expect: ddp-padded-validation@33
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    sums = torch.zeros(2)
    for x, y in loader:
        sums[0] += torch.nn.functional.cross_entropy(model(x), y, reduction="sum")
        sums[1] += len(y)
    dist.all_reduce(sums)  # exact sums, but over padded shards
    model.train()
    return (sums[0] / sums[1]).item()


def main(net, train_ds, val_ds, epochs):
    model = DDP(net)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    train_sampler = DistributedSampler(train_ds)
    train_dl = DataLoader(train_ds, batch_size=32, sampler=train_sampler)
    for epoch in range(epochs):
        train_sampler.set_epoch(epoch)
        for x, y in train_dl:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        val_dl = DataLoader(val_ds, batch_size=64,
                            sampler=DistributedSampler(val_ds, shuffle=False))
        print(epoch, evaluate(model, val_dl))
