"""Crash and resume: SIGKILL a real `python train.py` run at random moments, resume it with
`--resume`, and require the result to be bitwise equal to an uninterrupted run (CPU).

Two kinds of kill:
  * during an epoch: at a random moment after startup;
  * during a checkpoint write: the test's own launcher (`crashy.py`, written next to train.py, NOT
    part of the template) makes `torch.save` write half the bytes, flush, and pause, and the test
    kills the process as soon as the `.last.pt.tmp` file appears, leaving a torn temporary file.

A torn file must never be loaded: a truncated last.pt gives one clear error line, and the
temporary file is never picked up by a resume.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from helpers import PYTHON, child_env, write_project

from scaffold.options import resolve_answers

TRIALS = 10  # in the default suite; -m slow adds more, on a second variant
SMALL = ["--epochs", "8", "--samples-per-class", "200", "--batch-size", "32", "--no-progress"]

CRASHY = '''\
"""Test-only launcher: train.main() with slow steps and torn, slow checkpoint writes."""
import io
import os
import sys
import time

import model
import train

STEP_S = float(os.environ.get("CRASHY_STEP_S", "0"))
SAVE_S = float(os.environ.get("CRASHY_SAVE_S", "0"))
real_save, real_forward = train.torch.save, model.MLP.forward


def slow_forward(self, x):
    time.sleep(STEP_S)  # numerics unchanged: only stretches the epoch so kills land inside it
    return real_forward(self, x)


def torn_save(obj, f, *args, **kwargs):
    buffer = io.BytesIO()
    real_save(obj, buffer, *args, **kwargs)
    data = buffer.getvalue()
    f.write(data[: len(data) // 2])
    f.flush()
    time.sleep(SAVE_S)  # a kill now leaves a torn temporary file
    f.write(data[len(data) // 2 :])


model.MLP.forward = slow_forward
train.torch.save = torn_save
sys.exit(train.main())
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The default project (checkpoint=best_and_last), its launcher, and an uninterrupted run."""
    dest = write_project(tmp_path_factory.mktemp("crash") / "proj", resolve_answers({}))
    (dest / "crashy.py").write_text(CRASHY)
    ref = subprocess.run(
        [PYTHON, "train.py", "--out", "ref", *SMALL],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
    )
    assert ref.returncode == 0, ref.stderr
    return dest


def _launch(dest: Path, out: str, resume: bool, save_s: float) -> subprocess.Popen:
    args = [PYTHON, "crashy.py", "--out", out, *SMALL]
    if resume:
        args += ["--resume", f"{out}/last.pt"]
    env = child_env(CRASHY_STEP_S="0.004", CRASHY_SAVE_S=str(save_s))
    return subprocess.Popen(
        args, cwd=dest, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _kill_at_random(proc: subprocess.Popen, rng: random.Random) -> None:
    """SIGKILL at a random moment: mostly inside the epochs, sometimes before the first one ends."""
    line = proc.stdout.readline()  # "device: ..." once torch is imported and the run begins
    assert line.startswith("device:"), line
    if rng.random() < 0.75:  # wait for the first epoch of this process to finish
        while line and not line.startswith("epoch"):
            line = proc.stdout.readline()
    time.sleep(rng.uniform(0.0, 0.8))
    proc.send_signal(signal.SIGKILL)


def _kill_in_write(proc: subprocess.Popen, tmp: Path, rng: random.Random) -> bool:
    """SIGKILL while a checkpoint is half written; False if the run ended first."""
    skip = rng.randrange(0, 4)  # let a few writes complete first
    seen = 0
    was_there = False
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        there = tmp.exists()
        if there and not was_there:
            if seen == skip:
                proc.send_signal(signal.SIGKILL)
                return True
            seen += 1
        was_there = there
        time.sleep(0.002)
    return False


def run_trial(dest: Path, index: int, mode: str) -> dict:
    """Kill the run (1-3 times), resume until it finishes; return what happened."""
    rng = random.Random(1000 + index)
    out = f"trial{index:02d}"
    tmp = dest / out / ".last.pt.tmp"
    kills, torn_seen, resumes = 0, 0, 0
    for _attempt in range(rng.randint(1, 3)):
        resume = (dest / out / "last.pt").exists()
        proc = _launch(dest, out, resume, save_s=0.4 if mode == "write" else 0.0)
        resumes += resume
        if mode == "write":
            killed = _kill_in_write(proc, tmp, rng)
        else:
            _kill_at_random(proc, rng)
            killed = True
        proc.wait(timeout=120)
        proc.stdout.close()
        proc.stderr.close()
        if killed and proc.returncode == -signal.SIGKILL:
            kills += 1
            torn_seen += tmp.exists()
        if proc.returncode == 0:
            break
    resume = (dest / out / "last.pt").exists()
    final = subprocess.run(
        [
            PYTHON,
            "train.py",
            "--out",
            out,
            *SMALL,
            *(["--resume", f"{out}/last.pt"] if resume else []),
        ],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return {
        "index": index,
        "mode": mode,
        "kills": kills,
        "torn": torn_seen,
        "resumes": resumes + resume,
        "final": final,
        "out": dest / out,
    }


def assert_same_as_reference(dest: Path, out: Path) -> None:
    want = torch.load(dest / "ref" / "last.pt", weights_only=True)
    got = torch.load(out / "last.pt", weights_only=True)
    for key, tensor in want["model"].items():
        assert torch.equal(got["model"][key], tensor), f"{out.name}: model.{key} differs"
    for index, state in want["optimizer"]["state"].items():
        for name, value in state.items():
            other = got["optimizer"]["state"][index][name]
            assert torch.equal(
                torch.as_tensor(other), torch.as_tensor(value)
            ), f"{out.name}: optimizer {name}"
    assert got["scheduler"] == want["scheduler"]
    assert got["progress"] == want["progress"]
    for name in ["best.pt"]:
        a = torch.load(dest / "ref" / name, weights_only=True)
        b = torch.load(out / name, weights_only=True)
        assert all(
            torch.equal(b["model"][k], v) for k, v in a["model"].items()
        ), f"{out.name}: {name}"

    def rows(path: Path) -> list[list[str]]:  # the seconds column is wall time: leave it out
        return [line.split(",")[:-1] for line in path.read_text().splitlines()]

    assert rows(out / "metrics.csv") == rows(
        dest / "ref" / "metrics.csv"
    ), f"{out.name}: metrics.csv"


def _run_trials(project: Path, indices: range) -> list[dict]:
    modes = ["epoch" if i % 2 == 0 else "write" for i in indices]
    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        return list(pool.map(lambda im: run_trial(project, *im), zip(indices, modes, strict=True)))


def _check(project: Path, results: list[dict], capsys) -> None:
    with capsys.disabled():
        for r in results:
            print(
                f"\ntrial {r['index']:2d} kill {r['mode']:5s}: {r['kills']} kill(s), {r['torn']} torn temp "
                f"file(s) left, {r['resumes']} resume(s)",
                end="",
            )
        print()
    for r in results:
        assert r["final"].returncode == 0, r["final"].stderr[-2000:]
        assert_same_as_reference(project, r["out"])
    assert sum(r["kills"] for r in results) >= len(results)
    assert (
        sum(r["torn"] for r in results if r["mode"] == "write") >= 1
    ), "no kill landed inside a write"


def test_sigkill_and_resume_is_bitwise_equal(project, capsys):
    results = _run_trials(project, range(TRIALS))
    _check(project, results, capsys)


@pytest.mark.slow
def test_sigkill_and_resume_many_trials(project, capsys):
    results = _run_trials(project, range(TRIALS, TRIALS + 20))
    _check(project, results, capsys)


def _resume(dest: Path, path: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "train.py", "--out", "bad", *SMALL, "--resume", path],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_truncated_checkpoint_gives_one_clear_error(project):
    data = (project / "ref" / "last.pt").read_bytes()
    (project / "torn").mkdir(exist_ok=True)
    (project / "torn" / "last.pt").write_bytes(data[: len(data) // 2])
    run = _resume(project, "torn/last.pt")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: cannot load checkpoint torn/last.pt"
    ), run.stderr
    assert "Traceback" not in run.stderr


def test_temporary_file_is_never_picked_up(project):
    """Only last.pt is ever read: a torn .last.pt.tmp beside a missing last.pt is not loaded."""
    data = (project / "ref" / "last.pt").read_bytes()
    folder = project / "only_tmp"
    folder.mkdir(exist_ok=True)
    (folder / ".last.pt.tmp").write_bytes(data[: len(data) // 3])
    run = _resume(project, "only_tmp/last.pt")
    assert run.returncode == 1 and run.stderr.startswith(
        "error: cannot load checkpoint only_tmp/last.pt"
    )
    source = (project / "train.py").read_text()
    assert source.count(".tmp") == 1, "only save_atomic may name the temporary file"
