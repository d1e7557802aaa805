"""validate-on-train-split: the reported accuracy is the training accuracy, above held-out."""

from ._common import *

RUN = dict(samples_per_class=30, noise=0.4, dropout=0.0, lr=0.03, weight_decay=0.0, epochs=30)


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, **RUN)
    summary = train.fit(cfg)
    c, train_loader, val_loader = build(train, cfg)
    last = torch.load(Path(cfg.out) / "last.pt", weights_only=True)
    c.model.load_state_dict(last["model"])
    heldout_loss, heldout_acc = train.evaluate(c, val_loader)
    train_loss, train_acc = train.evaluate(c, train_loader)
    return {
        "reported_val_acc": summary["final_val_acc"],
        "reported_val_loss": summary["final_val_loss"],
        "heldout_acc": heldout_acc,
        "heldout_loss": heldout_loss,
        "train_acc": train_acc,
        "acc_overestimate": summary["final_val_acc"] - heldout_acc,
    }


def check(m):
    assert m["acc_overestimate"] > 0.02, "the reported accuracy overestimates held-out accuracy"
    assert abs(m["reported_val_acc"] - m["train_acc"]) < 1e-6, "it is the training accuracy"
