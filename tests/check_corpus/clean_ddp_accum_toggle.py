# expect: clean
import torch
from torch.nn.parallel import DistributedDataParallel as DDP


def main(net, batches, accum_steps, iters):
    model = DDP(net)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, step / 100))
    for it in range(iters):
        for micro_step in range(accum_steps):
            # nanoGPT's way: all-reduce only in the last micro-step
            model.require_backward_grad_sync = micro_step == accum_steps - 1
            x, y = next(batches)
            loss = torch.nn.functional.cross_entropy(model(x), y) / accum_steps
            loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
