"""The rotating blocks of tests/sampling.py: they partition the cases, and -m slow takes them all."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sampling

CASES = [f"case-{i:02d}" for i in range(22)]


@pytest.mark.parametrize("blocks", [1, 2, 4, 5, 22])
def test_blocks_partition_the_cases_and_seeds_cover_them(blocks):
    picked = [sampling.block(CASES, blocks, seed) for seed in range(blocks)]
    assert sorted(case for chunk in picked for case in chunk) == sorted(CASES)
    assert max(map(len, picked)) - min(map(len, picked)) <= 1
    assert sampling.block(CASES, blocks, 7 * blocks + 1) == picked[1 % blocks]


@pytest.mark.parametrize(
    "expr, everything",
    [
        ("", True),
        ("slow", True),
        ("slow or not slow", True),
        ("not slow and not fuzz and not matrix", False),
        ("matrix", False),
    ],
)
def test_only_a_run_that_selects_slow_tests_takes_every_case(monkeypatch, expr, everything):
    monkeypatch.setattr(sampling, "_state", {"all": None})
    sampling.configure(SimpleNamespace(getoption=lambda name: expr))
    assert sampling.runs_everything() is everything
    params = sampling.rotating("probe", CASES, 4)
    sampling.chosen.pop("probe")  # not a real check: keep it out of the end-of-run summary
    unmarked = [p.values[0] for p in params if not p.marks]
    assert unmarked == ([] if everything else sampling.block(CASES, 4))
    if everything:  # all carry `slow`, so `-m slow` selects every one
        assert all(m.name == "slow" for p in params for m in p.marks)
