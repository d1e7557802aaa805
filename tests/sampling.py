"""Rotating subsets of expensive parametrised checks: a share of the cases in the default run, all
of them under `-m slow`.

A check with many costly cases (each one a subprocess that imports torch) runs one block of them
in the default suite. The blocks partition the cases, and the run's seed picks the block, so
successive runs with new seeds exercise every case; the seed is printed at the end of the run
and `SCAFFOLD_SEED=N` replays it (the same variable replays the whole-space sample). When the
run selects slow tests (`pytest -m slow`, or no `-m` at all), every case runs.

tests/conftest.py calls `configure` before any test module is imported, so `rotating` can build
parametrisations at import time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import pytest

SEED = int(os.environ.get("SCAFFOLD_SEED") or time.time_ns() % 2**32)
_state = {"all": True}
chosen: dict[str, list[str]] = {}  # label -> the cases this run exercises (for the summary)


def configure(config: pytest.Config) -> None:
    """Record whether this run's `-m` expression selects tests marked slow."""
    expr = config.getoption("markexpr") or ""
    if not expr:
        _state["all"] = True
        return
    try:
        from _pytest.mark.expression import Expression

        matches = Expression.compile(expr).evaluate
    except (ImportError, AttributeError):  # pytest moved it: the default block, never a skip
        _state["all"] = False
        return
    try:  # pytest >= 8.2 passes keyword arguments to the matcher as well
        _state["all"] = bool(matches(lambda name, **kwargs: name == "slow" and not kwargs))
    except TypeError:
        _state["all"] = bool(matches(lambda name: name == "slow"))


def runs_everything() -> bool:
    return _state["all"]


def block(cases: Sequence[str], blocks: int, seed: int = SEED) -> list[str]:
    """The cases of block `seed % blocks`: case i (in sorted order) belongs to block i % blocks."""
    ordered = sorted(cases)
    pick = seed % blocks
    return [case for i, case in enumerate(ordered) if i % blocks == pick]


def rotating(label: str, cases: Sequence[str], blocks: int) -> list:
    """pytest.param for every case; those outside this run's block are marked slow.

    Args:
        label: Names the check in the end-of-run summary.
        cases: Every case (ids); all of them run under `-m slow`.
        blocks: How many blocks the cases are split into (the default run takes one).
    """
    if runs_everything():  # marked slow too, so that `-m slow` selects every case
        chosen[label] = sorted(cases)
        return [pytest.param(case, id=case, marks=pytest.mark.slow) for case in sorted(cases)]
    picked = block(cases, blocks)
    chosen[label] = picked
    return [
        pytest.param(case, id=case, marks=() if case in picked else pytest.mark.slow)
        for case in sorted(cases)
    ]


def summary_lines() -> list[str]:
    lines = [f"rotating samples: seed {SEED} (replay: SCAFFOLD_SEED={SEED}; all cases: -m slow)"]
    if not chosen:  # the pytest-xdist controller collects nothing: the seed alone replays the run
        return lines
    for label, cases in sorted(chosen.items()):
        lines.append(f"  {label}: {len(cases)} case(s): {', '.join(cases)}")
    return lines
