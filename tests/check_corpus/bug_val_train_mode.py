# expect: validation-in-train-mode@10
import torch
import torch.nn as nn


@torch.no_grad()
def validate(model, val_loader, criterion):
    total = 0.0
    for images, labels in val_loader:
        outputs = model(images)  # mistake
        total += criterion(outputs, labels).item()
    return total / len(val_loader)


def main(model, train_loader, val_loader):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(20):
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            criterion(model(images), labels).backward()
            optimizer.step()
        print(epoch, validate(model, val_loader, criterion))


if __name__ == "__main__":
    main(None, None, None)
