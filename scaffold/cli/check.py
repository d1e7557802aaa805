"""`scaffold check PATH...`: thin Typer front end over `scaffold.check.check_paths`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scaffold.check import CheckError, check_paths
from scaffold.check.output import FORMATS, RENDERERS, file_error_lines, summary


def check(
    paths: Annotated[list[Path], typer.Argument(help="Python files or directories to check.", metavar="PATH")],
    format: Annotated[
        str, typer.Option("--format", help="Output format: text, json, sarif or github.", metavar="FORMAT")
    ] = "text",
    select: Annotated[
        str,
        typer.Option(
            "--select",
            help="Comma-separated rule IDs or prefixes to report (`clip`, `ALL`; default all).",
            metavar="IDS",
        ),
    ] = "",
    ignore: Annotated[
        str, typer.Option("--ignore", help="Comma-separated rule IDs or prefixes to skip.", metavar="IDS")
    ] = "",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on hints too, not only on errors.")] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even with findings (files that cannot be checked still give 2).")
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print findings only: no summary, no progress.")] = False,
    progress: Annotated[
        bool, typer.Option("--progress", help="Show progress on stderr (default: only when stderr is a terminal).")
    ] = False,
) -> None:
    """Check training scripts for the classic training-loop mistakes.

    Exit 0 when clean (hints alone count as clean unless --strict), 1 with findings, 2 on usage
    errors or when a file could not be read or parsed (the other files are still checked and
    reported, and --format json/sarif still prints its document).
    """
    try:
        if format not in FORMATS:
            raise CheckError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
        show = not quiet and (progress or sys.stderr.isatty())
        report = check_paths(paths, select=select, ignore=ignore, on_file=_progress if show else None)
    except CheckError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if show and sys.stderr.isatty():
        typer.echo("\r\033[K", err=True, nl=False)  # clear the progress line
    text = RENDERERS[format](report)
    if text:
        typer.echo(text)
    if format == "text":
        for line in file_error_lines(report) + ([] if quiet else summary(report)):
            typer.echo(line, err=True)
    raise typer.Exit(report.exit_code(strict, exit_zero))


def _progress(number: int, total: int, path: Path) -> None:
    """`[12/6831] path` on one rewritten line of a terminal, or one line each otherwise."""
    line = f"[{number}/{total}] {path}"
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + line[-(120):])
    elif number == 1 or number == total or number % 100 == 0:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
