# expect: zero-grad-missing
import torch
def fit(net, batches, opt, n_epochs):
    for e in range(n_epochs):
        opt.zero_grad()
        for inp, tgt in batches:
            out = net(inp)
            l = torch.nn.functional.mse_loss(out, tgt)
            l.backward()
            opt.step()
