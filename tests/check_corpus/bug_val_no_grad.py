# expect: validation-without-no-grad@11
import torch
import torch.nn.functional as F


def evaluate(model, loader, device):
    model.eval()
    loss_sum, n = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)  # mistake
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        n += y.size(0)
    model.train()
    return loss_sum / n


def main(model, train_loader, val_loader, device, epochs=10):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x.to(device)), y.to(device)).backward()
            optimizer.step()
        print(epoch, evaluate(model, val_loader, device))


if __name__ == "__main__":
    main(None, None, None, "cpu")
