"""ddp-accumulation-without-no-sync: with accum_steps=4 under 2 processes, every micro-batch's
backward() all-reduces the gradients, not only the one that ends the window; the update is the
same, the communication is up to 4 times larger."""

from ._common import *
from ._ddp import *


def measure(train, tmp_path):
    flags = ["--epochs", 2, "--samples-per-class", 300, "--batch-size", 16, "--hidden", 512]
    job = run_job(train.__file__, tmp_path, 2, flags, "two")
    rank0 = job["ranks"][0]
    return {
        "processes": 2,
        "accum_steps": 4,
        "optimizer_steps": rank0["steps"],
        "gradient_bucket_allreduces": rank0["allreduces"],
        "synced_backwards": rank0["synced_backwards"],
        "allreduces_per_optimizer_step": rank0["synced_backwards"] / rank0["steps"],
        "samples_per_s": job["summary"]["samples_per_s"],
        "wall_s_main": rank0["wall_s"],
    }


def check(m):
    assert m["allreduces_per_optimizer_step"] > 1.5, m["allreduces_per_optimizer_step"]
