"""The `scaffold` Typer application. Each command parses its input and calls one library function."""

from __future__ import annotations

import typer

from scaffold import __version__
from scaffold.cli import check, new, options, teach, update

app = typer.Typer(
    name="scaffold",
    help="Generate PyTorch training loops that are right by construction, and prove it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"scaffold {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Generate PyTorch training loops that are right by construction, and prove it."""


app.command("options")(options.options)
app.command("new", no_args_is_help=False)(new.new)
app.command("update")(update.update)
app.command("teach")(teach.teach)
app.command("check")(check.check)


def run() -> None:
    """Console-script entry point."""
    app()
