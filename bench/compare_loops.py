"""Samples/s of a task's generated loop vs a plain hand-written loop (and Lightning, if installed).

    OMP_NUM_THREADS=1 python bench/compare_loops.py [--task tabular] [--epochs 3] [--reps 7]
    OMP_NUM_THREADS=1 python bench/compare_loops.py --task tabular image lm   # each, in one run
    OMP_NUM_THREADS=1 python bench/compare_loops.py --task image --set samples_per_class=200

The generated loop is imported from a project rendered into a temp dir with `--set task=TASK`
(every other answer at its default), and driven by its own `train_one_epoch` (progress off). The
plain loop trains the same model (model.py) on the same data (data.py) and loader, with the same
optimizer, loss and clipping. Repetitions are interleaved (generated, plain, lightning,
generated, ...) with the same thread settings, and medians are reported. With several tasks each
runs in its own process (their train.py, data.py and model.py share module names), one after
the other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
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
    kinds = {f.name: f.type for f in train.fields(train.Config)}
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

    def generated():
        c, loader = setup()
        progress = train.Progress()
        start = time.perf_counter()
        for _ in range(args.epochs):
            train.train_one_epoch(c, loader, cfg, progress)
        return args.epochs * len(loader.dataset) / (time.perf_counter() - start)

    def plain():
        c, loader = setup()
        model, opt, crit = c.model, c.optimizer, c.criterion
        start = time.perf_counter()
        for _ in range(args.epochs):
            model.train()
            for x, y in loader:
                opt.zero_grad(set_to_none=True)
                loss = crit(model(x), y)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                opt.step()
        return args.epochs * len(loader.dataset) / (time.perf_counter() - start)

    runners = {"generated": generated, "plain": plain}
    try:
        import lightning.pytorch as pl  # noqa: F401

        runners["lightning"] = make_lightning(train, cfg, setup, args.epochs)
    except ImportError:
        print("lightning is not installed: skipping the Lightning Trainer (pip install lightning)")

    results = {name: [] for name in runners}
    for name in runners:  # warm-up, not timed
        runners[name]()
    for _ in range(args.reps):
        for name, fn in runners.items():
            results[name].append(fn())
    med = {name: statistics.median(v) for name, v in results.items()}
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
    for name, value in med.items():
        spread = f"{min(results[name]):.0f}-{max(results[name]):.0f}"
        print(
            f"{name:10s} median {value:9.0f} samples/s  (range {spread})  ratio to plain {value / med['plain']:.3f}"
        )
    return 0


def make_lightning(train, cfg, setup, epochs):
    import lightning.pytorch as pl
    import torch

    class Module(pl.LightningModule):
        def __init__(self, c):
            super().__init__()
            self.model, self.crit, self.opt = c.model, c.criterion, c.optimizer

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
        start = time.perf_counter()
        trainer.fit(Module(c), loader)
        return epochs * len(loader.dataset) / (time.perf_counter() - start)

    del torch
    return run


if __name__ == "__main__":
    sys.exit(main())
