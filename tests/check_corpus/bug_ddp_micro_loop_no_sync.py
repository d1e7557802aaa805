# expect: ddp-accumulation-without-no-sync@14
import torch
from torch.nn.parallel import DistributedDataParallel as DDP


def main(net, batches, accum_steps, iters):
    model = DDP(net)
    optimizer = torch.optim.AdamW(model.parameters())
    for it in range(iters):
        optimizer.zero_grad(set_to_none=True)
        for micro_step in range(accum_steps):
            x, y = next(batches)
            loss = torch.nn.functional.cross_entropy(model(x), y) / accum_steps
            loss.backward()
        optimizer.step()
