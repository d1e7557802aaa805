"""The engine of `scaffold check`: parse, run every rule family, collect the findings.

`check_source` checks one string, `check_paths` files and directories. Neither imports torch.
"""

from __future__ import annotations

import ast
import io
import stat
import sys
import tokenize
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from scaffold.catalogue import BUGS_BY_ID
from scaffold.check.ddp import DdpRules
from scaffold.check.flow import Flow
from scaffold.check.imports import imported_functions
from scaffold.check.index import ModuleIndex
from scaffold.check.findings import FileError, Finding, Report, confidence_of, severity_of
from scaffold.check.rules import LocalRules
from scaffold.check.suppress import suppressions


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


_RECURSION_LIMIT = 8000


class CheckError(Exception):
    """A usage problem or an unreadable/unparsable file; the CLI prints it and exits 2.

    Attributes:
        line: Line of a syntax error (0 when the problem is not at a place in a file).
        col: Column of a syntax error.
    """

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.line = line
        self.col = col


def parse_ids(text: str | Iterable[str] | None) -> frozenset[str]:
    """Parse a comma-separated list of rule IDs or ID prefixes, ruff-style.

    `clip` selects every `clip-*` rule, `validation` both validation rules, `ALL` every rule.
    A prefix must match at least one rule.

    Raises:
        CheckError: for a code that matches no rule of the catalogue.
    """
    if text is None:
        return frozenset()
    parts = text.split(",") if isinstance(text, str) else list(text)
    ids: set[str] = set()
    unknown = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if part == "ALL":
            ids |= BUGS_BY_ID.keys()
            continue
        matched = {b for b in BUGS_BY_ID if b == part or b.startswith(part.rstrip("-") + "-")}
        if not matched:
            unknown.append(part)
        ids |= matched
    if unknown:
        raise CheckError(f"unknown rule ID {', '.join(sorted(unknown))} (see `scaffold teach --list`)")
    return frozenset(ids)


def decode_source(data: bytes, path: str = "<bytes>") -> str:
    """Decode a Python file the way the interpreter does: a UTF-8 BOM or a PEP 263
    `# -*- coding: ... -*-` line picks the encoding, UTF-8 otherwise.

    Raises:
        CheckError: for an unknown codec or bytes that do not decode.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        reason = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        if "encoding declaration" in reason or isinstance(exc, UnicodeDecodeError):
            reason = "not valid UTF-8, and no `# -*- coding: ... -*-` line names another encoding"
        raise CheckError(f"cannot decode: {reason}") from None


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
        raise CheckError(
            f"{path}:{exc.lineno or 0}:{exc.offset or 0}: cannot parse: {exc.msg}", exc.lineno or 0, exc.offset or 0
        ) from None
    except ValueError as exc:  # e.g. null bytes
        raise CheckError(f"{path}: cannot parse: {exc}") from None
    except (RecursionError, MemoryError):
        raise CheckError(f"{path}: cannot parse: nested too deeply (Python itself cannot compile it)") from None
    # The rules recurse along the tree; long operator chains (`a + b + ...`, thousands of terms)
    # need more than the default 1,000 frames. Deeper than this is reported, not crashed on.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
    try:
        return _analyse(tree, source, path, frozenset(select), frozenset(ignore))
    except (RecursionError, MemoryError):
        raise CheckError(f"{path}: not checked: an expression is nested too deeply to analyse") from None
    finally:
        sys.setrecursionlimit(limit)


def _analyse(
    tree: ast.Module, source: str, path: str, selected: frozenset[str], ignored: frozenset[str]
) -> list[Finding]:
    """Run every rule over a parsed module."""
    quiet = suppressions(source)
    found: dict[tuple[str, int, int], Finding] = {}
    seen_keys: set[object] = set()

    def emit(
        bug_id: str,
        line: int,
        col: int,
        message: str,
        key: object,
        severity: str | None = None,
        confidence: str | None = None,
    ) -> None:
        if (selected and bug_id not in selected) or bug_id in ignored or bug_id in quiet.get(line, ()):
            return
        if key is not None:
            if key in seen_keys:
                return
            seen_keys.add(key)
        found.setdefault(
            (bug_id, line, col),
            Finding(
                path,
                line,
                col,
                bug_id,
                message,
                severity or severity_of(bug_id),
                confidence or ("low" if severity == "hint" else confidence_of(bug_id)),
            ),
        )

    index = ModuleIndex.build(tree)
    index.imported = imported_functions(tree, path)
    index.foreign = {id(fn) for fn in index.imported.values()}
    index.lines = source.splitlines()
    Flow(index, emit).run()
    LocalRules(index, emit).run()
    DdpRules(index, emit).run()
    return sorted(found.values(), key=lambda f: (f.line, f.col, f.id))


def _is_pipe(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False


def _expand(paths: Sequence[Path | str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*.py")) if not (_SKIP_DIRS & set(p.relative_to(path).parts[:-1]))
            )
        elif path.is_file() or _is_pipe(path):  # a pipe: bash's <(...) process substitution
            files.append(path)
        elif path.exists():  # a device or a socket: reading it may never end
            raise CheckError(f"{path}: not a file, a folder or a pipe")
        else:
            raise CheckError(f"{path}: no such file or directory")
    return files


def check_paths(
    paths: Sequence[Path | str],
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
    on_file: Callable[[int, int, Path], None] | None = None,
) -> Report:
    """Check files and directories (walked for `*.py`).

    A file that cannot be read, decoded or parsed does not stop the run: it is recorded in
    `Report.file_errors` and the other files are still checked.

    Args:
        paths: Files or directories.
        select: Comma-separated IDs or ID prefixes (or an iterable) to report exclusively.
        ignore: Comma-separated IDs or ID prefixes (or an iterable) never to report.
        on_file: Called as `on_file(index, total, path)` before each file (progress).

    Raises:
        CheckError: for unknown IDs and paths that do not exist (usage errors).
    """
    if not paths:
        raise CheckError("no paths given")
    selected, ignored = parse_ids(select), parse_ids(ignore)
    report = Report()
    files = _expand(paths)
    for number, file in enumerate(files, 1):
        if on_file is not None:
            on_file(number, len(files), file)
        try:
            try:
                data = file.read_bytes()
            except OSError as exc:
                raise CheckError(f"cannot read: {exc.strerror or exc}") from None
            source = decode_source(data, str(file))
            report.findings.extend(check_source(source, str(file), selected, ignored))
            report.files_checked += 1
        except CheckError as exc:
            message = str(exc)
            for prefix in (f"{file}:{exc.line}:{exc.col}: ", f"{file}: "):
                message = message.removeprefix(prefix)
            report.file_errors.append(FileError(str(file), exc.line, exc.col, message))
    return report
