# expect: missing-train-mode@8
# Evaluation runs every `every` iterations and leaves the model in eval for the rest of training.
import torch


@torch.no_grad()
def estimate(model, sample):
    model.eval()  # mistake: model.train() is never called again
    return model(*sample()).item()


def fit(model, sample, iters=1000, every=100):
    opt = torch.optim.AdamW(model.parameters())
    model.train()
    it = 0
    while it < iters:
        if it % every == 0:
            print(it, estimate(model, sample))
        x, y = sample()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        it += 1
