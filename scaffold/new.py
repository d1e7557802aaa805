"""`scaffold new`: gather answers, refuse unsafe destinations, render, commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scaffold.options import (
    AnswerError,
    Asker,
    Question,
    load_answers_file,
    parse_assignments,
    resolve_answers,
)
from scaffold.render import RenderedProject, render_project


class UsageError(ValueError):
    """A mistake in how the command was called; `str(err)` is one readable line."""


def gather_answers(
    answers_file: Path | None, assignments: list[str], flags: Mapping[str, Any]
) -> dict[str, Any]:
    """Merge the user's answers; later sources win: answers file, then --set, then typed flags."""
    given: dict[str, Any] = {}
    if answers_file is not None:
        given.update(load_answers_file(answers_file))
    given.update(parse_assignments(assignments))
    given.update({key: value for key, value in flags.items() if value is not None})
    return given


def default_project_name(dest: Path) -> str:
    """A Python identifier derived from the destination folder's name."""
    name = re.sub(r"\W+", "_", dest.resolve().name).strip("_").lower() or "project"
    return f"p_{name}" if name[0].isdigit() else name[:64]


def check_destination(dest: Path, force: bool) -> None:
    """Refuse a destination that is a file, or a non-empty folder without --force.

    Raises:
        UsageError: naming the problem and the way out.
    """
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise UsageError(f"{dest} is not empty; choose an empty folder or pass --force")


def create_project(
    dest: Path,
    given: Mapping[str, Any],
    *,
    ask: Asker | None = None,
    should_ask: Callable[[Question], bool] | None = None,
    force: bool = False,
    git: bool = True,
) -> RenderedProject:
    """Validate every answer, then render the project into `dest`.

    Nothing is written until all answers are valid and the destination is acceptable.

    Args:
        dest: Destination folder.
        given: Answers fixed by the user (raw strings or typed values).
        ask: Interactive asker for the questions not given (None: use defaults).
        should_ask: Which unanswered questions go to `ask`.
        force: Allow a non-empty destination.
        git: Initialise a git repository and commit the fresh project.

    Raises:
        UsageError: bad destination.
        AnswerError: bad answer.
    """
    check_destination(dest, force)
    given = dict(given)
    given.setdefault("project_name", default_project_name(dest))
    answers = resolve_answers(given, ask=ask, should_ask=should_ask)
    check_destination(dest, force)  # prompts take time: look again right before writing
    return render_project(answers, dest, overwrite=force, git=git)


__all__ = ["AnswerError", "UsageError", "create_project", "gather_answers", "default_project_name"]
