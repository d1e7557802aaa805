# expect: clean
# fp16 AMP: unscale_ before clipping, scaler.step + update, zero_grad first.
import torch
from torch import nn
from torch.amp import GradScaler, autocast


def train_epoch(model, loader, optimizer, scaler, device, max_norm=1.0):
    model.train()
    criterion = nn.CrossEntropyLoss()
    for inputs, labels in loader:
        inputs = inputs.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with autocast("cuda", dtype=torch.float16):
            outputs = model(inputs)
            loss = criterion(outputs, labels)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()


def main(model, loader, device):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = GradScaler("cuda")
    for epoch in range(10):
        train_epoch(model, loader, optimizer, scaler, device)


if __name__ == "__main__":
    main(None, None, "cuda")
