# expect: validate-on-train-split@23
import torch
from torch.utils.data import DataLoader


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    model.train()
    return correct / len(loader.dataset)


def main(model, train_set, epochs=10):
    train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        acc = evaluate(model, train_loader)  # mistake
        print(f"epoch {epoch}: accuracy {acc:.2%}")


if __name__ == "__main__":
    main(None, None)
