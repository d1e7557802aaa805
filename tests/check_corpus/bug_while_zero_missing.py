# expect: zero-grad-missing@12
# Iteration-based loop over an iterator: the gradients are never reset.
import torch
import torch.nn.functional as F


def train(model, loader, max_iters):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    it = iter(loader)
    n = 0
    model.train()
    while n < max_iters:  # mistake
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        n += 1
