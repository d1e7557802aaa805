"""The `scaffold` Typer application. Each command parses its input and calls one library function.

The commands are loaded lazily: `scaffold --help` (and shell completion of command names) imports
no command module, so it never pays for copier, black, Jinja or the checker. A command's module is
imported when the command runs or its own `--help` is shown.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from scaffold import __version__

# name: (module, function, one-line summary shown by `scaffold --help` and atop the command's help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "new": ("scaffold.cli.new", "new", "Create a training project in DEST (asks, or takes flags)."),
    "update": ("scaffold.cli.update", "update", "Bring a project to this template version, keeping your edits."),
    "options": ("scaffold.cli.options", "options", "List every question: type, choices, default, help."),
    "teach": ("scaffold.cli.teach", "teach", "Write a classic loop mistake as a lesson with its measured symptom."),
    "check": ("scaffold.cli.check", "check", "Find the classic loop mistakes in any training script."),
}
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def template_version() -> str:
    """The newest template version in the shipped bundle (read from its header, without git)."""
    from scaffold.versioning import VersioningError, latest_version

    try:
        return latest_version()
    except VersioningError:
        return "unknown (template bundle missing)"


class Command(TyperCommand):
    """A Typer command whose usage line and help table read like a classic Unix tool's.

    `scaffold new [OPTIONS] DEST`, not `{dest}`; an argument's or flag's row shows no `<path>` or
    `<bool>` placeholder (its name says it); other options show their METAVAR.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = (param.metavar or param.name or "ARG").upper()
                name = name if param.required or name.startswith("[") else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument) or getattr(param, "is_flag", False):
                param.display_type_rich = _no_type  # type: ignore[method-assign]
                if isinstance(param, TyperArgument) and param.metavar is None:
                    param.metavar = (param.name or "ARG").upper()
            elif param.metavar is None and hasattr(param, "display_type"):
                param.metavar = str(param.display_type(ctx)).strip("<>").upper()
        super().format_help(ctx, formatter)


def _no_type(ctx: Any) -> None:
    return None


class LazyGroup(TyperGroup):
    """A Typer group that imports a command's module only when that command is used."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> TyperCommand | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, summary = COMMANDS[cmd_name]
        if self._listing:  # the overview needs the summary only: no import
            return TyperCommand(cmd_name, help=summary, short_help=summary)
        function = getattr(importlib.import_module(module_name), attr)
        sub = typer.Typer(context_settings=CONTEXT, rich_markup_mode="rich", add_completion=False)
        details = (function.__doc__ or "").strip().partition("\n\n")[2]  # after its summary line
        sub.command(cmd_name, cls=Command, help=f"{summary}\n\n{details}" if details else summary)(function)
        command = typer.main.get_command(sub)
        command.name = cmd_name
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="scaffold",
    cls=LazyGroup,
    help="Generate PyTorch training loops that are right by construction, and prove it.",
    epilog=(
        "Examples: [bold]scaffold new demo --defaults[/]  ·  "
        "[bold]scaffold new demo --precision bf16 --accum-steps 4[/]  ·  "
        "[bold]scaffold teach --list[/]  ·  [bold]scaffold check train.py[/]"
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings=CONTEXT,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"scaffold {__version__} (template {template_version()})")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Generate PyTorch training loops that are right by construction, and prove it."""


def run(argv: Any = None) -> None:
    """Console-script entry point: run the command, then leave without tearing the interpreter down.

    After `scaffold new` the interpreter holds copier, Jinja's compiled templates and black;
    freeing all of that object by object at shutdown takes 0.2-0.3 s on a 2-core machine, a sixth
    of the command. Everything a normal exit does that matters still happens, in order: the
    running threads are waited for, the atexit handlers run (temporary folders, worker processes,
    plumbum's cleanups) and stdout and stderr are flushed; then `os._exit` ends the process with
    the command's exit code.
    """
    try:
        app(argv)
        code: Any = 0
    except SystemExit as done:
        code = done.code
    _leave(code)


def _leave(code: Any) -> None:
    """Exit like `sys.exit(code)` would, minus the interpreter's teardown (see `run`)."""
    import atexit
    import os
    import threading

    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): the message, then status 1
        print(code, file=sys.stderr)
        code = 1
    try:
        for thread in threading.enumerate():  # a normal exit waits for these first
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()  # noqa: SLF001 - the handlers a normal exit would run
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: nothing more can reach it anyway
                pass
        os._exit(code & 0xFF)
