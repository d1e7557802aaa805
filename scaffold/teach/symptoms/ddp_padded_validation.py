"""ddp-padded-validation: with a validation split that does not divide by 2 processes, the
padding sampler counts one sample twice, and val_loss and val_acc differ from one process's."""

from ._common import *
from ._ddp import *


def odd_size(train, tmp_path) -> int:
    """A samples_per_class whose validation split is odd (so 2 processes need padding)."""
    for per_class in range(100, 140):
        cfg = make_config(train, tmp_path, samples_per_class=per_class)
        _, val_set, _ = train.build_datasets(cfg)
        if len(val_set) % 2 == 1:
            return per_class
    raise AssertionError("no odd validation split between 100 and 139 samples per class")


def measure(train, tmp_path):
    per_class = odd_size(train, tmp_path)
    flags = ["--epochs", 2, "--samples-per-class", per_class, "--dropout", 0]
    one = run_job(train.__file__, tmp_path, 1, [*flags, "--batch-size", 32], "one")
    two = run_job(train.__file__, tmp_path, 2, [*flags, "--batch-size", 16], "two")
    exact, sharded = one["summary"], two["summary"]
    return {
        "processes": 2,
        "val_size": two["ranks"][0]["val_size"],
        "val_counted_per_rank": [rank["val_counted"] for rank in two["ranks"]],
        "val_counted_total": sum(rank["val_counted"] for rank in two["ranks"]),
        "final_val_loss_one_process": exact["final_val_loss"],
        "final_val_loss_two_processes": sharded["final_val_loss"],
        "final_val_acc_one_process": exact["final_val_acc"],
        "final_val_acc_two_processes": sharded["final_val_acc"],
        "val_loss_relative_gap": relative_gap(sharded["final_val_loss"], exact["final_val_loss"]),
    }


def check(m):
    assert m["val_counted_total"] > m["val_size"], (m["val_counted_total"], m["val_size"])
    assert m["val_loss_relative_gap"] > 1e-5, m["val_loss_relative_gap"]
