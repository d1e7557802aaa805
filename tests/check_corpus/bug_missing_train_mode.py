# expect: missing-train-mode@9
# train() is set once before the loop; evaluate() switches to eval and never switches back.
import torch
import torch.nn as nn


@torch.no_grad()
def evaluate(model, loader):
    model.eval()  # mistake
    correct = total = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
        total += y.numel()
    return correct / total


def main(model, train_loader, val_loader, epochs=15):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: val acc {evaluate(model, val_loader):.3f}")


if __name__ == "__main__":
    main(None, None, None)
