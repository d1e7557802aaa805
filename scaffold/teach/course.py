"""What every part of `teach` shares: which lessons a task's course holds, the stored
measurements, and the commands that refresh them. Text only, no torch.

The variants (`scaffold.teach.build`) and the lesson prose (`scaffold.teach.lessons`) both read
these, so neither needs the other's module for them.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from scaffold.catalogue import BUGS, MEASURED_ON, applies, teaching_tasks

MEASURED = Path(__file__).resolve().parent / "measured.json"
# Development tools in scaffold's repository (tools/, not in the wheel): the lessons name them.
MEASURE_COMMAND = "python -m tools.teach_measure"
REGENERATE_COMMAND = "python -m tools.teach_regen"
DEFAULT_TASK = MEASURED_ON  # `scaffold teach` without --task, and the goldens


class TeachError(ValueError):
    """A mistake in how `teach` was called; `str(err)` is one readable line."""


@functools.lru_cache(maxsize=1)
def measured() -> dict[str, Any]:
    """The stored measurements (written by `MEASURE_COMMAND`)."""
    if not MEASURED.is_file():
        return {}
    return json.loads(MEASURED.read_text(encoding="utf-8"))


def require_task(task: str) -> None:
    """Refuse a task the template does not have (one line, for the CLI)."""
    if task not in teaching_tasks():
        choices = ", ".join(teaching_tasks())
        raise TeachError(f"unknown task {task!r}: choose one of {choices}")


def course_ids(task: str = DEFAULT_TASK) -> list[str]:
    """The catalogue IDs that `task` shows, in catalogue order."""
    require_task(task)
    return [bug.id for bug in BUGS if applies(bug.id, task)]
