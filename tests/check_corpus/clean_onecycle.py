# expect: clean
# OneCycleLR is written in optimizer steps, so it is stepped once per batch, after optimizer.step().
import torch
from torch.optim.lr_scheduler import OneCycleLR
from tqdm import tqdm


def run(model, loaders, cfg):
    train_loader, val_loader = loaders
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True)
    scheduler = OneCycleLR(optimizer, max_lr=cfg.lr, epochs=cfg.epochs, steps_per_epoch=len(train_loader))
    criterion = torch.nn.CrossEntropyLoss()
    for epoch in range(cfg.epochs):
        model.train()
        pbar = tqdm(train_loader, desc=f"epoch {epoch}")
        for x, y in pbar:
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            pbar.set_postfix(loss=loss.item(), lr=scheduler.get_last_lr()[0])
        evaluate(model, val_loader, criterion)


@torch.no_grad()
def evaluate(model, loader, criterion):
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    for x, y in loader:
        total += criterion(model(x), y).item() * len(y)
        n += len(y)
    model.train(was_training)
    return total / n
