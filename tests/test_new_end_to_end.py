"""The foundation's promise, end to end: `scaffold new --defaults`, then the project's own tests
pass and `python train.py --epochs 40` reaches best_val_acc >= 0.95 on the spiral."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from scaffold.cli.app import app

# One torch thread per process: the machine has 2 cores and tests may run beside other work;
# torch's OpenMP threads otherwise spin-wait and runs get an order of magnitude slower.
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def test_default_project_tests_pass_and_it_converges(tmp_path):
    dest = tmp_path / "demo"
    result = CliRunner().invoke(app, ["new", str(dest), "--defaults"])
    assert result.exit_code == 0, result.output

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=dest,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout

    run = subprocess.run(
        [sys.executable, "train.py", "--epochs", "40", "--no-progress"],
        cwd=dest,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("device: cpu")  # the device is logged at startup
    out = dest / "runs" / "version_0"  # each run gets its own folder
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_val_acc"] >= 0.95, summary
    for key in [
        "best_val_loss",
        "best_val_acc",
        "final_val_acc",
        "epochs_run",
        "samples_per_s",
        "device",
        "precision",
    ]:
        assert key in summary, key
    assert summary["epochs_run"] == 40 and summary["precision"] == "fp32"
    assert json.loads((out / "config.json").read_text())["epochs"] == 40
    assert (out / "metrics.csv").read_text().count("\n") == 41
    assert (out / "best.pt").is_file() and (out / "last.pt").is_file()
    assert not list(out.glob(".*.tmp")), "no temporary checkpoint may be left behind"


def test_dry_run_and_resume_flags(tmp_path):
    dest = tmp_path / "demo"
    # No scheduler: a resume may then add epochs (a horizon-based schedule refuses a new --epochs;
    # tests/test_resume_semantics.py covers that refusal).
    args = ["new", str(dest), "--defaults", "--no-git", "--set", "scheduler=none"]
    assert CliRunner().invoke(app, args).exit_code == 0
    dry = subprocess.run(
        [sys.executable, "train.py", "--dry-run", "--out", "dry"],
        cwd=dest,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dry.returncode == 0, dry.stderr
    assert json.loads((dest / "dry" / "summary.json").read_text())["epochs_run"] == 1
    assert not (dest / "dry" / "last.pt").exists()  # a wiring check never overwrites checkpoints

    first = subprocess.run(
        [sys.executable, "train.py", "--epochs", "3", "--no-progress"],
        cwd=dest,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    metrics = dest / "runs" / "version_0" / "metrics.csv"
    with metrics.open("a") as handle:  # a crash after the metrics row, before last.pt
        handle.write("4,9,9,0,0.01,1.0\n")
    resumed = subprocess.run(
        [sys.executable, "train.py", "--epochs", "5", "--no-progress", "--resume", "runs/version_0"],
        cwd=dest,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from runs/version_0/last.pt after epoch 3" in resumed.stdout
    assert json.loads((dest / "runs" / "version_0" / "summary.json").read_text())["epochs_run"] == 5
    epochs = [line.split(",")[0] for line in metrics.read_text().splitlines()[1:]]
    assert epochs == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ], "resume must trim rows the checkpoint does not cover"

    bad = subprocess.run(
        [sys.executable, "train.py", "--resume", "runs/version_0/best.pt", "--no-progress"],
        cwd=dest,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 1 and bad.stderr.strip().startswith(
        "error: cannot resume runs/version_0/best.pt: not a last.pt"
    )
