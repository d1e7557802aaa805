"""Execution on CPU: a covering sample of variants is trained to convergence, and each rendered
project's own tests run (`python -m pytest -q` inside the project).

The eager sample shows every answer value except the compile modes; the compile modes (inductor on
CPU, ~1 minute of compilation per process) run under `-m slow`, and so does the default-answers
variant, which tests/test_new_end_to_end.py trains and tests in the default run. Variants run two
at a time in subprocesses with one intra-op thread each.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import PYTHON, answers_diff, child_env, write_project

from tools import matrix
from scaffold.options import resolve_answers

BEST_VAL_ACC = 0.90  # spiral (and the spiral CSV): the bar every variant must clear
SUMMARY_KEYS = {
    "best_val_loss",
    "best_val_acc",
    "final_val_acc",
    "epochs_run",
    "samples_per_s",
    "device",
    "precision",
}

# Every answer value at least once (compile aside): checked by test_sample_covers_every_value.
EAGER_SAMPLE = {
    "default": {},
    "fp16_accum4_onecycle": dict(
        precision="fp16",
        accum_steps=4,
        scheduler="onecycle",
        checkpoint="last",
        monitor="val_acc",
        annotations="brief",
        optimizer="adam",
        batchnorm=True,
    ),
    "bf16_plateau_best": dict(
        precision="bf16",
        scheduler="plateau",
        checkpoint="best",
        early_stopping=5,
        val_mode="inference_mode",
        deterministic=True,
    ),
    "sgd_csv_step_step": dict(
        optimizer="sgd",
        data="csv",
        scheduler="step",
        scheduler_cadence="step",
        checkpoint="none",
        annotations="none",
        grad_clip=0.0,
        accum_steps=3,
    ),
    "warmup_cosine_step": dict(scheduler="warmup_cosine", scheduler_cadence="step", dropout=0.0),
    "no_scheduler_fp16": dict(scheduler="none", precision="fp16", accum_steps=4, batchnorm=True),
}
COMPILE_SAMPLE = {
    "compile_default_bf16": dict(compile="default", precision="bf16", checkpoint="last"),
    "compile_reduce_overhead": dict(compile="reduce-overhead", accum_steps=4, scheduler="onecycle"),
    "compile_max_autotune_fp16": dict(
        compile="max-autotune", precision="fp16", scheduler="plateau"
    ),
}


def write_spiral_csv(path: Path, per_class: int = 800, seed: int = 0) -> Path:
    """The spiral task as a CSV with string labels (numeric features plus one label column)."""
    rng = random.Random(seed)
    rows = ["x0,x1,label"]
    for label, name in enumerate(["arm_a", "arm_b", "arm_c"]):
        for i in range(per_class):
            radius = 0.05 + 0.95 * i / (per_class - 1)
            angle = label * 4.0 + 4.0 * i / (per_class - 1) + 0.2 * rng.gauss(0, 1)
            rows.append(f"{radius * math.sin(angle):.6f},{radius * math.cos(angle):.6f},{name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    return path


def render_variant(dest: Path, given: dict) -> dict:
    """Render a variant into `dest` (in the main thread: black's first import is not thread-safe)."""
    answers = resolve_answers({"project_name": dest.name, **given})
    write_project(dest, answers)
    return answers


def run_variant(dest: Path, answers: dict, timeout: float = 900) -> dict:
    """Train a rendered variant to convergence, run the project's tests. Returns what happened."""
    args = [PYTHON, "train.py", "--out", "runs", "--no-progress"]
    if answers["data"] == "csv":
        args += ["--csv-path", str(write_spiral_csv(dest / "data" / "spiral.csv"))]
    start = time.perf_counter()
    train = subprocess.run(
        args, cwd=dest, env=child_env(), capture_output=True, text=True, timeout=timeout
    )
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    tests = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    summary_path = dest / "runs" / "summary.json"
    return {
        "answers": answers,
        "train": train,
        "train_s": train_s,
        "tests": tests,
        "tests_s": time.perf_counter() - start,
        "summary": json.loads(summary_path.read_text()) if summary_path.exists() else None,
        "dest": dest,
    }


def run_all(root: Path, sample: dict) -> dict:
    workers = max(1, min(2, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rendered = {name: render_variant(root / name, given) for name, given in sample.items()}
        futures = {name: pool.submit(run_variant, root / name, a) for name, a in rendered.items()}
        return {name: future.result() for name, future in futures.items()}


def check_result(name: str, result: dict) -> list[str]:
    """Everything wrong with one variant's run (empty = converged and its tests passed)."""
    problems = []
    answers, train, summary = result["answers"], result["train"], result["summary"]
    where = f"{name} {answers_diff(answers)}"
    if train.returncode != 0 or summary is None:
        return [f"{where}: train.py exited {train.returncode}:\n{train.stderr[-3000:]}"]
    if missing := SUMMARY_KEYS - set(summary):
        problems.append(f"{where}: summary.json lacks {sorted(missing)}")
    if summary["best_val_acc"] < BEST_VAL_ACC:
        problems.append(f"{where}: best_val_acc {summary['best_val_acc']:.3f} < {BEST_VAL_ACC}")
    if summary["precision"] != answers["precision"] or summary["device"] != "cpu":
        problems.append(f"{where}: summary says {summary['precision']} on {summary['device']}")
    runs = result["dest"] / "runs"
    metrics = (runs / "metrics.csv").read_text().strip().splitlines()
    if len(metrics) != summary["epochs_run"] + 1:
        problems.append(
            f"{where}: metrics.csv has {len(metrics) - 1} rows for {summary['epochs_run']} epochs"
        )
    want = {"best": {"best.pt"}, "last": {"last.pt"}, "best_and_last": {"best.pt", "last.pt"}}
    have = {p.name for p in runs.glob("*.pt")}
    if have != want.get(answers["checkpoint"], set()):
        problems.append(
            f"{where}: checkpoints {sorted(have)} for checkpoint={answers['checkpoint']}"
        )
    if list(runs.glob(".*.tmp")):
        problems.append(f"{where}: a temporary checkpoint file was left behind")
    if result["tests"].returncode != 0:
        problems.append(
            f"{where}: the project's own tests failed:\n{result['tests'].stdout[-3000:]}"
        )
    return problems


def report(results: dict) -> str:
    lines = []
    for name, r in results.items():
        s = r["summary"] or {}
        lines.append(
            f"{name:28s} epochs {s.get('epochs_run', '-'):>3} best_val_acc {s.get('best_val_acc', 0):.3f} "
            f"samples/s {s.get('samples_per_s', 0):8.0f} train {r['train_s']:5.1f}s "
            f"tests {r['tests_s']:5.1f}s ({r['tests'].stdout.strip().splitlines()[-1:]})"
        )
    return "\n".join(lines)


# Values this file does not train: their own suites train them and run their projects' tests.
TRAINED_ELSEWHERE = {
    "task=image": "tests/test_task_image.py",
    "data=shapes": "tests/test_task_image.py",
    "data=folder": "tests/test_task_image.py",
    "task=lm": "tests/test_task_lm.py",
    "data=synthetic": "tests/test_task_lm.py",
    "data=text_file": "tests/test_task_lm.py",
    "monitor=val_ppl": "tests/test_task_lm.py",
    "distributed=ddp": "tests/test_ddp.py",
    "tracking=tensorboard": "tests/test_tracking.py",
    "tracking=mlflow": "tests/test_tracking.py",
    "tracking=wandb": "tests/test_tracking.py",
}


def missing_here(sets: list[dict]) -> list[str]:
    return [v for v in matrix.missing_values(sets) if v not in TRAINED_ELSEWHERE]


def test_sample_covers_every_value():
    sets = [resolve_answers(g) for g in [*EAGER_SAMPLE.values(), *COMPILE_SAMPLE.values()]]
    assert not missing_here(sets)
    assert set(TRAINED_ELSEWHERE) <= set(matrix.missing_values(sets)), "trained here after all"
    eager = [resolve_answers(g) for g in EAGER_SAMPLE.values()]
    assert missing_here(eager) == [
        "compile=default",
        "compile=reduce-overhead",
        "compile=max-autotune",
    ]
    assert {"epoch", "step"} <= {a.get("scheduler_cadence") for a in eager}
    assert {1, 3, 4} <= {a["accum_steps"] for a in eager}


# The default answers are trained, checked and tested in the default run by
# tests/test_new_end_to_end.py (rendered by copier, a stricter accuracy bar); here under -m slow.
COVERED_ELSEWHERE = {"default"}


def check_sample(root: Path, sample: dict, capsys) -> None:
    results = run_all(root, sample)
    with capsys.disabled():
        print("\n" + report(results))
    problems = [p for name, r in results.items() for p in check_result(name, r)]
    assert not problems, "\n\n".join(problems)


def test_eager_sample_converges_and_passes_its_tests(tmp_path, capsys):
    eager = {k: v for k, v in EAGER_SAMPLE.items() if k not in COVERED_ELSEWHERE}
    check_sample(tmp_path, eager, capsys)


@pytest.mark.slow
def test_default_variant_converges_and_passes_its_tests(tmp_path, capsys):
    check_sample(tmp_path, {k: EAGER_SAMPLE[k] for k in sorted(COVERED_ELSEWHERE)}, capsys)


@pytest.mark.slow
def test_compile_sample_converges_and_passes_its_tests(tmp_path, capsys):
    check_sample(tmp_path, COMPILE_SAMPLE, capsys)
