"""`python train.py` end to end on the resume cases: resume with changed flags, finished and
early-stopped runs, bad checkpoint files, strict JSON, and a batch of one under batchnorm.

Each case runs the real command line of a rendered project (CPU, one thread) and checks the exit
code, the one error line and the files left behind. The in-process versions of these checks are
the project's own generated tests; these prove the command a user types behaves.
"""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import pytest
import sampling
import torch
from helpers import PYTHON, child_env, write_project

from scaffold.options import resolve_answers

SMALL = ["--samples-per-class", "100", "--no-progress"]
SLOW = pytest.mark.slow  # each case is one more train.py process; the generated tests cover it


def train(dest: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "train.py", *SMALL, *args],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def error_lines(run: subprocess.CompletedProcess) -> list[str]:
    """The lines train.py itself wrote to stderr (torch may add its own warnings)."""
    assert "Traceback" not in run.stderr, run.stderr
    return [line for line in run.stderr.splitlines() if line.startswith("error:")]


def strict_json(path: Path) -> dict:
    def refuse(word):
        raise AssertionError(f"{path.name} holds {word}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def onecycle(tmp_path_factory) -> Path:
    """SGD with momentum 0 under onecycle, fp16, accumulation: a finished 4-epoch run in runs/."""
    answers = resolve_answers(
        dict(
            scheduler="onecycle",
            precision="fp16",
            accum_steps=3,
            optimizer="sgd",
            momentum=0.0,
        )
    )
    dest = write_project(tmp_path_factory.mktemp("onecycle") / "proj", answers)
    run = train(dest, "--epochs", "4", "--out", "runs")  # a fixed folder, not runs/version_N
    assert run.returncode == 0, run.stderr
    return dest


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--epochs", "8"], "--epochs 8"),  # raised "Tried to step 13 times" before
        (["--epochs", "4", "--lr", "0.5"], "--lr 0.5"),  # was silently overridden
        (["--epochs", "4", "--hidden", "16"], "--hidden 16"),
        pytest.param(["--epochs", "4", "--batch-size", "16"], "--batch-size 16", marks=SLOW),
        pytest.param(["--epochs", "4", "--accum-steps", "2"], "--accum-steps 2", marks=SLOW),
        pytest.param(["--epochs", "2"], "--epochs 2", marks=SLOW),  # fewer than trained
    ],
)
def test_changed_flags_are_refused_in_one_line(onecycle, flags, named):
    before = {p.name: p.read_bytes() for p in (onecycle / "runs").iterdir()}
    run = train(onecycle, "--resume", "runs/last.pt", *flags)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = error_lines(run)
    assert len(lines) == 1 and named in lines[0] and "runs/last.pt" in lines[0], run.stderr
    assert {p.name: p.read_bytes() for p in (onecycle / "runs").iterdir()} == before


def test_resuming_the_finished_run_exits_0_and_touches_nothing(onecycle):
    before = {p.name: p.read_bytes() for p in (onecycle / "runs").iterdir()}
    run = train(onecycle, "--epochs", "4", "--resume", "runs/last.pt")
    assert run.returncode == 0, run.stderr
    assert "nothing to do" in run.stdout
    assert {p.name: p.read_bytes() for p in (onecycle / "runs").iterdir()} == before
    assert strict_json(onecycle / "runs" / "summary.json")["epochs_run"] == 4


def test_onecycle_keeps_sgd_momentum_at_zero(onecycle):
    state = torch.load(onecycle / "runs" / "last.pt", weights_only=True)
    assert [group["momentum"] for group in state["optimizer"]["param_groups"]] == [0.0]


def write_bad_checkpoint(name: str, folder: Path, good: Path) -> Path:
    """One kind of file that is not a checkpoint of this project."""
    path = folder / name
    if name == "random.pt":
        path.write_bytes(bytes(range(256)) * 16)
    elif name == "pickle.pt":
        path.write_bytes(pickle.dumps({"model": {1, 2}}))
    elif name == "list.pt":
        torch.save([1, 2], path)
    else:  # shape.pt: a real checkpoint whose tensors do not fit the model
        state = torch.load(good, weights_only=True)
        state["model"] = {k: torch.zeros(2, *v.shape) for k, v in state["model"].items()}
        state["progress"]["epoch"] = 1  # unfinished, so the weights are loaded
        torch.save(state, path)
    return path


# One train.py process each: the default run takes half of them, in rotation (tests/sampling.py).
BAD_FILES = sampling.rotating("bad checkpoint files", ["random.pt", "pickle.pt", "list.pt", "shape.pt"], 2)


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_checkpoint_files_give_one_line_naming_the_file(onecycle, tmp_path, name):
    """(A torn file is tests/test_crash_resume.py's case.)"""
    path = str(write_bad_checkpoint(name, tmp_path, onecycle / "runs" / "last.pt"))
    run = train(onecycle, "--epochs", "4", "--out", str(tmp_path / "out"), "--resume", path)
    assert run.returncode == 1, (name, run.stdout, run.stderr)
    lines = error_lines(run)
    assert len(lines) == 1 and path in lines[0], (name, run.stderr)
    if name == "shape.pt":
        assert "does not fit this model" in lines[0], lines


@pytest.fixture(scope="module")
def flat(tmp_path_factory) -> Path:
    """No scheduler, early stopping after 2 epochs, batchnorm, accumulation."""
    answers = resolve_answers(
        dict(scheduler="none", early_stopping=2, accum_steps=2, batchnorm=True)
    )
    return write_project(tmp_path_factory.mktemp("flat") / "proj", answers)


def test_batchnorm_with_a_tail_of_one_trains(flat):
    # 300 spiral points, 60 held out: 240 = 239 + 1, the 1 joins the batch before.
    run = train(flat, "--epochs", "2", "--batch-size", "239", "--out", "tail")
    assert run.returncode == 0, run.stderr
    assert strict_json(flat / "tail" / "summary.json")["epochs_run"] == 2


def test_batchnorm_with_batch_size_1_is_refused(flat):
    run = train(flat, "--epochs", "1", "--batch-size", "1", "--out", "one")
    assert run.returncode == 1
    lines = error_lines(run)
    assert len(lines) == 1 and "--batch-size" in lines[0], run.stderr


@SLOW
def test_more_epochs_without_a_horizon_equal_the_longer_run(flat):
    assert train(flat, "--epochs", "3", "--out", "long", "--early-stopping", "0").returncode == 0
    assert train(flat, "--epochs", "2", "--out", "short", "--early-stopping", "0").returncode == 0
    resume = ["--resume", "short/last.pt"]
    run = train(flat, "--epochs", "3", "--out", "short", "--early-stopping", "0", *resume)
    assert run.returncode == 0, run.stderr
    want = torch.load(flat / "long" / "last.pt", weights_only=True)
    got = torch.load(flat / "short" / "last.pt", weights_only=True)
    assert all(torch.equal(got["model"][k], v) for k, v in want["model"].items())
    assert got["progress"] == want["progress"]


def test_an_early_stopped_run_resumed_trains_no_more(flat):
    run = train(flat, "--epochs", "60", "--out", "stop")
    assert run.returncode == 0 and "early stopping" in run.stdout, run.stdout
    summary = (flat / "stop" / "summary.json").read_bytes()
    rows = (flat / "stop" / "metrics.csv").read_bytes()
    again = train(flat, "--epochs", "60", "--out", "stop", "--resume", "stop/last.pt")
    assert again.returncode == 0, again.stderr
    assert "stopped early" in again.stdout
    assert not any(line.startswith("epoch") for line in again.stdout.splitlines()), again.stdout
    assert (flat / "stop" / "summary.json").read_bytes() == summary
    assert (flat / "stop" / "metrics.csv").read_bytes() == rows
