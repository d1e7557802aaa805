# expect: scheduler-before-optimizer-step@20
# The epoch scheduler is stepped at the top of the epoch, before any optimizer step in it.
import torch
from torch import nn


def run_epoch(model, loader, opt, loss_fn):
    model.train()
    for xb, yb in loader:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()


def main(model, train_dl, n_epochs=40):
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    lr_sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(n_epochs):
        lr_sched.step()  # mistake
        run_epoch(model, train_dl, opt, loss_fn)


main(None, None)
