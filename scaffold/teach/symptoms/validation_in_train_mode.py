"""validation-in-train-mode: the same weights give a different val loss on every call,
and validation data moves batchnorm's running statistics."""

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, batchnorm=True, dropout=0.1)
    c, loader, val_loader = build(train, cfg)
    for _ in range(2):
        train.train_one_epoch(c, loader, cfg, train.Progress())
    bn = [m for m in c.model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    stats = [m.running_mean.clone() for m in bn]
    weights = [p.detach().clone() for p in c.model.parameters()]
    losses = [train.evaluate(c, val_loader)[0] for _ in range(5)]
    drift = max(float((m.running_mean - s).abs().max()) for m, s in zip(bn, stats))
    unchanged = all(torch.equal(p, w) for p, w in zip(c.model.parameters(), weights))
    return {
        "val_losses_same_weights": losses,
        "val_loss_spread": max(losses) - min(losses),
        "batchnorm_running_mean_drift": drift,
        "weights_unchanged": unchanged,
    }


def check(m):
    assert m["weights_unchanged"]
    assert m["val_loss_spread"] > 1e-4, "dropout makes repeated validation disagree"
    assert m["batchnorm_running_mean_drift"] > 0.0, "validation batches update batchnorm"
