"""`scaffold new`: gather answers, refuse unsafe destinations, render, commit."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
from scaffold.render import (
    RenderedProject,
    blocking_paths,
    enclosing_repository,
    owned_files,
    render_project,
    replaced_files,
)


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


NAME_MAX = 255  # bytes per path component on Linux, macOS and Windows filesystems


def default_project_name(dest: Path) -> str:
    """A Python identifier derived from the destination folder's name.

    Accents are folded to ASCII (`café` -> `cafe`), every other run of non-identifier characters
    becomes `_`, a leading digit gets a `p_` prefix, and the result is cut to the 64 characters
    the project_name validator allows. A name with no ASCII letter or digit gives `project`.
    """
    folded = unicodedata.normalize("NFKD", dest.absolute().name)
    ascii_name = folded.encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_").lower() or "project"
    if name[0].isdigit():
        name = f"p_{name}"
    return name[:64].rstrip("_")


def check_destination(dest: Path, force: bool) -> None:
    """Refuse a destination scaffold cannot or must not write, before anything is written.

    Raises:
        UsageError: naming the problem and the way out.
    """
    for part in dest.parts:
        if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
            raise UsageError(
                f"the name {part[:20]}... is {len(part)} characters long; "
                f"folder names are limited to {NAME_MAX} bytes"
            )
    if dest.is_symlink() and not dest.exists():
        raise UsageError(
            f"{dest} is a symbolic link to {os.readlink(dest)}, which does not exist; "
            "remove the link or create its target"
        )
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} exists and is not a folder")
    for parent in dest.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{parent} is a file, so {dest} cannot be created inside it")
            if not dest.exists() and not os.access(parent, os.W_OK | os.X_OK):
                raise UsageError(f"cannot create {dest}: {parent} is not writable")
            break
    if dest.is_dir():
        if not os.access(dest, os.W_OK | os.X_OK):
            raise UsageError(f"cannot write into {dest}: permission denied or read-only")
        if any(dest.iterdir()) and not force:
            raise UsageError(f"{dest} is not empty; choose an empty folder or pass --force")
        blocked = blocking_paths(dest, owned_files())
        if blocked:
            raise UsageError(
                f"{dest} has {', '.join(blocked)} where the project needs "
                f"{'a file' if len(blocked) == 1 else 'files'} of its own; move "
                f"{'it' if len(blocked) == 1 else 'them'} away first"
            )


@dataclass(frozen=True)
class NewPlan:
    """What `new` will write, decided before writing (and all that `--pretend` does)."""

    dest: Path
    files: tuple[str, ...]
    replaced: tuple[str, ...]
    commit_note: str


def plan_new(dest: Path, answers: Mapping[str, Any] | None = None) -> NewPlan:
    """The files `new` writes into `dest` for `answers` (default: the default answers), which of
    them already exist, and whether it commits."""
    files = owned_files(answers)
    replaced = replaced_files(dest, files) if dest.is_dir() else []
    parent = next((p for p in [dest, *dest.absolute().parents] if p.is_dir()), None)
    top = enclosing_repository(parent) if parent is not None else None
    note = f"will not commit: {dest} is inside the git repository {top}" if top else ""
    return NewPlan(dest=dest, files=tuple(files), replaced=tuple(replaced), commit_note=note)


def create_project(
    dest: Path,
    given: Mapping[str, Any],
    *,
    ask: Asker | None = None,
    should_ask: Callable[[Question], bool] | None = None,
    force: bool = False,
    git: bool = True,
    pretend: bool = False,
    before_writing: Callable[[NewPlan], None] | None = None,
) -> RenderedProject | NewPlan:
    """Validate every answer, then render the project into `dest`.

    Nothing is written until all answers are valid and the destination is acceptable; then the
    project is rendered beside `dest` and moved into place (see `render_project`), so a failure
    or Ctrl-C leaves `dest` as it was.

    Args:
        dest: Destination folder.
        given: Answers fixed by the user (raw strings or typed values).
        ask: Interactive asker for the questions not given (None: use defaults).
        should_ask: Which unanswered questions go to `ask`.
        force: Allow a non-empty destination (only the template's files are replaced).
        git: Commit the fresh project in a new repository (never inside an existing one).
        pretend: Validate and plan only: return the plan, write nothing.
        before_writing: Called with the plan right before anything is written (the CLI lists the
            files it will replace).

    Returns:
        The plan when `pretend`, else the written project.

    Raises:
        UsageError: bad destination, or it cannot be written (nothing was).
        AnswerError: bad answer.
    """
    check_destination(dest, force)
    if dest.is_symlink() and dest.is_dir():
        dest = dest.resolve()  # write into the folder the link names, keep the link
    given = dict(given)
    given.setdefault("project_name", default_project_name(dest))
    answers = resolve_answers(given, ask=ask, should_ask=should_ask)
    check_destination(dest, force)  # prompts take time: look again right before writing
    plan = plan_new(dest, answers)
    if pretend:
        return plan
    if before_writing is not None:
        before_writing(plan)
    try:
        return render_project(answers, dest, overwrite=force, git=git)
    except OSError as exc:
        where = exc.filename or dest
        raise UsageError(f"cannot write {where}: {exc.strerror or exc}") from None


__all__ = [
    "AnswerError",
    "NewPlan",
    "UsageError",
    "create_project",
    "default_project_name",
    "gather_answers",
    "plan_new",
]
