"""`scaffold options`: every question, its type, choices, default and help."""

from __future__ import annotations

import typer

from scaffold.cli.errors import fail
from scaffold.docs import options_table


def options(
    format: str = typer.Option("text", "--format", help="text, markdown or json."),
) -> None:
    """List every question of the template (read from copier.yml)."""
    try:
        typer.echo(options_table(format))
    except ValueError as exc:
        fail(exc)
