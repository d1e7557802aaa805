"""missing-train-mode: after the first validation, training batches run in eval mode."""

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, epochs=4, samples_per_class=60)
    c, loader, val_loader = build(train, cfg)
    modes = []  # for every training forward (autograd on): was the model in train mode?
    c.model.register_forward_hook(
        lambda m, a, out: modes.append(m.training) if torch.is_grad_enabled() else None
    )
    per_epoch = []
    for _ in range(cfg.epochs):
        start = len(modes)
        train.train_one_epoch(c, loader, cfg, train.Progress())
        train.evaluate(c, val_loader)
        epoch_modes = modes[start:]
        per_epoch.append(sum(1 for t in epoch_modes if not t) / len(epoch_modes))
    return {
        "training_batches": len(modes),
        "training_batches_in_eval_mode": sum(1 for t in modes if not t),
        "eval_mode_share_by_epoch": per_epoch,
        "epochs": cfg.epochs,
        "dropout": cfg.dropout,
    }


def check(m):
    assert m["eval_mode_share_by_epoch"][0] == 0.0, "the first epoch still trains in train mode"
    assert all(s == 1.0 for s in m["eval_mode_share_by_epoch"][1:]), "later epochs run in eval mode"
