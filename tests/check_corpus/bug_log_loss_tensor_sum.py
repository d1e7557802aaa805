# expect: log-loss-tensor@15
import torch


def train_epoch(model, loader, optimizer, criterion, scaler):
    model.train()
    epoch_loss = 0
    for batch in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.float16):
            loss = criterion(model(batch["image"]), batch["mask"])
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        epoch_loss = epoch_loss + loss  # mistake
    return epoch_loss / len(loader)
