# expect: scheduler-in-batch-loop@14
# An epoch-length cosine schedule, passed into the epoch function and stepped per batch.
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR


def train_one_epoch(model, loader, optimizer, scheduler, criterion):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()  # mistake


def main(model, train_loader, epochs=30):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = CosineAnnealingLR(optimizer, T_max=epochs)
    criterion = torch.nn.CrossEntropyLoss()
    for epoch in range(epochs):
        train_one_epoch(model, train_loader, optimizer, sched, criterion)


if __name__ == "__main__":
    main(None, None)
