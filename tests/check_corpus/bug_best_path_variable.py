# expect: checkpoint-last-not-best@19
# The path says best, but it is held in a variable, and the save runs every epoch.
import os

import torch


def fit(net, run_epoch, evaluate, epochs, folder):
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    last, best = os.path.join(folder, "last.pt"), os.path.join(folder, "best.pt")
    top = float("inf")
    for epoch in range(epochs):
        run_epoch(net, opt)
        score = evaluate(net)
        top = min(top, score)
        state = {"net": net.state_dict(), "epoch": epoch}
        torch.save(state, last)
        # mistake: no `if score == top:`
        torch.save(state, best)
