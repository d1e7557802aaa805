# expect: clean
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler


def run_epoch(model, loader, optimizer, epoch):
    loader.sampler.set_epoch(epoch)  # called per epoch, from a helper
    model.train()
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


@torch.no_grad()
def validate(model, loader):
    model.eval()
    correct = torch.zeros(2)
    for x, y in loader:
        correct += torch.tensor([float((model(x).argmax(1) == y).sum()), float(len(y))])
    dist.all_reduce(correct)
    return (correct[0] / correct[1]).item()


def main(model, train_set, val_set, epochs):
    model = DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_loader = DataLoader(train_set, batch_size=32, sampler=DistributedSampler(train_set))
    # drop_last=True: no padded duplicates (the remainder is evaluated on rank 0 elsewhere)
    val_sampler = DistributedSampler(val_set, shuffle=False, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=64, sampler=val_sampler)
    for epoch in range(epochs):
        run_epoch(model, train_loader, optimizer, epoch)
        scheduler.step()
        acc = validate(model, val_loader)
        model.train()
        if dist.get_rank() == 0:
            print(epoch, acc)
