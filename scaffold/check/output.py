"""Output formats of `scaffold check`: text, JSON, SARIF 2.1.0 and GitHub workflow annotations.

Each formatter takes a `Report` and returns the whole text to print on stdout, so that the CLI
stays a thin front end and every format is testable without it.
"""

from __future__ import annotations

import json
from collections import Counter

from scaffold import __version__
from scaffold.catalogue import BUGS
from scaffold.check.findings import HINT, Report

FORMATS = ("text", "json", "sarif", "github")

_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_DOCS = "docs/check.md"


def render_text(report: Report) -> str:
    """One line per finding: `path:line:col: ID message (why)`. Files that could not be checked
    are reported on stderr by `file_error_lines`."""
    return "\n".join(f.to_text() for f in report.findings)


def file_error_lines(report: Report) -> list[str]:
    """One `error: path:line:col: what is wrong` line per file that could not be checked."""
    return [f"error: {e.to_text()}" for e in report.file_errors]


def render_json(report: Report) -> str:
    """Every finding (with title, why, severity and confidence) and every file error."""
    payload = {
        "files_checked": report.files_checked,
        "findings": [f.to_json() for f in report.findings],
        "file_errors": [e.to_json() for e in report.file_errors],
    }
    return json.dumps(payload, indent=2)


def render_sarif(report: Report) -> str:
    """A SARIF 2.1.0 log: one run, every catalogue rule, findings as results, and files that
    could not be checked as tool execution notifications."""
    rules = [
        {
            "id": bug.id,
            "name": bug.id,
            "shortDescription": {"text": bug.title},
            "fullDescription": {"text": bug.why},
            "help": {"text": f"{bug.why}. See {_DOCS}, section {bug.id}."},
            "defaultConfiguration": {"level": "note" if bug.kind in ("hint", "myth") else "error"},
        }
        for bug in BUGS
    ]
    index = {bug.id: i for i, bug in enumerate(BUGS)}
    results = [
        {
            "ruleId": f.id,
            "ruleIndex": index[f.id],
            "level": "note" if f.severity == HINT else "error",
            "message": {"text": f"{f.message} ({f.why})"},
            "locations": [_location(f.path, f.line, f.col)],
            "properties": {"confidence": f.confidence},
        }
        for f in report.findings
    ]
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [_location(e.path, e.line or 1, e.col or 1)],
        }
        for e in report.file_errors
    ]
    log = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "scaffold-check", "version": __version__, "rules": rules}},
                "results": results,
                "invocations": [
                    {"executionSuccessful": not report.file_errors, "toolExecutionNotifications": notifications}
                ],
            }
        ],
    }
    return json.dumps(log, indent=2)


def _location(path: str, line: int, col: int) -> dict[str, object]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": path.replace("\\", "/")},
            "region": {"startLine": max(line, 1), "startColumn": max(col, 1)},
        }
    }


def _escape(text: str, prop: bool = False) -> str:
    """GitHub workflow-command escaping (data, or a property value)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render_github(report: Report) -> str:
    """`::error file=...,line=...,col=...,title=ID::message` lines, which GitHub Actions shows as
    annotations on the pull request (hints as `::notice`)."""
    lines = []
    for f in report.findings:
        kind = "notice" if f.severity == HINT else "error"
        props = f"file={_escape(f.path, True)},line={f.line},col={f.col},title={_escape(f.id, True)}"
        lines.append(f"::{kind} {props}::{_escape(f'{f.message} ({f.why})')}")
    for e in report.file_errors:
        props = f"file={_escape(e.path, True)},line={max(e.line, 1)},title=not checked"
        lines.append(f"::error {props}::{_escape(e.message)}")
    return "\n".join(lines)


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "github": render_github}


def summary(report: Report) -> list[str]:
    """The stderr summary of a text run: a per-file count when several files have findings,
    then one total line. Empty for a clean run."""
    lines: list[str] = []
    per_file = Counter(f.path for f in report.findings)
    if len(per_file) > 1:
        hints = Counter(f.path for f in report.findings if f.severity == HINT)
        width = max(len(p) for p in per_file)
        for path, count in sorted(per_file.items()):
            lines.append(f"  {path:{width}}  {count} finding(s), {hints[path]} hint(s)")
    if report.findings or report.file_errors:
        hints_total = len(report.findings) - len(report.errors)
        total = f"{len(report.findings)} finding(s), {hints_total} of them hint(s), in {report.files_checked} file(s)"
        if report.file_errors:
            total += f"; {len(report.file_errors)} file(s) could not be checked"
        lines.append(total)
    return lines
