# expect: accumulation-loss-not-scaled@13
# fabric.backward(loss) differentiates its argument: that loss is never divided by `accum`.
import torch


def fit(fabric, net, batches, accum=4):
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net, opt = fabric.setup(net, opt)
    net.train()
    for i, (x, y) in enumerate(batches):
        out = net(x)
        loss = torch.nn.functional.mse_loss(out, y)
        fabric.backward(loss)  # mistake
        if (i + 1) % accum == 0:
            opt.step()
            opt.zero_grad()
