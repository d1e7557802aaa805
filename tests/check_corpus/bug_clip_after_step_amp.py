# expect: clip-after-step@14
import torch


def train_one_epoch(model, loader, optimizer, scaler, criterion, max_norm):
    model.train()
    for images, targets in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.float16):
            loss = criterion(model(images), targets)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)  # mistake
        scaler.update()
