# expect: clean
# bf16 autocast needs no GradScaler; validation decorated with inference_mode and wrapped in eval().
import torch
from torch import nn
from tqdm.auto import tqdm


@torch.inference_mode()
def run_validation(model, loader, device):
    model.eval()
    hits = 0
    for images, targets in tqdm(loader, leave=False):
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            preds = model(images.to(device)).argmax(dim=1)
        hits += (preds.cpu() == targets).sum().item()
    return hits / len(loader.dataset)


def train_model(model, train_loader, val_loader, device, epochs=8):
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4, fused=device.type == "cuda")
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for images, targets in tqdm(train_loader):
            images, targets = images.to(device), targets.to(device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                loss = criterion(model(images), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        scheduler.step()
        acc = run_validation(model, val_loader, device)
        print(f"epoch={epoch} val_acc={acc:.4f}")
