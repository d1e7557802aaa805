"""Result types of `scaffold check`: one `Finding` per problem, collected in a `Report`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from scaffold.catalogue import get_bug
from scaffold.check.registry import ERROR, HINT, rule

__all__ = ["ERROR", "HINT", "FileError", "Finding", "Report", "confidence_of", "severity_of"]


def confidence_of(bug_id: str) -> str:
    """Default confidence of a rule's findings: "high", "medium" or "low" (its registry record)."""
    return rule(bug_id).default_confidence


def severity_of(bug_id: str) -> str:
    """Default severity of a rule's findings: "error" or "hint" (its registry record)."""
    return rule(bug_id).severity


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found in one file.

    Attributes:
        path: File the finding is in, as given (or as found while walking a directory).
        line: 1-based line number.
        col: 1-based column number.
        id: Catalogue ID of the mistake.
        message: What this occurrence is, in one sentence.
        severity: "error" or "hint" (see `severity_of`).
    """

    path: str
    line: int
    col: int
    id: str
    message: str
    severity: str = ERROR
    confidence: str = "high"

    @property
    def why(self) -> str:
        """The catalogue's one-line explanation of the mistake."""
        return get_bug(self.id).why

    def to_text(self) -> str:
        """Render as `path:line:col: ID message (why)`; hints are marked `(hint)`."""
        mark = " (hint)" if self.severity == HINT else ""
        return f"{self.path}:{self.line}:{self.col}: {self.id}{mark} {self.message} ({self.why})"

    @property
    def title(self) -> str:
        """The catalogue's title of the mistake."""
        return get_bug(self.id).title

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with the fields plus the catalogue title and why."""
        data: dict[str, object] = asdict(self)
        bug = get_bug(self.id)
        data["title"] = bug.title
        data["why"] = bug.why
        return data


@dataclass(frozen=True)
class FileError:
    """A file that could not be checked: unreadable, undecodable, unparsable or too deep.

    Attributes:
        path: The file.
        line: 1-based line of a syntax error, else 0.
        col: 1-based column of a syntax error, else 0.
        message: One line saying what is wrong.
    """

    path: str
    line: int
    col: int
    message: str

    def to_text(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Report:
    """All findings of one run, the files that could not be checked, and the number checked."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    file_errors: list[FileError] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Findings that are not hints."""
        return [f for f in self.findings if f.severity != HINT]

    def exit_code(self, strict: bool = False, exit_zero: bool = False) -> int:
        """2 if any file could not be checked; else 1 with findings (hints alone give 0 unless
        `strict`); else 0. `exit_zero` turns findings into 0 but never hides a file error."""
        if self.file_errors:
            return 2
        relevant = self.findings if strict else self.errors
        return 1 if relevant and not exit_zero else 0
