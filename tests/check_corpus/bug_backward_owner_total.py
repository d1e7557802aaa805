# expect: log-loss-tensor@14
# The loss handed to accelerator.backward is summed with its graph into a running total.
import torch


def fit(accelerator, net, batches):
    opt = torch.optim.AdamW(net.parameters())
    net.train()
    running = 0.0
    for x, y in batches:
        opt.zero_grad()
        loss = torch.nn.functional.l1_loss(net(x), y)
        accelerator.backward(loss)
        running += loss  # mistake
        opt.step()
    return running
