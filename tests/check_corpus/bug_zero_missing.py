# expect: zero-grad-missing@13
import torch
import torch.nn as nn

net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.SGD(net.parameters(), lr=0.01)
mse = nn.MSELoss()


def train(xs, ys, epochs=100):
    net.train()
    for epoch in range(epochs):
        for x, y in zip(xs, ys):  # mistake
            pred = net(x)
            loss = mse(pred, y)
            loss.backward()
            opt.step()
        print(epoch, loss.item())
