"""How the CLI reports errors a user can cause: one line on stderr, exit code 2."""

from __future__ import annotations

from typing import NoReturn

import typer

USAGE_EXIT = 2


def fail(message: object) -> NoReturn:
    """Print `error: message` on one line to stderr and exit 2 (never a traceback)."""
    text = " ".join(str(message).split())
    typer.echo(f"error: {text}", err=True)
    raise typer.Exit(USAGE_EXIT)
