# expect: zero-grad-after-backward@12
# With a GradScaler: the model's gradients are cleared between the scaled backward and the step.
import torch


def train_epoch(model, loader, optimizer, scaler, loss_fn):
    model.train()
    for inputs, targets in loader:
        with torch.autocast("cuda", dtype=torch.float16):
            loss = loss_fn(model(inputs), targets)
        scaler.scale(loss).backward()
        model.zero_grad(set_to_none=True)  # mistake
        scaler.step(optimizer)
        scaler.update()


def main(model, loader):
    optimizer = torch.optim.AdamW(model.parameters())
    scaler = torch.amp.GradScaler()
    for epoch in range(5):
        train_epoch(model, loader, optimizer, scaler, torch.nn.CrossEntropyLoss())


main(None, None)
