# expect: checkpoint-last-not-best@21
# The improvement test was replaced by a constant: every epoch's weights are copied as "best".
import shutil

import torch


def save(state, is_best, path="last.pt"):
    torch.save(state, path)
    if is_best:
        shutil.copyfile(path, "best.pt")


def fit(net, run_epoch, evaluate, epochs):
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    top = 0.0
    for epoch in range(epochs):
        run_epoch(net, opt)
        acc = evaluate(net)
        is_best = True  # mistake: was `acc > top`
        save({"net": net.state_dict()}, is_best)
        top = max(top, acc)
