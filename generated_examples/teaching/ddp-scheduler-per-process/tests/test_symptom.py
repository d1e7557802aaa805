"""Symptom test for `ddp-scheduler-per-process`: the scheduler stepped once per process for each optimizer step.

ddp-scheduler-per-process: 2 processes run through the lr schedule twice as fast as one
process with twice the batch; at world size 1 the same train.py is right.

test_symptom measures ../train.py (the loop with the mistake) and passes when the symptom shows.
test_correct_loop_does_not_show_it runs the same measurement on ../correct_train.py and expects
the same check to fail there. Run `pytest tests/` in this folder; set
SCAFFOLD_TEACH_TARGET=correct_train.py to point test_symptom at the correct loop (it then fails).
"""

from __future__ import annotations

import json
import os

import pytest

import copy
import dataclasses
import importlib.util
import math
import sys
import uuid
from pathlib import Path

import torch


def load_loop(path: Path):
    """Import a train.py file as a fresh module (train.py and correct_train.py side by side).

    train.py imports config.py, data.py, model.py and tracking.py from its own folder: that folder goes first on
    sys.path, and copies another folder's loop imported before are forgotten.
    """
    folder = str(Path(path).resolve().parent)
    for module in ("config", "data", "model", "tracking"):
        loaded = sys.modules.get(module)
        if loaded is not None and str(Path(getattr(loaded, "__file__", "") or "").parent) != folder:
            del sys.modules[module]
    if folder in sys.path:  # first on the path: its own config.py, not another folder's
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    name = f"loop_{Path(path).stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def metrics_column(cfg, name: str) -> list[float]:
    """One column of the run's metrics.csv, found by its header name."""
    header, *rows = (Path(cfg.out) / "metrics.csv").read_text().splitlines()
    at = header.split(",").index(name)
    return [float(row.split(",")[at]) for row in rows]


def make_config(train, tmp_path: Path, **overrides):
    """A small CPU config; fields the loop does not have are ignored."""
    values = dict(
        out=str(Path(tmp_path) / f"runs-{uuid.uuid4().hex[:6]}"),
        epochs=3,
        batch_size=32,
        device="cpu",
        progress=False,
        samples_per_class=100,
    )
    values.update(overrides)
    names = {f.name for f in dataclasses.fields(train.Config)}
    return train.Config(**{k: v for k, v in values.items() if k in names})


def build(train, cfg):
    """Seed, then build loaders and components the way fit() does."""
    train.seed_everything(cfg.seed, cfg.deterministic)
    device = torch.device("cpu")
    train_loader, val_loader, info = train.build_loaders(cfg, device)
    steps_per_epoch = math.ceil(len(train_loader) / getattr(cfg, "accum_steps", 1))
    c = train.build_components(cfg, info, steps_per_epoch, device)
    return c, train_loader, val_loader


def global_norm(tensors) -> float:
    """The global L2 norm of a list of gradients (None counts as absent)."""
    grads = [g.detach().double() for g in tensors if g is not None]
    return math.sqrt(sum(float((g * g).sum()) for g in grads)) if grads else 0.0


def record_step_grad_norms(c) -> list:
    """Record, at every optimizer.step(), the global norm of the gradients it is about to apply."""
    norms: list = []

    def hook(optimizer, args, kwargs):
        # Under GradScaler a fused optimizer gets its gradients still scaled, with the scale
        # (`grad_scale`, None once unscale_ ran) and `found_inf` set: its kernel unscales them, or
        # skips the step, itself. An unfused one is called only with finite, unscaled gradients.
        found_inf = getattr(optimizer, "found_inf", None)
        if found_inf is not None and found_inf.item() > 0:
            return  # skipped, as GradScaler skips an unfused optimizer's step()
        scale = getattr(optimizer, "grad_scale", None)
        norm = global_norm([p.grad for g in optimizer.param_groups for p in g["params"]])
        norms.append(norm / scale.item() if scale is not None else norm)

    c.optimizer.register_step_pre_hook(hook)
    return norms


def clone_model(model, state):
    """A copy of `model` holding `state` (for recomputing gradients outside the loop)."""
    twin = copy.deepcopy(model)
    twin.load_state_dict(state)
    return twin


def fresh_gradient(model, state, x, y, dtype=torch.float64) -> list:
    """The gradient of the mean cross-entropy of (x, y) at the weights `state`, in float64."""
    twin = clone_model(model, state).to(dtype)
    twin.train()
    loss = torch.nn.functional.cross_entropy(twin(x.to(dtype)), y)
    return list(torch.autograd.grad(loss, list(twin.parameters())))


def flat(grads) -> torch.Tensor:
    return torch.cat([g.detach().reshape(-1).double() for g in grads])


DDP_TIMEOUT = 300  # seconds before a job counts as hung and the measurement fails

# One process of the job: it imports the lesson's train.py, wraps a few of its functions to
# record what happened, and runs train.main() as `torchrun` would (RANK etc. come from the
# environment). At world size 1 no process group is joined.
DDP_WORKER = r"""
import importlib.util, json, os, sys, time
from pathlib import Path

import torch
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
from torch.nn.parallel import DistributedDataParallel

path, record = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(path.parent))
spec = importlib.util.spec_from_file_location("train", path)
train = importlib.util.module_from_spec(spec)
sys.modules["train"] = train
spec.loader.exec_module(train)
report = {"orders": [], "lrs": [], "steps": 0, "allreduces": 0, "synced_backwards": 0}
report.update(val_counted=0, val_size=0)

real_iter = train.ShardedBatches.__iter__


def iterate(self):
    order = []
    report["orders"].append(order)
    for batch in real_iter(self):
        order.extend(int(i) for i in batch)
        yield batch


train.ShardedBatches.__iter__ = iterate
real_shard = train.shard_val


def shard_val(dataset):
    part = real_shard(dataset)
    report["val_counted"], report["val_size"] = len(part), len(dataset)
    return part


train.shard_val = shard_val
real_components = train.build_components


def build_components(*args, **kwargs):
    c = real_components(*args, **kwargs)

    def before_step(optimizer, args, kwargs):
        report["steps"] += 1
        report["lrs"].append(optimizer.param_groups[0]["lr"])

    c.optimizer.register_step_pre_hook(before_step)
    if isinstance(c.net, DistributedDataParallel):

        def hook(state, bucket):
            report["allreduces"] += 1  # one per gradient bucket
            report["synced_backwards"] += bucket.index() == 0  # one per backward that syncs
            return allreduce_hook(state, bucket)

        c.net.register_comm_hook(None, hook)
    return c


train.build_components = build_components
start = time.perf_counter()
code = train.main(sys.argv[3:])
report["wall_s"] = time.perf_counter() - start
rank = os.environ.get("RANK", "0")
(record / f"rank{rank}.json").write_text(json.dumps(report))
sys.exit(code)
"""


def run_job(train_path, tmp_path, world: int, flags: list, name: str) -> dict:
    """Run train.py as `world` processes (gloo); returns rank 0's summary.json and every rank's
    record. A job still running after DDP_TIMEOUT seconds is killed and fails the measurement."""
    import json
    import os
    import socket
    import subprocess
    import time

    folder = Path(tmp_path) / name
    record = folder / "record"
    record.mkdir(parents=True)
    worker = folder / "ddp_worker.py"
    worker.write_text(DDP_WORKER)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = folder / "run"
    command = [sys.executable, str(worker), str(Path(train_path).resolve()), str(record)]
    command += ["--device", "cpu", "--out", str(out), "--no-progress", *map(str, flags)]
    base = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    base.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    procs = []
    for rank in range(world):
        env = dict(base)
        if world > 1:
            env.update(
                RANK=str(rank),
                LOCAL_RANK=str(rank),
                WORLD_SIZE=str(world),
                LOCAL_WORLD_SIZE=str(world),
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=str(port),
            )
        procs.append(
            subprocess.Popen(
                command,
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + DDP_TIMEOUT
    try:
        done = [p.communicate(timeout=max(1.0, deadline - time.monotonic())) for p in procs]
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
            proc.communicate()
        raise AssertionError(
            f"{name}: {world} processes still running after {DDP_TIMEOUT}s"
        ) from None
    for proc, (_, err) in zip(procs, done):
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: a rank exited {proc.returncode}:\n{err[-2000:]}")
    ranks = [json.loads((record / f"rank{r}.json").read_text()) for r in range(world)]
    summary = json.loads((out / "summary.json").read_text())
    return {"summary": summary, "ranks": ranks}


def relative_gap(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


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


BUG_ID = "ddp-scheduler-per-process"
FOLDER = Path(__file__).resolve().parents[1]
TARGET = os.environ.get("SCAFFOLD_TEACH_TARGET", "train.py")


def _report(name: str, numbers: dict) -> None:
    """Print the numbers; with SCAFFOLD_TEACH_REPORT=DIR also write them as JSON (for the lesson)."""
    print(name, json.dumps(numbers, sort_keys=True))
    folder = os.environ.get("SCAFFOLD_TEACH_REPORT")
    if folder:
        path = Path(folder) / f"{BUG_ID}.{name}.json"
        path.write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\n")


def test_symptom(tmp_path):
    """The mistake in train.py shows up, in numbers."""
    numbers = measure(load_loop(FOLDER / TARGET), tmp_path)
    _report("variant" if TARGET == "train.py" else Path(TARGET).stem, numbers)
    check(numbers)


def test_correct_loop_does_not_show_it(tmp_path):
    """The same measurement on the correct loop does not pass the same check."""
    numbers = measure(load_loop(FOLDER / "correct_train.py"), tmp_path)
    _report("correct", numbers)
    with pytest.raises(AssertionError):
        check(numbers)
