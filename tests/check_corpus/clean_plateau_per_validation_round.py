# expect: clean
# A plateau scheduler steps with a validation metric whenever one is measured, here every N batches.
import torch


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        score = sum(torch.nn.functional.cross_entropy(model(x), y).item() for x, y in loader)
    model.train()
    return score


def main(model, train_loader, val_loader, epochs, every):
    optimizer = torch.optim.Adam(model.parameters())
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", patience=3)
    step = 0
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            step += 1
            if step % every == 0:
                scheduler.step(evaluate(model, val_loader))
