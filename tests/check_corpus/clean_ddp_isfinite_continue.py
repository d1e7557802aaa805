# expect: clean
import os
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP


def main(model_fn, dataset, val_dataset, epochs):
    dist.init_process_group("nccl")
    rank = int(os.environ["LOCAL_RANK"])
    model = DDP(model_fn().cuda(rank), device_ids=[rank])
    sampler = torch.utils.data.distributed.DistributedSampler(dataset)
    loader = torch.utils.data.DataLoader(dataset, batch_size=32, sampler=sampler)
    val_loader = torch.utils.data.DataLoader(val_dataset, batch_size=64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60])
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        model.train()
        for step, (x, y) in enumerate(loader):
            x, y = x.cuda(rank), y.cuda(rank)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            if not torch.isfinite(loss):
                continue
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        scheduler.step()
        if rank == 0:
            model.eval()
            with torch.no_grad():
                acc = sum((model(x.cuda()).argmax(1) == y.cuda()).sum().item() for x, y in val_loader)
            print(epoch, acc)
            torch.save(model.module.state_dict(), f"ckpt_{epoch}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(None, None, None, 90)
