"""`scaffold teach`: list the classic mistakes, or write one (or all) as lesson folders."""

from __future__ import annotations

from pathlib import Path

import typer

from scaffold.catalogue import MEASURED_ON, teaching_tasks
from scaffold.cli.errors import fail


def teach(
    bug_id: str | None = typer.Argument(
        None, help="Mistake ID (see --list); with --all, DEST.", show_default=False
    ),
    dest: Path | None = typer.Argument(
        None, help="Folder to write the lesson into.", show_default=False
    ),
    list_: bool = typer.Option(False, "--list", help="List the mistake IDs and exit."),
    all_: bool = typer.Option(
        False, "--all", help="Write every lesson as a course: scaffold teach --all DEST."
    ),
    plot: bool = typer.Option(False, "--plot", help="Also draw symptom.png (needs matplotlib)."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty DEST."),
    task: str | None = typer.Option(
        None,
        "--task",
        metavar="TASK",
        help=f"The project task whose loop gets the mistake ({', '.join(teaching_tasks())}; default "
        f"{MEASURED_ON}, where the symptoms are measured). With --list: only the IDs that task shows.",
        show_default=False,
    ),
) -> None:
    """Write the correct training loop with one classic mistake, its lesson and a test that measures it."""
    from scaffold.teach import TeachError
    from scaffold.teach import teach as run_teach

    try:
        typer.echo(
            run_teach(bug_id, dest, list_=list_, all_=all_, plot=plot, force=force, task=task)
        )
    except TeachError as exc:
        fail(exc)
