"""Top-level pytest configuration shared by the tool's tests: kept minimal on purpose."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/helpers.py is imported as `helpers` by the verification tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_configure(config):
    # Also declared in pyproject.toml by the lead; registering here keeps --strict-markers happy.
    config.addinivalue_line("markers", "fuzz: the long hypothesis run (>= 500 answer sets)")
