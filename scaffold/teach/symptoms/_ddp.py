"""Shared by the DDP mistakes: run a lesson's train.py as a 2-process gloo job (CPU) and record
what each rank did: the batch order of every epoch, the lr at every optimizer step, how many
validation samples it counted, how many gradient all-reduces ran (per bucket, and per backward
pass), and the wall time."""

from ._common import *

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
        raise AssertionError(f"{name}: {world} processes still running after {DDP_TIMEOUT}s") from None
    for proc, (_, err) in zip(procs, done):
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: a rank exited {proc.returncode}:\n{err[-2000:]}")
    ranks = [json.loads((record / f"rank{r}.json").read_text()) for r in range(world)]
    summary = json.loads((out / "summary.json").read_text())
    return {"summary": summary, "ranks": ranks}


def relative_gap(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)
