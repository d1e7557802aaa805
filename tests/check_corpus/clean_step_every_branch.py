# expect: clean
# Both branches update the weights: one with the optimizer, one by hand. Every iteration steps,
# so this is not accumulation.
import torch


def fit(net, batches, use_opt, lr=0.5):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    net.train()
    for x, y in batches:
        net.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        if use_opt:
            opt.step()
        else:
            for w in net.parameters():
                w.data.add_(w.grad, alpha=-lr)
