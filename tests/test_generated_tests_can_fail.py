"""The generated tests are only worth shipping if they catch the mistakes they name.

Each case breaks the rendered loop in one way and checks that the matching generated test fails
(and that the unbroken loop passes it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold import options, render

ENV = dict(os.environ, OMP_NUM_THREADS="1")
ANSWERS = {"accum_steps": 4, "precision": "fp16", "scheduler": "onecycle", "annotations": "none"}

MUTATIONS = {
    "clip-after-step": (
        "test_order_contract",
        [
            (
                "            torch.nn.utils.clip_grad_norm_(c.model.parameters(), cfg.grad_clip)\n",
                "",
            ),
            (
                "        c.scaler.update()\n",
                "        c.scaler.update()\n        torch.nn.utils.clip_grad_norm_(c.model.parameters(), 1.0)\n",
            ),
        ],
    ),
    "constant-accumulation-divisor": (
        "test_accumulation_equals_large_batch",
        [
            (
                "share = loss * (y.size(0) / windows[i // cfg.accum_steps])",
                "share = loss / cfg.accum_steps",
            )
        ],
    ),
    "loader-rng-not-restored": (
        "test_resume_matches_uninterrupted",
        [('    generator.set_state(state["rng"]["loader"])\n', "")],
    ),
    "validation-in-train-mode": ("test_validation_mode", [("    c.model.eval()\n", "")]),
    "no-optimizer-step": ("test_learns", [("        c.scaler.step(c.optimizer)\n", "")]),
    "scheduler-per-micro-batch": (
        "test_scheduler_cadence",
        [
            (
                "\n        seen += y.size(0)\n",
                "\n        seen += y.size(0)\n        c.scheduler.step()\n",
            )
        ],
    ),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mutants")
    for rel, text in render.render_in_memory(options.resolve_answers(ANSWERS)).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def run_test(project: Path, test: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", test],
        cwd=project,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_generated_test_catches_the_mistake(project, name):
    test, edits = MUTATIONS[name]
    original = (project / "train.py").read_text()
    broken = original
    for old, new in edits:
        assert broken.count(old) == 1, f"mutation anchor drifted: {old!r}"
        broken = broken.replace(old, new)
    try:
        (project / "train.py").write_text(broken)
        assert run_test(project, test).returncode == 1, f"{test} did not catch {name}"
    finally:
        (project / "train.py").write_text(original)
    assert run_test(project, test).returncode == 0, f"{test} fails on the correct loop"
