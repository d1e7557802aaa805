# expect: clean
# A validation sampler needs no set_epoch (its order changes no metric), and its padding biases
# nothing when each rank's metric stays its own.
import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler


def main(net, train_set, val_set, epochs, rank):
    model = DDP(net)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_sampler = DistributedSampler(train_set)
    train_loader = DataLoader(train_set, sampler=train_sampler, batch_size=32)
    val_sampler = DistributedSampler(val_set)
    val_loader = DataLoader(val_set, sampler=val_sampler, batch_size=32)
    for epoch in range(epochs):
        train_sampler.set_epoch(epoch)
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader)
        if rank == 0:
            print("rank 0 accuracy on its shard", correct)
