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
