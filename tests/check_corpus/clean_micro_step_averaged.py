# expect: clean
# Inner-loop accumulation twice done right: once by dividing each loss, once by averaging the
# summed gradients before the step.
import torch


def fit(net, sample, steps=100, micro=4):
    opt = torch.optim.AdamW(net.parameters())
    net.train()
    for it in range(steps):
        for _ in range(micro):
            x, y = sample()
            loss = torch.nn.functional.mse_loss(net(x), y) / micro
            loss.backward()
        opt.step()
        opt.zero_grad()


def fit_average_grads(net, sample, steps=100, micro=4):
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net.train()
    for it in range(steps):
        opt.zero_grad()
        for _ in range(micro):
            x, y = sample()
            err = torch.nn.functional.mse_loss(net(x), y)
            err.backward()
        for w in net.parameters():
            w.grad.mul_(1.0 / micro)
        opt.step()
