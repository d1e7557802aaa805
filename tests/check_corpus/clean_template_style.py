# expect: clean
"""Written like the generated train.py: sample-weighted accumulation, fp16 scaler, per-step
scheduler stepped only when the scaler did not skip, validation helper restoring train()."""
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Config:
    epochs: int = 10
    accum_steps: int = 2
    grad_clip: float = 1.0


def train_one_epoch(model, loader, criterion, optimizer, scheduler, scaler, cfg, device):
    model.train()
    total_loss, seen = 0.0, 0
    optimizer.zero_grad(set_to_none=True)
    batches = list(loader)
    for i, (x, y) in enumerate(batches):
        x, y = x.to(device), y.to(device)
        start = (i // cfg.accum_steps) * cfg.accum_steps
        window = sum(len(b[1]) for b in batches[start : start + cfg.accum_steps])
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=scaler.is_enabled()):
            loss = criterion(model(x), y)
        n = len(y)
        scaled = loss * (n / window)
        scaler.scale(scaled).backward()
        total_loss += loss.item() * n
        seen += n
        if (i + 1) % cfg.accum_steps == 0 or i + 1 == len(batches):
            scaler.unscale_(optimizer)
            if cfg.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            before = scaler.get_scale()
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None and scaler.get_scale() >= before:
                scheduler.step()
            optimizer.zero_grad(set_to_none=True)
    return total_loss / seen


def validate(model, loader, criterion, device):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x.to(device))
            total += criterion(logits, y.to(device)).item() * len(y)
            correct += (logits.argmax(1).cpu() == y).sum().item()
            count += len(y)
    model.train()
    return total / count, correct / count


def save_checkpoint(state, path):
    tmp = str(path) + ".tmp"
    torch.save(state, tmp)


def main(model, train_loader, val_loader, device):
    cfg = Config()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    steps = cfg.epochs * ((len(train_loader) + cfg.accum_steps - 1) // cfg.accum_steps)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=steps)
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")
    best = float("inf")
    for epoch in range(cfg.epochs):
        train_loss = train_one_epoch(model, train_loader, criterion, optimizer, scheduler, scaler, cfg, device)
        val_loss, val_acc = validate(model, val_loader, criterion, device)
        if val_loss < best:
            best = val_loss
            save_checkpoint({"model": model.state_dict()}, "out/best.pt")
        save_checkpoint({"model": model.state_dict(), "epoch": epoch}, "out/last.pt")
        print(epoch, train_loss, val_loss, val_acc)


if __name__ == "__main__":
    main(None, None, None, torch.device("cpu"))
