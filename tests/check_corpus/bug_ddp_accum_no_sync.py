# expect: ddp-accumulation-without-no-sync@11
import torch
from torch.nn.parallel import DistributedDataParallel as DDP


def train_epoch(model, loader, optimizer, accum_steps, scaler):
    model.train()
    for i, (x, y) in enumerate(loader):
        with torch.autocast("cuda", dtype=torch.float16):
            loss = torch.nn.functional.cross_entropy(model(x), y) / accum_steps
        scaler.scale(loss).backward()
        if (i + 1) % accum_steps == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)


def main(net, loader, accum_steps):
    model = DDP(net.cuda())
    optimizer = torch.optim.AdamW(model.parameters())
    train_epoch(model, loader, optimizer, accum_steps, torch.amp.GradScaler())
