"""Samples/s of the default generated loop vs a plain hand-written loop (and Lightning, if installed).

    OMP_NUM_THREADS=1 python bench/compare_loops.py [--epochs 3] [--reps 7]

The generated loop is imported from a default project rendered into a temp dir, and driven by its
own `train_one_epoch` (progress off). The plain loop trains the same MLP on the same loader,
optimizer (AdamW), loss and clipping. Repetitions are interleaved (generated, plain, lightning,
generated, ...) with the same thread settings, and medians are reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def render_default(dest: Path):
    sys.path.insert(0, str(ROOT))
    from scaffold.options import resolve_answers
    from scaffold.render import render_in_memory

    for rel, text in render_in_memory(resolve_answers({})).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    sys.path.insert(0, str(dest))
    return importlib.import_module("train")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed repetition")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--samples-per-class", type=int, default=4000)
    args = parser.parse_args(argv)

    import torch

    tmp = Path(tempfile.mkdtemp())
    train = render_default(tmp)
    cfg = train.Config(
        device="cpu",
        progress=False,
        samples_per_class=args.samples_per_class,
        out=str(tmp / "runs"),
    )
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
