# expect: clean
# A framework object runs backward (engine.backward(loss)); the loss is divided before it, and
# the step waits for every `accum`-th batch. The receiver is not the loss.
import torch


def fit(engine, net, batches, accum=4):
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net.train()
    for i, (x, y) in enumerate(batches):
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss = loss / accum
        engine.backward(loss)
        if (i + 1) % accum == 0:
            opt.step()
            opt.zero_grad()
