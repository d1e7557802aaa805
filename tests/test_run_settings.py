"""`train.py --config FILE` and `--resume RUN` without repeating flags.

A field's value comes from the first of: its flag, the --config file, the resumed run's own
config.json, the Config default. The error lines are documented in docs/errors.md.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from helpers import PYTHON, child_env, write_project
from test_train_cli_errors import assert_documented, one_line, run_main

FAST = ["--no-progress", "--samples-per-class", "40"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("settings") / "p")


def saved(project: Path, run: str) -> dict:
    return json.loads((project / "runs" / run / "config.json").read_text())


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_settings_file_sets_fields_and_flags_override_it(project, monkeypatch, suffix):
    path = project / f"settings{suffix}"
    if suffix == ".toml":
        path.write_text('lr = 0.05\nepochs = 1\nhidden = 12\nbatchnorm = false\ndevice = "cpu"\n')
    else:
        path.write_text(json.dumps({"lr": 0.05, "epochs": 1, "hidden": 12, "batchnorm": False}))
    name = f"file{suffix[1:]}"
    code, _, err = run_main(
        project, ["--config", str(path), "--hidden", "20", "--name", name, *FAST], monkeypatch
    )
    assert code == 0, err
    got = saved(project, name)
    assert (got["lr"], got["epochs"], got["hidden"], got["batchnorm"]) == (0.05, 1, 20, False)


def test_a_runs_own_config_json_repeats_the_run(project, monkeypatch):
    code, _, err = run_main(project, ["--epochs", "1", "--lr", "0.02", "--name", "src", *FAST], monkeypatch)
    assert code == 0, err
    config = project / "runs" / "src" / "config.json"
    code, _, err = run_main(project, ["--config", str(config), "--name", "copy"], monkeypatch)
    assert code == 0, err
    first, second = saved(project, "src"), saved(project, "copy")
    # out and name come from the command line only: the copy writes into a folder of its own
    assert {k: v for k, v in first.items() if k not in ("out", "name")} == {
        k: v for k, v in second.items() if k not in ("out", "name")
    }
    assert second["out"] == "runs/copy"
    a = torch.load(project / "runs" / "src" / "last.pt", weights_only=True)["model"]
    b = torch.load(project / "runs" / "copy" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


SETTINGS_CASES = [
    ("--config naming an unknown field", '{"lrr": 0.1}', "which is not a Config field; did you mean lr?"),
    ("--config with a value of the wrong type", '{"lr": "fast"}', "lr must be a float, not 'fast'"),
    ("--config that does not parse", "{lr: 1", "does not parse"),
    ("--config that is not a table", "[1, 2]", "must hold a table of Config fields"),
]


@pytest.mark.parametrize("mistake,text,fragment", SETTINGS_CASES, ids=[c[0] for c in SETTINGS_CASES])
def test_a_bad_settings_file_is_one_line_exit_2(project, monkeypatch, tmp_path, mistake, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    code, _, err = run_main(project, ["--config", str(path), *FAST], monkeypatch)
    line = one_line(err)
    assert code == 2 and line.startswith("train.py: error: argument --config: ") and fragment in line, line
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert_documented(mistake, 2, fragment)


def test_a_missing_settings_file_is_one_line_exit_2(project, monkeypatch, tmp_path):
    code, _, err = run_main(project, ["--config", str(tmp_path / "none.toml")], monkeypatch)
    line = one_line(err)
    assert code == 2 and "cannot read" in line and "No such file" in line, line
    assert_documented("--config naming a missing file", 2, "cannot read FILE")


SLOW_STEPS = '''\
"""Test-only launcher: train.main() with each forward slowed (numerics unchanged)."""
import sys
import time

import model
import train

real_forward = model.MLP.forward


def slow_forward(self, x):
    time.sleep(0.01)
    return real_forward(self, x)


model.MLP.forward = slow_forward
sys.exit(train.main())
'''


def test_resume_with_no_flag_continues_a_run_with_non_default_flags_exactly(project):
    """Interrupt a run started with several non-default flags, resume it naming only the run:
    the result is bitwise the uninterrupted run's."""
    flags = [
        "--epochs", "4", "--lr", "0.03", "--hidden", "24", "--batch-size", "48",
        "--weight-decay", "0.001", "--samples-per-class", "120", "--seed", "7", "--no-progress",
    ]  # fmt: skip
    ref = subprocess.run(
        [PYTHON, "train.py", *flags, "--name", "whole"], cwd=project, env=child_env(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ref.returncode == 0, ref.stderr
    (project / "slow.py").write_text(SLOW_STEPS)
    proc = subprocess.Popen(
        [PYTHON, "slow.py", *flags, "--name", "cut"], cwd=project, env=child_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    last = project / "runs" / "cut" / "last.pt"
    deadline = time.monotonic() + 240
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be interrupted"
    state = torch.load(last, weights_only=True)
    assert state["progress"]["epoch"] < 4, "the run was not interrupted before its end"
    resumed = subprocess.run(
        [PYTHON, "train.py", "--resume", "runs/cut"], cwd=project, env=child_env(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    want = torch.load(project / "runs" / "whole" / "last.pt", weights_only=True)
    got = torch.load(last, weights_only=True)
    for key, tensor in want["model"].items():
        assert torch.equal(got["model"][key], tensor), key
    assert got["progress"] == want["progress"]
    assert saved(project, "cut")["hidden"] == 24


def test_flags_given_on_resume_are_still_compared(project):
    run = subprocess.run(
        [PYTHON, "train.py", "--resume", "runs/whole", "--lr", "0.5"], cwd=project,
        env=child_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 1
    assert "--lr 0.5 (checkpoint: 0.03)" in run.stderr
