# expect: zero-grad-missing@8
# The optimizer comes from the model's own factory; its gradients are never cleared.
import torch


def fit(net, batches):
    upd = net.configure_optimizers(weight_decay=0.1, learning_rate=3e-4)
    for x, y in batches:
        logits, loss = net(x, y)
        loss.backward()
        upd.step()
