"""How long `scaffold new --defaults` takes next to a bare `copier copy` of the same template.

    python bench/new_speed.py [--reps 7]

Each repetition runs, in turn and as fresh processes (interpreter start included, as a user sees
it), into a new empty folder:
  scaffold new DEST --defaults            (answers, copier from the bundle, black, git commit;
                                           black in a worker beside copier when there are 2+ cores,
                                           then shared between both processes)
  scaffold new DEST --defaults --no-git   (the same without the commit)
  the same with SCAFFOLD_BLACK_AHEAD=1     (the black worker forced, even on one core)
  the same with SCAFFOLD_BLACK_AHEAD=0     (black after copier, never a worker)
  copier copy --defaults TEMPLATE DEST    (bare copier, from the template folder)
  copier copy --defaults --vcs-ref V URL DEST  (bare copier, from the shipped bundle, like scaffold)
The commands alternate, in an order reversed every other repetition (ABBA), so that load on the
machine hits them alike; medians are reported with their ranges, and the ratio of `scaffold new
--defaults` to bare `copier copy` of the template folder: the ratio of the medians, and the median
of the per-repetition ratios (each from two runs seconds apart) with its spread. `--main` times only
those two commands. Then one in-process breakdown says where scaffold's time goes.
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
BIN = Path(sys.executable).parent
NEW, BASE = "scaffold new --defaults", "copier copy (template folder)"


def _env() -> dict[str, str]:
    from scaffold.versioning import git_redirect_env

    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.update(git_redirect_env())
    return env


def commands(dest: Path) -> dict[str, list[str]]:
    from scaffold.paths import template_dir
    from scaffold.versioning import TEMPLATE_URL, latest_version

    scaffold = [str(BIN / "scaffold"), "new"]
    copier = [str(BIN / "copier"), "copy", "--defaults", "--quiet"]
    return {
        "scaffold new --defaults": [*scaffold, str(dest / "a"), "--defaults"],
        "scaffold new --defaults --no-git": [*scaffold, str(dest / "b"), "--defaults", "--no-git"],
        "scaffold new --defaults, black worker forced": [
            "env", "SCAFFOLD_BLACK_AHEAD=1", *scaffold, str(dest / "f"), "--defaults",
        ],
        "scaffold new --defaults, black after copier": [
            "env", "SCAFFOLD_BLACK_AHEAD=0", *scaffold, str(dest / "e"), "--defaults",
        ],
        "copier copy (template folder)": [*copier, str(template_dir()), str(dest / "c")],
        "copier copy (bundle, like scaffold)": [
            *copier, "--vcs-ref", latest_version(), TEMPLATE_URL, str(dest / "d"),
        ],
    }


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()[-400:]}")
    return elapsed


def breakdown() -> list[tuple[str, float]]:
    """Where `scaffold new --defaults` spends its time, step by step, in one process."""
    steps = []

    def step(name, fn):
        start = time.perf_counter()
        value = fn()
        steps.append((name, time.perf_counter() - start))
        return value

    step("import the CLI (typer)", lambda: __import__("scaffold.cli.app"))
    from scaffold.options import resolve_answers

    answers = step("resolve the answers (copier.yml)", lambda: resolve_answers({"project_name": "p"}))
    step("import copier", lambda: __import__("copier"))
    import copier

    from scaffold.render import commit_all, format_tree
    from scaffold.versioning import copier_source

    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "p"

        def render():
            with copier_source() as (src, ref):
                copier.run_copy(src, str(dest), data=answers, defaults=True, quiet=True, vcs_ref=ref)

        step("copier run_copy (bundle clone + render)", render)
        step("import black", lambda: __import__("black"))
        step("black.format_str of the .py files", lambda: format_tree(dest))
        step("git init + commit", lambda: commit_all(dest, "bench"))
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument(
        "--main", action="store_true", help="only scaffold new --defaults and copier copy"
    )
    args = parser.parse_args()
    env = _env()
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {}
    for rep in range(args.reps):
        with tempfile.TemporaryDirectory() as tmp:
            runs = commands(Path(tmp))
            if args.main:
                runs = {name: runs[name] for name in (NEW, BASE)}
            order = list(runs) if rep % 2 == 0 else list(runs)[::-1]
            for name in order:
                times.setdefault(name, []).append(timed(runs[name], env))
        print(f"rep {rep + 1}/{args.reps} done", file=sys.stderr)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    base = medians[BASE]
    load_after = os.getloadavg()
    print(
        f"median of {args.reps} fresh-process runs (os.cpu_count() = {os.cpu_count()}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after):"
    )
    for name, value in medians.items():
        spread = f"{min(times[name]):.2f}-{max(times[name]):.2f}"
        print(f"  {name:<44} {value:6.2f} s   {value / base:5.2f}x   (range {spread} s)")
    ratio = medians[NEW] / base
    pairs = sorted(a / b for a, b in zip(times[NEW], times[BASE]))
    low, high = pairs[len(pairs) // 4], pairs[(3 * len(pairs)) // 4]
    print(f"ratio scaffold new --defaults / copier copy: {ratio:.2f}x (target <= 1.5x)")
    print(
        f"per-repetition ratios: median {statistics.median(pairs):.2f}x, "
        f"quartiles {low:.2f}-{high:.2f}x, all {', '.join(f'{p:.2f}' for p in pairs)}"
    )
    print("in-process breakdown of scaffold new --defaults:")
    for name, seconds in breakdown():
        print(f"  {name:<42} {seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
