"""What a generated train.py shows and records while it runs: a closed pipe on stdout, the epoch
line in a log file, the pace over a whole resumed run, and damaged checkpoint files.
"""

from __future__ import annotations

import csv
import json
import pickle
import random
import subprocess
import zipfile
from pathlib import Path

import pytest
import sampling
import torch
from helpers import PYTHON, child_env, write_project
from test_train_cli_errors import load_train

SMALL = ["--samples-per-class", "60", "--no-progress"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project without a schedule horizon, so a finished run may be resumed for more epochs."""
    return write_project(tmp_path_factory.mktemp("output") / "p", scheduler="none")


def train(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "train.py", *SMALL, *args], cwd=project, env=child_env(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_closed_pipe_neither_stops_training_nor_prints_a_traceback(project):
    """`python train.py | head -1`: the reader goes away after the first line."""
    proc = subprocess.Popen(
        [PYTHON, "train.py", *SMALL, "--epochs", "4", "--name", "piped"], cwd=project,
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does once it has its line
    _, err = proc.communicate(timeout=300)
    assert first.strip(), "no first line"
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    summary = json.loads((project / "runs" / "piped" / "summary.json").read_text())
    assert summary["epochs_run"] == 4  # training went on to the end


def test_the_epoch_line_in_a_log_shows_pace_elapsed_and_eta(project):
    done = train(project, "--epochs", "3", "--name", "logged")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 3
    assert all("samples/s" in line and "elapsed " in line for line in lines), lines
    assert all(" eta " in line for line in lines[:-1]) and " eta " not in lines[-1], lines


def epoch_seconds(run: Path) -> list[float]:
    with (run / "metrics.csv").open(newline="") as handle:
        return [float(row["seconds"]) for row in csv.DictReader(handle)]


def test_summary_pace_covers_the_whole_run_after_a_resume(project):
    assert train(project, "--epochs", "2", "--name", "grown").returncode == 0
    run = project / "runs" / "grown"
    before = json.loads((run / "summary.json").read_text())
    resumed = train(project, "--epochs", "4", "--resume", "runs/grown")
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads((run / "summary.json").read_text())
    seconds = epoch_seconds(run)
    assert len(seconds) == 4
    # wall_s: every epoch of the run, the two before the resume included
    assert after["wall_s"] == pytest.approx(sum(seconds), abs=5e-3)
    assert after["wall_s"] > sum(seconds[2:]) + 1e-3
    # samples_per_s: the samples of all 4 epochs over that time (twice the first 2 epochs')
    samples = after["samples_per_s"] * after["wall_s"]
    assert samples == pytest.approx(2 * before["samples_per_s"] * before["wall_s"], rel=1e-6)


CASES = 3000


def damaged_files(rng: random.Random, real: bytes) -> list[bytes]:
    """Random bytes, some behind a pickle or zip header, and a real checkpoint cut or flipped."""
    headers = [b"", b"\x80\x02", b"\x80\x04\x95", b"PK\x03\x04", real[:64], real[:512]]
    files = []
    for index in range(CASES):
        kind = index % 4
        if kind == 0:
            files.append(rng.choice(headers) + rng.randbytes(rng.randrange(0, 400)))
        elif kind == 1:  # a cut
            files.append(real[: rng.randrange(0, len(real))])
        elif kind == 2:  # flipped bytes
            data = bytearray(real)
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            files.append(bytes(data))
        else:  # a pickle of something that is not a checkpoint, or raw pickle opcodes
            files.append(rng.choice([pickle.dumps(rng.random()), b"\x80\x02" + bytes(rng.randrange(256) for _ in range(40))]))
    return files


def test_every_damaged_checkpoint_is_one_training_error(project, tmp_path):
    """load_checkpoint on thousands of damaged files: a TrainingError (one line, exit 1) or a
    loaded checkpoint, never another exception."""
    assert train(project, "--epochs", "1", "--name", "real").returncode == 0
    real = (project / "runs" / "real" / "last.pt").read_bytes()
    assert zipfile.is_zipfile(project / "runs" / "real" / "last.pt")
    rng = random.Random(sampling.SEED)
    train_module = load_train(project)
    path = tmp_path / "damaged.pt"
    outcomes = {"refused": 0, "loaded": 0}
    for data in damaged_files(rng, real):
        path.write_bytes(data)
        try:
            state = train_module.load_checkpoint(path)
        except train_module.TrainingError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
            outcomes["refused"] += 1
        else:
            assert isinstance(state, dict) and isinstance(state["model"], dict)
            outcomes["loaded"] += 1
    print(f"damaged checkpoints (seed {sampling.SEED}): {outcomes}")
    assert outcomes["refused"] > CASES // 2
    assert torch.is_tensor(next(iter(train_module.load_checkpoint(project / "runs" / "real" / "last.pt")["model"].values())))


def test_predict_into_a_closed_pipe_ends_quietly(project, tmp_path):
    """`python predict.py RUN FILE | head -1`: the rest of the lines go nowhere, without a
    traceback."""
    assert train(project, "--epochs", "1", "--name", "for_predict").returncode == 0
    inputs = tmp_path / "points.csv"
    inputs.write_text("x1,x2\n" + "".join(f"{i / 100},{-i / 50}\n" for i in range(20000)))
    proc = subprocess.Popen(
        [PYTHON, "predict.py", "runs/for_predict", str(inputs)], cwd=project, env=child_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert first.strip() and proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
