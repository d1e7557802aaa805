"""ddp-scheduler-per-process: 2 processes run through the lr schedule twice as fast as one
process with twice the batch; at world size 1 the same train.py is right."""

from ._common import *
from ._ddp import *

EPOCHS = 6


def lr_by_epoch(job) -> list:
    """The lr of the first optimizer step of every epoch (rank 0)."""
    lrs = job["ranks"][0]["lrs"]
    per_epoch = len(lrs) // EPOCHS
    return [lrs[e * per_epoch] for e in range(EPOCHS)]


def measure(train, tmp_path):
    flags = ["--epochs", EPOCHS, "--samples-per-class", 100]
    one = run_job(train.__file__, tmp_path, 1, [*flags, "--batch-size", 32], "one")
    two = run_job(train.__file__, tmp_path, 2, [*flags, "--batch-size", 16], "two")
    lr_one, lr_two = lr_by_epoch(one), lr_by_epoch(two)
    return {
        "processes": 2,
        "epochs": EPOCHS,
        "optimizer_steps_one_process": one["ranks"][0]["steps"],
        "optimizer_steps_two_processes": two["ranks"][0]["steps"],
        "lr_by_epoch_one_process": lr_one,
        "lr_by_epoch_two_processes": lr_two,
        "max_relative_lr_gap": max(relative_gap(a, b) for a, b in zip(lr_two, lr_one)),
        "curve": {
            "x": list(range(1, EPOCHS + 1)),
            "y": lr_two,
            "xlabel": "epoch",
            "ylabel": "lr at the epoch's first optimizer step, 2 processes",
        },
    }


def check(m):
    assert m["optimizer_steps_one_process"] == m["optimizer_steps_two_processes"]
    assert m["max_relative_lr_gap"] > 0.05, m["max_relative_lr_gap"]
