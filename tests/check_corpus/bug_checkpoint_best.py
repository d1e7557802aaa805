# expect: checkpoint-last-not-best@26
# The "best" file is overwritten at the end of every epoch, whatever the validation loss did.
import torch
import torch.nn as nn


@torch.no_grad()
def validate(model, loader, criterion):
    model.eval()
    out = sum(criterion(model(x), y).item() for x, y in loader) / len(loader)
    model.train()
    return out


def main(model, train_loader, val_loader, out_dir="runs"):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(25):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        val_loss = validate(model, val_loader, criterion)
        print(f"epoch {epoch} val_loss {val_loss:.4f}")
        torch.save(model.state_dict(), f"{out_dir}/best_model.pt")  # mistake


if __name__ == "__main__":
    main(None, None, None)
