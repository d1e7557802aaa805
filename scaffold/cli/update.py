"""`scaffold update [DEST] [--set KEY=VALUE]...`: template updates and answer changes, 3-way merged."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from scaffold.cli.errors import CONFLICTS_EXIT, exit_code, fail


def _show(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _interactive() -> bool:
    """Ask new questions only when a person is at a terminal."""
    return sys.stdin.isatty()


def update(
    dest: Path = typer.Argument(
        Path("."),
        metavar="[DEST]",
        help="The project to update (default: the current folder).",
        show_default=False,
    ),
    set_: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="Change an answer (repeatable).", show_default=False
    ),
) -> None:
    """Bring a project to this scaffold's template version, keeping your edits (3-way merge).

    With --set, change answers too (e.g. --set precision=bf16): the code is re-rendered and merged.
    Questions new in the template are asked on a terminal (otherwise they take their defaults).
    Run it anywhere inside the project (the answers file is looked up upwards, as git does).
    The result is left uncommitted for review with `git diff`. Exit codes: 0 updated (or nothing
    to do), 2 refused (nothing written), 3 updated with conflicts to resolve.
    """
    from scaffold.options import AnswerError
    from scaffold.update import (
        UpdateError,
        apply_update,
        keep_command,
        plan_update,
        review_command,
        undo_command,
    )

    ask = None
    if _interactive():
        from scaffold.cli.prompts import Prompter

        ask = Prompter().ask
    plan = None
    try:
        plan = plan_update(dest, set_, ask=ask)
        result = apply_update(plan)
    except (AnswerError, UpdateError) as exc:
        fail(exc)
    except (typer.Abort, EOFError):
        fail("input ended before every new question was answered")
    except KeyboardInterrupt as exc:
        if plan is None:
            fail("interrupted before the update was written; nothing changed", exit_code(exc))
        fail(
            f"interrupted while updating; undo any partial change: {undo_command(plan.dest)}",
            exit_code(exc),
        )
    dest = plan.dest

    if plan.is_noop:
        typer.echo(
            f"{dest}: already at template {plan.new_version} with these answers; nothing to do"
        )
        return
    step = (
        f"template {plan.old_version} -> {plan.new_version}"
        if plan.old_version != plan.new_version
        else f"template {plan.new_version}"
    )
    typer.echo(f"updated {dest}: {step}")
    for key, (old, new) in plan.changed_answers.items():
        typer.echo(
            f"  {key}: {_show(old) if old is not None else '(unset)'} -> {_show(new) if new is not None else '(unset)'}"
        )
    notes = [change.note(result.conflicts, plan.kept_user_files) for change in plan.layout_changes]
    if result.conflicts:
        typer.echo(
            f"conflicts in {len(result.conflicts)} file(s) (your side and the template's, marked inline):",
            err=True,
        )
        for rel in result.conflicts:
            typer.echo(f"  {rel}", err=True)
        for note in notes:  # what the conflicts mean when the template moved code between files
            typer.echo(note, err=True)
        typer.echo(
            "resolve: edit each file between '<<<<<<< before updating' and '>>>>>>> after updating', "
            f"keep what you want, then `git add FILE`; review the rest with `{review_command(dest)}`",
            err=True,
        )
        typer.echo(f"undo the whole update: {undo_command(dest)}", err=True)
        raise typer.Exit(CONFLICTS_EXIT)
    typer.echo(
        f"{len(result.changed_files)} file(s) changed, not committed: review with `{review_command(dest)}`"
    )
    for note in notes:
        typer.echo(note)
    for rel in result.formatted:
        typer.echo(f"  black-formatted {rel} (a file the update added)")
    typer.echo(f"keep: {keep_command(dest, plan.new_version)}")
    typer.echo(f"undo: {undo_command(dest)}")
