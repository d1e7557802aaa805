# expect: log-loss-tensor@14
# A running mean of the loss tensor keeps every batch's graph alive.
import torch


def fit(net, batches):
    opt = torch.optim.Adam(net.parameters())
    net.train()
    mean = torch.zeros(())
    for i, (x, y) in enumerate(batches):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        mean = (mean * i + loss) / (i + 1)  # mistake
        opt.step()
    return mean
