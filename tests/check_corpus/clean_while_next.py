# expect: clean
# Iteration-based training with a while loop over an iterator and a warmup LambdaLR per step.
import itertools

import torch
import torch.nn.functional as F


def make_warmup(optimizer, warmup_steps):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup_steps))


def train(model, loader, max_steps=10_000, eval_every=500, val_loader=None):
    optimizer = torch.optim.AdamW(model.parameters(), lr=6e-4, betas=(0.9, 0.95))
    lr_sched = make_warmup(optimizer, 200)
    data_iter = iter(itertools.cycle(loader))
    step = 0
    model.train()
    while step < max_steps:
        tokens, targets = next(data_iter)
        logits = model(tokens)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        lr_sched.step()
        step += 1
        if step % eval_every == 0 and val_loader is not None:
            model.eval()
            with torch.no_grad():
                val = sum(F.cross_entropy(model(t).flatten(0, 1), g.flatten()).item() for t, g in val_loader)
            model.train()
            print(step, val)
