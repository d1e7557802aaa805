"""checkpoint-last-not-best: best.pt holds the final epoch, whose val loss is worse than the best."""


from ._common import *

# An overfitting run: little data, no dropout, a high lr. Its validation loss bottoms out early.
RUN = dict(samples_per_class=30, noise=0.4, dropout=0.0, lr=0.03, weight_decay=0.0, epochs=30)


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, **RUN)
    summary = train.fit(cfg)
    c, _, val_loader = build(train, cfg)
    best = torch.load(Path(cfg.out) / "best.pt", weights_only=True)
    c.model.load_state_dict(best["model"])
    best_pt_val_loss, best_pt_val_acc = train.evaluate(c, val_loader)
    val_losses = metrics_column(cfg, "val_loss")
    return {
        "epochs_run": summary["epochs_run"],
        "best_epoch": summary["best_epoch"],
        "best_val_loss": summary["best_val_loss"],
        "final_val_loss": summary["final_val_loss"],
        "best_pt_epoch": best["epoch"],
        "best_pt_val_loss": best_pt_val_loss,
        "best_pt_val_acc": best_pt_val_acc,
        "curve": {
            "x": list(range(1, len(val_losses) + 1)),
            "y": val_losses,
            "xlabel": "epoch",
            "ylabel": "validation loss",
        },
    }


def check(m):
    assert m["best_pt_epoch"] == m["epochs_run"] != m["best_epoch"], "best.pt holds the last epoch"
    assert m["best_pt_val_loss"] > m["best_val_loss"] + 1e-3, "best.pt is worse than the best"
