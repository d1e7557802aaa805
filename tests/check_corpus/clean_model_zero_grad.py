# expect: clean
# model.zero_grad() counts as zeroing; evaluating on the training loader as well as the val loader
# is a legitimate train-accuracy report.
import torch
import torch.nn as nn


def accuracy(model, loader):
    model.eval()
    with torch.no_grad():
        right = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    model.train()
    return right / len(loader.dataset)


def evaluate(model, loader):
    return accuracy(model, loader)


def main(model, train_loader, val_loader):
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    ce = nn.CrossEntropyLoss()
    losses = []
    model.train()
    for epoch in range(10):
        for x, y in train_loader:
            model.zero_grad()
            loss = ce(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        train_acc = evaluate(model, train_loader)
        val_acc = evaluate(model, val_loader)
        print(epoch, train_acc, val_acc)


if __name__ == "__main__":
    main(None, None, None)
