"""Result types of `scaffold check`: one `Finding` per problem, collected in a `Report`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from scaffold.catalogue import get_bug

ERROR = "error"
HINT = "hint"


def severity_of(bug_id: str) -> str:
    """Severity of a catalogue entry: "hint" for low-confidence checks and myths, else "error"."""
    return HINT if get_bug(bug_id).kind in ("hint", "myth") else ERROR


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

    @property
    def why(self) -> str:
        """The catalogue's one-line explanation of the mistake."""
        return get_bug(self.id).why

    def to_text(self) -> str:
        """Render as `path:line:col: ID message (why)`; hints are marked `(hint)`."""
        mark = " (hint)" if self.severity == HINT else ""
        return f"{self.path}:{self.line}:{self.col}: {self.id}{mark} {self.message} ({self.why})"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with the fields plus the catalogue title and why."""
        data: dict[str, object] = asdict(self)
        bug = get_bug(self.id)
        data["title"] = bug.title
        data["why"] = bug.why
        return data


@dataclass
class Report:
    """All findings of one run, plus the number of files checked."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0

    @property
    def errors(self) -> list[Finding]:
        """Findings that are not hints."""
        return [f for f in self.findings if f.severity != HINT]

    def exit_code(self, strict: bool = False) -> int:
        """0 when clean, 1 with findings. Hints alone give 0 unless `strict`."""
        relevant = self.findings if strict else self.errors
        return 1 if relevant else 0
