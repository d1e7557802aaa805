"""How long the generated `python train.py --help` and a bad flag take, next to importing torch.

    python bench/help_speed.py [--task tabular image lm] [--reps 7]

For each task a project is rendered (every other answer at its default) into a temp folder, then
these run as fresh processes, interleaved, and their medians are printed:
  python train.py --help        (config.py parses the flags before train.py imports torch)
  python train.py --lr -1       (a bad flag: one line, exit 2, also before torch)
  python -c "import torch"      (what --help would cost if it loaded torch first)
The generated tests check that neither of the first two imports torch at all
(test_help_and_a_bad_flag_answer_before_torch_is_imported); this script only prints the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("tabular", "image", "lm")


def render(dest: Path, task: str) -> None:
    sys.path.insert(0, str(ROOT))
    from scaffold.options import resolve_answers
    from scaffold.render import render_in_memory

    for rel, text in render_in_memory(resolve_answers({"task": task})).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)


def timed(argv: list[str], cwd: Path, code: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != code:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-400:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    py = sys.executable
    runs = {
        "python train.py --help": ([py, "train.py", "--help"], 0),
        "python train.py --lr -1": ([py, "train.py", "--lr", "-1"], 2),
        'python -c "import torch"': ([py, "-c", "import torch"], 0),
    }
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.task:
            project = Path(tmp) / task
            render(project, task)
            times: dict[str, list[float]] = {name: [] for name in runs}
            for name, (argv, code) in runs.items():  # warm-up: the OS file cache, .pyc files
                timed(argv, project, code)
            for rep in range(args.reps):
                for name in list(runs) if rep % 2 == 0 else list(runs)[::-1]:
                    argv, code = runs[name]
                    times[name].append(timed(argv, project, code))
            print(f"task {task} ({args.reps} fresh processes each, medians):")
            for name, values in times.items():
                spread = f"{min(values):.2f}-{max(values):.2f}"
                print(f"  {name:<26} {statistics.median(values):6.3f} s   (range {spread} s)")
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
