"""`python -m scaffold.check PATH...`: the same command as `scaffold check`."""

from __future__ import annotations

import typer

from scaffold.cli.check import check


def main() -> None:
    """Run the check command as a standalone Typer app."""
    app = typer.Typer(add_completion=False)
    app.command()(check)
    app()


if __name__ == "__main__":
    main()
