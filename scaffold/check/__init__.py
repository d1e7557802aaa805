"""`scaffold check`: a static analyser for the classic PyTorch training-loop mistakes.

Every rule reports an ID from `scaffold.catalogue`. Entry points: `check_source` for one string,
`check_paths` for files and directories. Neither imports torch.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from pathlib import Path

from scaffold.catalogue import BUGS_BY_ID
from scaffold.check.flow import Flow
from scaffold.check.index import ModuleIndex
from scaffold.check.model import Finding, Report, severity_of
from scaffold.check.rules import LocalRules
from scaffold.check.suppress import suppressions

__all__ = [
    "CheckError",
    "Finding",
    "Report",
    "check_paths",
    "check_source",
    "parse_ids",
]

# Directories never worth walking into.
_SKIP_DIRS = {
    ".git",
    ".hg",
    ".venv",
    "venv",
    "__pycache__",
    "node_modules",
    ".tox",
    "build",
    "dist",
}


class CheckError(Exception):
    """A usage problem or an unreadable/unparsable file; the CLI prints it and exits 2."""


def parse_ids(text: str | Iterable[str] | None) -> frozenset[str]:
    """Parse a comma-separated ID list and check each ID against the catalogue.

    Raises:
        CheckError: for an ID the catalogue does not know.
    """
    if text is None:
        return frozenset()
    parts = text.split(",") if isinstance(text, str) else list(text)
    ids = frozenset(p.strip() for p in parts if p.strip())
    unknown = sorted(ids - BUGS_BY_ID.keys())
    if unknown:
        raise CheckError(f"unknown rule ID {', '.join(unknown)} (see `scaffold teach --list`)")
    return ids


def check_source(
    source: str,
    path: str = "<string>",
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Check one module's source text.

    Args:
        source: Python source.
        path: Name to report findings under.
        select: If given, only these IDs are reported.
        ignore: IDs never reported.

    Returns:
        Sorted findings, without suppressed ones.

    Raises:
        CheckError: if the source does not parse.
    """
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise CheckError(f"{path}:{exc.lineno or 0}:{exc.offset or 0}: cannot parse: {exc.msg}") from None
    except ValueError as exc:  # e.g. null bytes
        raise CheckError(f"{path}: cannot parse: {exc}") from None
    selected, ignored = frozenset(select), frozenset(ignore)
    quiet = suppressions(source)
    found: dict[tuple[str, int, int], Finding] = {}
    seen_keys: set[object] = set()

    def emit(bug_id: str, line: int, col: int, message: str, key: object, severity: str | None = None) -> None:
        if (selected and bug_id not in selected) or bug_id in ignored or bug_id in quiet.get(line, ()):
            return
        if key is not None:
            if key in seen_keys:
                return
            seen_keys.add(key)
        found.setdefault(
            (bug_id, line, col),
            Finding(path, line, col, bug_id, message, severity or severity_of(bug_id)),
        )

    index = ModuleIndex.build(tree)
    try:
        Flow(index, emit).run()
    except RecursionError:  # pathologically deep code: report what the shape rules find
        pass
    LocalRules(index, emit).run()
    return sorted(found.values(), key=lambda f: (f.line, f.col, f.id))


def _expand(paths: Sequence[Path | str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*.py")) if not (_SKIP_DIRS & set(p.relative_to(path).parts[:-1]))
            )
        elif path.is_file():
            files.append(path)
        else:
            raise CheckError(f"{path}: no such file or directory")
    return files


def check_paths(
    paths: Sequence[Path | str],
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
) -> Report:
    """Check files and directories (walked for `*.py`).

    Args:
        paths: Files or directories.
        select: Comma-separated IDs (or an iterable) to report exclusively.
        ignore: Comma-separated IDs (or an iterable) never to report.

    Raises:
        CheckError: for unknown IDs, missing paths, unreadable or unparsable files.
    """
    if not paths:
        raise CheckError("no paths given")
    selected, ignored = parse_ids(select), parse_ids(ignore)
    report = Report()
    for file in _expand(paths):
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckError(f"{file}: cannot read: {exc}") from None
        report.findings.extend(check_source(source, str(file), selected, ignored))
        report.files_checked += 1
    return report
