# expect: clean
import contextlib

import torch
from torch.nn.parallel import DistributedDataParallel as DDP


def main(net, loader, accum_steps, epochs):
    model = DDP(net)
    optimizer = torch.optim.AdamW(model.parameters())
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        model.train()
        for i, (x, y) in enumerate(loader):
            stepping = (i + 1) % accum_steps == 0
            with contextlib.nullcontext() if stepping else model.no_sync():
                loss = torch.nn.functional.cross_entropy(model(x), y) / accum_steps
                loss.backward()
            if stepping:
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
