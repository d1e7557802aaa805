# expect: accumulation-loss-not-scaled@10
import torch


def train_epoch(model, loader, optimizer, scaler, accum, criterion):
    model.train()
    for i, batch in enumerate(loader):
        with torch.autocast("cuda", dtype=torch.float16):
            loss = criterion(model(batch["input"]), batch["label"])
        scaler.scale(loss).backward()  # mistake
        if (i + 1) % accum == 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
