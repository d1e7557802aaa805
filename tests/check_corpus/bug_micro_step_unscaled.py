# expect: accumulation-loss-not-scaled@14
# Gradients of `micro` batches are summed by an inner loop; the step comes after it. The loss
# of each micro batch is not divided by `micro`.
import torch


def fit(net, sample, steps=100, micro=4):
    opt = torch.optim.AdamW(net.parameters())
    net.train()
    for it in range(steps):
        for _ in range(micro):
            x, y = sample()
            pred, loss = net(x, y)
            loss.backward()  # mistake
        opt.step()
        opt.zero_grad(set_to_none=True)
