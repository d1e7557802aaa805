# expect: clean
# A sibling module that a training script imports its evaluation from.
import torch


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    return sum(torch.nn.functional.cross_entropy(model(x), y).item() for x, y in loader)
