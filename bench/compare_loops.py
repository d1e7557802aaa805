"""Samples/s of a task's generated loop vs a plain hand-written loop (and Lightning, if installed).

    OMP_NUM_THREADS=1 python bench/compare_loops.py [--task tabular] [--epochs 3] [--reps 7]
    OMP_NUM_THREADS=1 python bench/compare_loops.py --task tabular image lm   # each, in one run
    OMP_NUM_THREADS=1 python bench/compare_loops.py --task image --set samples_per_class=200

The generated loop is imported from a project rendered into a temp dir with `--set task=TASK`
(every other answer at its default), and driven by its own `train_one_epoch` (progress off). The
plain loop trains the same model (model.py) on the same data (data.py) and loader, with the same
loss and clipping, and builds its optimizer as a hand-written loop does: the same class and
hyperparameters, torch's default implementation (on CPU, one tensor at a time; the generated
project asks for the fused kernel). A third loop, `plain+opt`, is the plain loop stepping the
generated project's own optimizer: the generated loop against it is the cost of the loop's
bookkeeping alone. Each rate is reported twice: by the wall clock, and by this process's CPU time,
which other processes on a shared machine disturb much less. Repetitions are interleaved, in an order that alternates
(generated, plain, lightning, then lightning, plain, generated, ...), so that a change of load on a
shared machine, or warm caches, fall on every loop alike. Reported: each loop's median samples/s
with its range, and the median of the per-repetition ratios to the plain loop (each ratio taken
from two runs seconds apart) with its interquartile spread. With several tasks each runs in its
own process (their train.py, config.py, data.py and model.py share module names), one after the
other.

    --profile N   also runs N steps of each loop under torch.profiler and prints the operators
                  each one calls per step: what the generated loop does beyond the plain one.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


TASKS = ("tabular", "image", "lm")
# Config fields set for each task's workload unless --set gives them (others keep their defaults).
WORKLOAD = {"tabular": {"samples_per_class": 4000}, "image": {}, "lm": {}}


def render_task(dest: Path, task: str):
    sys.path.insert(0, str(ROOT))
    from scaffold.options import resolve_answers
    from scaffold.render import render_in_memory

    for rel, text in render_in_memory(resolve_answers({"task": task})).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    sys.path.insert(0, str(dest))
    return importlib.import_module("train")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", nargs="+", choices=TASKS, default=["tabular"])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed repetition")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile N steps of each loop"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a Config field of the workload (e.g. samples_per_class=4000); repeatable",
    )
    args = parser.parse_args(argv)
    if len(args.task) > 1:
        others = [arg for arg in (argv if argv is not None else sys.argv[1:])]
        at = others.index("--task")
        rest = others[:at] + [a for a in others[at + 1 :] if a not in TASKS]
        codes = []
        for task in args.task:
            print(f"== task {task}", flush=True)
            command = [sys.executable, __file__, "--task", task, *rest]
            codes.append(subprocess.run(command).returncode)
        return max(codes)
    (task,) = args.task

    import torch

    tmp = Path(tempfile.mkdtemp())
    train = render_task(tmp, task)
    kinds = {f.name: f.type for f in dataclasses.fields(train.Config)}
    workload = dict(WORKLOAD[task])
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in kinds:
            parser.error(f"--set {item}: the {task} project's Config has no field {name!r}")
        workload[name] = {"int": int, "float": float, "bool": lambda v: v == "True"}.get(
            kinds[name], str
        )(value)
    cfg = train.Config(device="cpu", progress=False, out=str(tmp / "runs"), **workload)
    device = torch.device("cpu")

    def setup():
        train.seed_everything(cfg.seed, cfg.deterministic)
        loader, _, info = train.build_loaders(cfg, device)
        c = train.build_components(cfg, info, len(loader), device)
        return c, loader

    def timed(epoch, c, loader):
        """Samples/s of `args.epochs` epochs: (wall clock, this process's CPU time)."""
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.epochs):
            epoch(c, loader)
        samples = args.epochs * len(loader.dataset)
        return samples / (time.perf_counter() - start), samples / (time.process_time() - cpu)

    def generated():
        c, loader = setup()
        progress = train.Progress()
        return timed(lambda c, loader: train.train_one_epoch(c, loader, cfg, progress), c, loader)

    def plain_epoch(c, loader, max_batches=0, opt=None):
        """The loop a competent user writes by hand: the same steps, no bookkeeping."""
        model, crit = c.model, c.criterion
        opt = opt or c.optimizer
        model.train()
        for i, (x, y) in enumerate(loader):
            if i == max_batches and max_batches:
                break
            opt.zero_grad(set_to_none=True)
            loss = crit(model(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()

    def plain():
        c, loader = setup()
        opt = hand_written_optimizer(c.optimizer)
        return timed(lambda c, loader: plain_epoch(c, loader, opt=opt), c, loader)

    def plain_same_optimizer():
        c, loader = setup()
        return timed(plain_epoch, c, loader)

    runners = {"generated": generated, "plain": plain, "plain+opt": plain_same_optimizer}
    try:
        import lightning.pytorch as pl  # noqa: F401

        runners["lightning"] = make_lightning(train, cfg, setup, args.epochs)
    except ImportError:
        print("lightning is not installed: skipping the Lightning Trainer (pip install lightning)")

    if args.profile:
        profile_steps(
            {
                "generated": lambda c, loader: train.train_one_epoch(
                    c, loader, cfg, train.Progress(), max_batches=args.profile
                ),
                "plain": lambda c, loader: plain_epoch(
                    c, loader, max_batches=args.profile, opt=hand_written_optimizer(c.optimizer)
                ),
            },
            setup,
            args.profile,
        )

    results = {name: [] for name in runners}
    cpu_results = {name: [] for name in runners}
    for name in runners:  # warm-up, not timed
        runners[name]()
    load_before = os.getloadavg()[0]
    names = list(runners)
    for rep in range(args.reps):
        for name in names if rep % 2 == 0 else names[::-1]:  # ABBA: drifts hit both alike
            wall, cpu = runners[name]()
            results[name].append(wall)
            cpu_results[name].append(cpu)
    load_after = os.getloadavg()[0]
    print(
        f"date {dt.date.today()}  machine {platform.machine()} {platform.processor() or ''}".rstrip()
    )
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, epochs/rep {args.epochs}, reps {args.reps}"
    )
    shown = ", ".join(f"{k}={v}" for k, v in workload.items()) or "Config defaults"
    print(
        f"task {task}: {shown}; {len(setup()[1].dataset)} training samples, batch {cfg.batch_size}"
    )
    print(f"load average {load_before:.2f} before the timed repetitions, {load_after:.2f} after")
    print(
        "plain = a hand-written loop with its own optimizer (same class and hyperparameters, "
        "torch's default implementation); plain+opt = the same loop stepping the generated "
        "project's optimizer (isolates the loop's own bookkeeping)"
    )
    for clock, table in (("wall clock", results), ("CPU time of this process", cpu_results)):
        print(f"{clock}:")
        for name, values in table.items():
            spread = f"{min(values):.0f}-{max(values):.0f}"
            pairs = [a / b for a, b in zip(values, table["plain"], strict=True)]
            q1, _, q3 = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else (pairs[0],) * 3
            print(
                f"  {name:10s} median {statistics.median(values):9.0f} samples/s  "
                f"(range {spread})  ratio to plain {statistics.median(pairs):.3f} "
                f"(per-rep ratios, IQR {q1:.3f}-{q3:.3f})"
            )
    return 0


IMPLEMENTATION_CHOICES = ("fused", "foreach", "capturable", "differentiable")


def hand_written_optimizer(generated):
    """What a hand-written loop builds: the generated optimizer's class and hyperparameters,
    with torch's default implementation (the loop's author picks no fused or foreach kernel)."""
    import inspect

    accepted = inspect.signature(type(generated)).parameters  # AdamW has defaults it won't take
    hyper = {
        k: v
        for k, v in generated.defaults.items()
        if k in accepted and k not in IMPLEMENTATION_CHOICES
    }
    return type(generated)(generated.param_groups[0]["params"], **hyper)


def profile_steps(loops, setup, steps: int) -> None:
    """Run `steps` steps of each loop under torch.profiler; print the operators per step.

    Both loops share the model, data and optimizer, so an operator one calls more often than the
    other is the bookkeeping that loop adds (or a step it skips).
    """
    from torch.profiler import ProfilerActivity, profile

    counts, self_us = {}, {}
    for name, run in loops.items():
        c, loader = setup()
        run(c, loader)  # warm-up: optimizer state, allocator
        c, loader = setup()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            run(c, loader)
        events = prof.key_averages()
        counts[name] = {e.key: e.count / steps for e in events if e.key.startswith("aten::")}
        self_us[name] = sum(e.self_cpu_time_total for e in events) / steps
    print(f"torch.profiler, {steps} steps of each loop (per step):")
    for name in loops:
        total = sum(counts[name].values())
        print(f"  {name:10s} {total:7.1f} aten calls, {self_us[name] / 1000:8.2f} ms CPU")
    diff = {
        op: counts["generated"].get(op, 0) - counts["plain"].get(op, 0)
        for op in counts["generated"].keys() | counts["plain"].keys()
    }
    extra = sorted((op for op in diff if abs(diff[op]) > 1e-9), key=lambda op: -abs(diff[op]))
    print(
        "  generated - plain, calls per step: "
        + (", ".join(f"{op} {diff[op]:+.2f}" for op in extra[:16]) or "none")
    )


def make_lightning(train, cfg, setup, epochs):
    import lightning.pytorch as pl
    import torch

    class Module(pl.LightningModule):
        def __init__(self, c):
            super().__init__()
            self.model, self.crit = c.model, c.criterion
            self.opt = hand_written_optimizer(c.optimizer)

        def training_step(self, batch, _):
            x, y = batch
            return self.crit(self.model(x), y)

        def configure_optimizers(self):
            return self.opt

    def run():
        c, loader = setup()
        trainer = pl.Trainer(
            max_epochs=epochs,
            accelerator="cpu",
            gradient_clip_val=cfg.grad_clip,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        start, cpu = time.perf_counter(), time.process_time()
        trainer.fit(Module(c), loader)
        samples = epochs * len(loader.dataset)
        return samples / (time.perf_counter() - start), samples / (time.process_time() - cpu)

    del torch
    return run


if __name__ == "__main__":
    sys.exit(main())
