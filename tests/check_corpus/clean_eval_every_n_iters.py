# expect: clean
# The same periodic evaluation, restoring train mode before it returns.
import torch


@torch.no_grad()
def estimate(model, sample):
    model.eval()
    value = model(*sample()).item()
    model.train()
    return value


def fit(model, sample, iters=1000, every=100):
    opt = torch.optim.AdamW(model.parameters())
    model.train()
    for it in range(iters):
        if it % every == 0:
            print(it, estimate(model, sample))
        x, y = sample()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
