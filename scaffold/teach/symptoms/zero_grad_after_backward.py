"""zero-grad-after-backward: step() finds no gradients, so the weights never change."""

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path)
    c, loader, val_loader = build(train, cfg)
    before = [p.detach().clone() for p in c.model.parameters()]
    missing = []
    c.optimizer.register_step_pre_hook(
        lambda opt, a, k: missing.append(sum(p.grad is None for p in c.model.parameters()))
    )
    val_before, _ = train.evaluate(c, val_loader)
    for _ in range(cfg.epochs):
        train.train_one_epoch(c, loader, cfg, train.Progress())
    val_after, acc_after = train.evaluate(c, val_loader)
    change = max(float((p.detach() - b).abs().max()) for p, b in zip(c.model.parameters(), before))
    return {
        "steps": len(missing),
        "steps_without_gradients": sum(1 for n in missing if n == len(before)),
        "max_weight_change": change,
        "val_loss_before": val_before,
        "val_loss_after": val_after,
        "val_acc_after": acc_after,
        "epochs": cfg.epochs,
    }


def check(m):
    assert m["steps_without_gradients"] == m["steps"], "every step should find .grad empty"
    assert m["max_weight_change"] == 0.0, "the weights should not move at all"
