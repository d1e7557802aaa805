"""Shared helpers of the verification tests (render matrix, execution, crash/resume, fuzz)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scaffold.options import default_answers, resolve_answers
from scaffold.render import render_in_memory

PYTHON = sys.executable


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a generated train.py / pytest subprocess.

    One intra-op thread: on a loaded 2-core CI box torch's thread pool otherwise spins and runs
    get ~10x slower (and timings noisy). No CUDA, unbuffered output.
    """
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        CUDA_VISIBLE_DEVICES="",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra)
    return env


def answers_diff(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that differ from `scaffold new --defaults` (the minimal way to reproduce)."""
    base = default_answers()
    return {k: v for k, v in answers.items() if base.get(k, object()) != v}


def as_set_flags(answers: Mapping[str, Any]) -> str:
    """`--set k=v ...` flags reproducing `answers` (for failure messages)."""
    return " ".join(f"--set {k}={v}" for k, v in answers_diff(answers).items())


def write_project(dest: Path, answers: Mapping[str, Any] | None = None, **given: Any) -> Path:
    """Render (in memory, black-formatted) and write a project; returns dest."""
    answers = dict(answers) if answers is not None else resolve_answers(given)
    for rel, text in render_in_memory(answers).items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return dest


# --------------------------------------------------------------------------------------------
# Running many rendered projects' own tests quickly (tests/test_whole_space.py)
# --------------------------------------------------------------------------------------------
def reproduce_command(answers: Mapping[str, Any]) -> str:
    """The `scaffold new` command that renders `answers` (the minimal --set flags)."""
    return f"scaffold new p --defaults --no-git {as_set_flags(answers)}".rstrip()


def run_project_tests_in_process(dest: Path) -> tuple[int, str]:
    """Run `pytest` on the project in `dest` inside this process; returns (exit code, output).

    torch (and dynamo, which building any optimizer imports) load once per worker instead of
    once per project, which is most of a project's test time. What one project could leave behind
    for the next is reset: its modules, sys.path, the environment, the working directory,
    deterministic mode and dynamo's caches. The whole-space test confirms any failure in a fresh
    process, so a leak cannot hide as a pass of the wrong kind.
    """
    import contextlib
    import io

    import pytest

    saved_env, saved_path, saved_cwd = dict(os.environ), list(sys.path), os.getcwd()
    output = io.StringIO()
    try:
        os.chdir(dest)
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = pytest.main(
                [
                    str(dest / "tests"),
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    f"--rootdir={dest}",
                    f"--basetemp={dest / '.pytest-tmp'}",
                ]
            )
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)
        for name, module in list(sys.modules.items()):
            if name in ("train", "test_train", "conftest") or str(
                getattr(module, "__file__", None) or ""
            ).startswith(str(dest)):
                del sys.modules[name]
        import torch

        torch.use_deterministic_algorithms(False)
        if "torch._dynamo" in sys.modules:
            torch._dynamo.reset()
    return int(code), output.getvalue()


def _worker() -> None:
    """Serve `{"dest", "answers"}` JSON lines on stdin: render, run the tests, answer one line.

    Protocol lines go to a private copy of stdout; anything else written to fd 1 or 2 is dropped,
    so a stray print cannot corrupt the protocol.
    """
    import json
    import shutil
    import time

    channel = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    for line in sys.stdin:
        job = json.loads(line)
        dest = Path(job["dest"])
        start = time.perf_counter()
        try:
            write_project(dest, job["answers"])
            code, output = run_project_tests_in_process(dest)
        except Exception as exc:  # a render or harness error is a failed draw, not a dead worker
            code, output = -1, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
        if code == 0 and not job.get("keep"):
            shutil.rmtree(dest, ignore_errors=True)
        channel.write(json.dumps({"code": code, "output": output[-6000:], "seconds": seconds}) + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    _worker()
