"""Train one variant per answer value for N epochs on CPU and print best_val_acc (the convergence bar).

Every optimizer, precision, scheduler/cadence pair and checkpoint policy, each with the other
answers at their defaults, plus a few combined variants. Reproduce the figures in the closing
note with:

    OMP_NUM_THREADS=1 python bench/convergence_sweep.py --epochs 60

It renders in memory (no copier), so it also runs where only jinja2 and black are installed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scaffold import options, render
from tools.matrix import scheduler_pairs

CSV_ROWS = 1000  # spiral points per class written to the CSV variant's data file


def variants() -> dict[str, dict]:
    """One variant per value of the headline-ish answers, plus combined ones."""
    found: dict[str, dict] = {"default": {}}
    for optimizer in ["adam", "sgd"]:
        found[f"optimizer={optimizer}"] = {"optimizer": optimizer}
    for precision in ["bf16", "fp16"]:
        found[f"precision={precision}"] = {"precision": precision}
    for scheduler, cadence in scheduler_pairs():
        given = {"scheduler": scheduler}
        if cadence:
            given["scheduler_cadence"] = cadence
        found[f"scheduler={scheduler}/{cadence}"] = given
    for policy in ["none", "best", "last"]:
        found[f"checkpoint={policy}"] = {"checkpoint": policy}
    found["fp16+accum4+onecycle"] = {"accum_steps": 4, "precision": "fp16", "scheduler": "onecycle"}
    found["csv"] = {"data": "csv"}
    found["batchnorm+inference_mode+val_acc+early_stop"] = {
        "batchnorm": True, "val_mode": "inference_mode", "monitor": "val_acc", "early_stopping": 5,
    }
    return found


def spiral_csv(path: Path) -> None:
    """The demo spiral written as a CSV with string labels, so the CSV loader trains on it."""
    import importlib.util

    with tempfile.TemporaryDirectory() as tmp:
        module_path = Path(tmp) / "spiral_data.py"  # data.py: make_spiral, no project imports
        module_path.write_text(render.render_in_memory(options.default_answers())["data.py"])
        spec = importlib.util.spec_from_file_location("spiral_data", module_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["spiral_data"] = module  # dataclasses look their module up while loading
        spec.loader.exec_module(module)
    x, y = module.make_spiral(CSV_ROWS, 0.2, 0)
    rows = [f"{a},{b},c{int(label)}" for (a, b), label in zip(x.tolist(), y.tolist(), strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x0,x1,label\n" + "\n".join(rows) + "\n")


def write_project(answers: dict, dest: Path) -> None:
    for rel, text in render.render_in_memory(answers).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    if answers["data"] == "csv":
        spiral_csv(dest / answers["csv_path"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--threshold", type=float, default=0.90)
    args = parser.parse_args(argv)
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    failures = 0
    with tempfile.TemporaryDirectory(prefix="scaffold-sweep-") as tmp:
        for name, given in variants().items():
            dest = Path(tmp) / f"v{abs(hash(name))}"
            write_project(options.resolve_answers(given), dest)
            start = time.perf_counter()
            run = subprocess.run(
                [sys.executable, "train.py", "--epochs", str(args.epochs), "--no-progress", "--out", "out"],
                cwd=dest, env=env, capture_output=True, text=True,
            )
            if run.returncode:
                print(f"{name:45s} FAILED: {run.stderr.strip().splitlines()[-1:]}")
                failures += 1
                continue
            s = json.loads((dest / "out" / "summary.json").read_text())
            ok = s["best_val_acc"] >= args.threshold
            failures += not ok
            print(
                f"{name:45s} best_val_acc {s['best_val_acc']:.4f}  epochs {s['epochs_run']:3d}  "
                f"{s['samples_per_s']:8.0f} samples/s  {time.perf_counter() - start:5.1f}s  {'ok' if ok else 'BELOW'}",
                flush=True,
            )
    print(f"{failures} variant(s) failed or below {args.threshold}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
