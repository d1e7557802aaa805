"""ddp-missing-set-epoch: under 2 processes every epoch visits the training samples in the same
order, the first epoch's, on every rank."""

from ._common import *
from ._ddp import *

EPOCHS = 4


def measure(train, tmp_path):
    flags = ["--epochs", EPOCHS, "--samples-per-class", 100, "--batch-size", 16]
    job = run_job(train.__file__, tmp_path, 2, flags, "two")
    orders = [rank["orders"] for rank in job["ranks"]]
    return {
        "processes": 2,
        "epochs": EPOCHS,
        "distinct_epoch_orders_per_rank": [len({tuple(o) for o in rank}) for rank in orders],
        "epochs_in_epoch_1_order_per_rank": [sum(o == rank[0] for o in rank) for rank in orders],
        "first_samples_by_epoch_rank0": [o[:6] for o in orders[0]],
    }


def check(m):
    assert m["distinct_epoch_orders_per_rank"] == [1, 1], m["distinct_epoch_orders_per_rank"]
