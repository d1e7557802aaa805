"""Top-level pytest configuration shared by the tool's tests: kept minimal on purpose."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# tests/helpers.py is imported as `helpers` by the verification tests (and tests/sampling.py as
# `sampling`).
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sampling  # noqa: E402


def pytest_configure(config):
    # Also declared in pyproject.toml; registering here keeps --strict-markers happy.
    config.addinivalue_line("markers", "fuzz: the long hypothesis run (>= 500 answer sets)")
    sampling.configure(config)
    # pytest-xdist workers (the default run uses them: pyproject addopts) must collect the same
    # tests as each other, so the rotating blocks and the whole-space draws need ONE seed: the
    # workers start after this hook and inherit it from the environment.
    os.environ.setdefault("SCAFFOLD_SEED", str(sampling.SEED))


def pytest_terminal_summary(terminalreporter):
    for line in sampling.summary_lines():
        terminalreporter.write_line(line)
