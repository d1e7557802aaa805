"""Precision/recall over the labelled corpus, docs freshness, a loose speed bound, and fuzzing."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as hs

from scaffold.catalogue import BUGS
from scaffold.check import CheckError, check_source
from scaffold.check.registry import RULES
from tools.check.evaluate import DEFAULT_CORPUS, evaluate, labels
from tools.check.ruledocs import render

ROOT = Path(__file__).resolve().parents[2]


def test_corpus_is_big_and_labelled() -> None:
    files = sorted(DEFAULT_CORPUS.glob("*.py"))
    assert len(files) >= 30
    clean = [f for f in files if not labels(f.read_text())]
    assert len(clean) >= 10
    labelled = {bug_id for f in files for bug_id, _ in labels(f.read_text())}
    assert labelled == {bug.id for bug in BUGS}, "every catalogue ID has at least one corpus example"
    for f in files:
        assert f.read_text().startswith("# expect: "), f.name


def test_precision_and_recall() -> None:
    score = evaluate()
    assert score.precision() >= 0.95, score.misses
    assert score.recall() >= 0.90, score.misses


def test_docs_are_generated_and_current() -> None:
    assert set(RULES) == {bug.id for bug in BUGS}
    assert (ROOT / "docs" / "check.md").read_text() == render(), (
        "docs/check.md is stale: python -m tools.check.ruledocs > docs/check.md"
    )


def test_two_thousand_lines_in_well_under_five_seconds() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from check_speed import big_source
    finally:
        sys.path.remove(str(ROOT / "bench"))
    source = big_source(2000)
    start = time.perf_counter()
    check_source(source)
    assert time.perf_counter() - start < 5.0


STEPS = {
    "zero": "optimizer.zero_grad()",
    "forward": "loss = criterion(model(x), y)",
    "backward": "loss.backward()",
    "clip": "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
    "step": "optimizer.step()",
}
CYCLE = ["zero", "forward", "backward", "clip", "step"]


def _loop(order: list[str]) -> str:
    body = "\n".join("        " + STEPS[s] for s in order)
    return f"import torch\ndef train(model, loader, optimizer, criterion):\n    for x, y in loader:\n{body}\n"


@given(hs.integers(min_value=0, max_value=len(CYCLE) - 1))
def test_every_rotation_of_the_canonical_cycle_is_clean(shift: int) -> None:
    # zero_grad first, zero_grad last, step first...: the same cycle seen from another point.
    order = CYCLE[shift:] + CYCLE[:shift]
    assert check_source(_loop(order)) == []


@given(hs.permutations(CYCLE))
def test_any_order_is_analysed_without_crashing(order: list[str]) -> None:
    found = {f.id for f in check_source(_loop(list(order)))}
    # Where the forward pass sits is not a catalogue matter; the cyclic order of the other four is.
    core = [s for s in order if s != "forward"]
    ring = [s for s in CYCLE if s != "forward"]
    if core in [ring[i:] + ring[:i] for i in range(len(ring))]:
        assert not found, order
    else:
        assert found, order


@settings(max_examples=50, deadline=None)
@given(hs.text(alphabet="fordinxy:()=.\n +-*[]#", max_size=80))
def test_garbage_never_raises_anything_but_checkerror(text: str) -> None:
    try:
        check_source(text)
    except CheckError:
        pass


def test_deeply_nested_source_is_reported_not_crashed() -> None:
    deep = "x = " + "(" * 500 + "1" + ")" * 500 + "\n"
    try:
        check_source(deep)
    except CheckError:
        pass
    src = textwrap.dedent("""
    def f(): return g()
    def g(): return f()
    f()
    """)
    assert check_source(src) == []


def test_deeply_nested_loops_stay_fast() -> None:
    src = "def f(model, opt, loader):\n"
    indent = "    "
    for i in range(25):
        src += f"{indent}for x{i} in loader:\n"
        indent += "    "
    src += f"{indent}opt.zero_grad()\n{indent}model(x0).sum().backward()\n{indent}opt.step()\n"
    start = time.perf_counter()
    assert check_source(src) == []
    assert time.perf_counter() - start < 5.0
