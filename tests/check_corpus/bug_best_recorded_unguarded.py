# expect: checkpoint-last-not-best@15
# The "best" metric is overwritten every epoch and the model saved with it: no comparison.
import torch


def fit(net, run_epoch, evaluate, epochs, out):
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    best_loss = None
    for epoch in range(epochs):
        run_epoch(net, opt)
        val = evaluate(net)
        # mistake: `if best_loss is None or val < best_loss:` was dropped
        best_loss = val
        with open(out, "wb") as f:
            torch.save(net.state_dict(), f)
    return best_loss
