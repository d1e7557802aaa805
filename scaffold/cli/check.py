"""`scaffold check PATH...`: thin Typer front end over `scaffold.check.check_paths`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scaffold.check import CheckError, check_paths

_FORMATS = ("text", "json")


def check(
    paths: Annotated[list[Path], typer.Argument(help="Python files or directories to check.", metavar="PATH")],
    format: Annotated[str, typer.Option("--format", help="Output format: text or json.", metavar="text|json")] = "text",
    select: Annotated[
        str,
        typer.Option("--select", help="Comma-separated rule IDs to report (default: all).", metavar="IDS"),
    ] = "",
    ignore: Annotated[str, typer.Option("--ignore", help="Comma-separated rule IDs to skip.", metavar="IDS")] = "",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on hints too, not only on errors.")] = False,
) -> None:
    """Check training scripts for the classic training-loop mistakes.

    Exit 0 when clean (hints alone count as clean unless --strict), 1 with findings, 2 on usage
    errors or files that do not parse.
    """
    try:
        if format not in _FORMATS:
            raise CheckError(f"--format must be one of {', '.join(_FORMATS)}, not {format!r}")
        report = check_paths(paths, select=select, ignore=ignore)
    except CheckError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if format == "json":
        payload = {
            "files_checked": report.files_checked,
            "findings": [f.to_json() for f in report.findings],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        for finding in report.findings:
            typer.echo(finding.to_text())
        if report.findings:
            hints = len(report.findings) - len(report.errors)
            summary = f"{len(report.findings)} finding(s), {hints} of them hint(s)"
            typer.echo(f"{summary}, in {report.files_checked} file(s)", err=True)
    raise typer.Exit(report.exit_code(strict))
