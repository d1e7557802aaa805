# expect: validation-in-train-mode@16
import torch
from torch import nn


def fit(net, train_dl, valid_dl, epochs, opt):
    loss_func = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        net.train()
        for xb, yb in train_dl:
            loss = loss_func(net(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        with torch.no_grad():
            valid_loss = sum(loss_func(net(xb), yb) for xb, yb in valid_dl)  # mistake
        print(epoch, valid_loss / len(valid_dl))
