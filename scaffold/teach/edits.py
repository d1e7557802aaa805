"""The edit vocabulary of the teaching variants: `Source` (one rendered train.py and the few
edits a mistake needs) and `Mutation` (how one catalogue mistake is made).

Both the single-process mistakes (`scaffold.teach.mutations`) and the DDP ones
(`scaffold.teach.ddp_mutations`) are written against these, so neither imports the other's
module. No torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class MutationError(RuntimeError):
    """A mutation no longer matches the template (a statement is missing or repeated)."""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class Source:
    """The lines of one rendered train.py, with the few edits the mutations need."""

    def __init__(self, text: str, bug_id: str, task: str = "tabular") -> None:
        self.lines = text.splitlines()
        self.bug_id = bug_id
        self.task = task  # the copier `task` the loop was rendered for (a few edits differ by task)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    # -- locating ----------------------------------------------------------------------------
    def find(self, statement: str) -> int:
        """Index of the one line whose code (stripped) is exactly `statement`."""
        hits = [i for i, line in enumerate(self.lines) if line.strip() == statement]
        if len(hits) != 1:
            raise MutationError(
                f"{self.bug_id}: expected exactly one line `{statement}` in train.py, found {len(hits)}"
            )
        return hits[0]

    def find_re(self, pattern: str) -> tuple[int, re.Match]:
        """Index and match of the one line whose code (stripped) fully matches `pattern`."""
        hits = [
            (i, m)
            for i, line in enumerate(self.lines)
            if (m := re.fullmatch(pattern, line.strip()))
        ]
        if len(hits) != 1:
            raise MutationError(
                f"{self.bug_id}: expected exactly one line matching `{pattern}`, found {len(hits)}"
            )
        return hits[0]

    def block_end(self, index: int) -> int:
        """Last line of the statement at `index` with its indented body (trailing blanks excluded)."""
        base = _indent(self.lines[index])
        end = index
        for j in range(index + 1, len(self.lines)):
            line = self.lines[j]
            if not line.strip():
                continue
            if _indent(line) <= base:
                break
            end = j
        return end

    def comments_above(self, index: int) -> int:
        """First line of the comment block (same indentation) directly above `index`."""
        start = index
        while start > 0:
            above = self.lines[start - 1]
            if above.strip().startswith("#") and _indent(above) == _indent(self.lines[index]):
                start -= 1
            else:
                break
        return start

    def enclosing(self, index: int) -> int:
        """Index of the statement whose body holds line `index`."""
        indent = _indent(self.lines[index])
        for j in range(index - 1, -1, -1):
            line = self.lines[j]
            if line.strip() and not line.strip().startswith("#") and _indent(line) < indent:
                return j
        raise MutationError(f"{self.bug_id}: line {index + 1} has no enclosing statement")

    # -- editing -----------------------------------------------------------------------------
    def note(self, indent: int, text: str) -> str:
        return " " * indent + f"# BUG({self.bug_id}): {text}"

    def replace(self, statement: str, new: str | list[str], why: str) -> None:
        """Replace one code line by `new` (a line, or several indented like it, where "" stays
        a blank line), marking it with a BUG comment above."""
        i = self.find(statement)
        pad = _indent(self.lines[i])
        lines = [new] if isinstance(new, str) else new
        self.lines[i : i + 1] = [self.note(pad, why)] + [" " * pad + n if n else "" for n in lines]

    def replace_line(self, index: int, new: str, why: str) -> None:
        pad = _indent(self.lines[index])
        self.lines[index : index + 1] = [self.note(pad, why), " " * pad + new]

    def delete(self, statement: str, why: str) -> None:
        """Delete one code line, leaving a BUG comment where it stood."""
        i = self.find(statement)
        self.lines[i] = self.note(_indent(self.lines[i]), f"{why} (deleted: `{statement}`)")

    def insert_after(self, statement: str, new: str, why: str) -> None:
        i = self.find(statement)
        pad = _indent(self.lines[i])
        self.lines[i + 1 : i + 1] = [self.note(pad, why), " " * pad + new]

    def move(self, start: int, end: int, anchor: int, where: str, why: str) -> None:
        """Move lines start..end (with the comment block above start) next to `anchor`.

        `where="before"` puts them above the anchor's own comment block, `"after"` below the
        anchor's whole block. The moved lines take the anchor's indentation.
        """
        first = self.comments_above(start)
        chunk = self.lines[first : end + 1]
        shift = _indent(self.lines[anchor]) - _indent(self.lines[start])
        anchor_line = self.lines[anchor]
        if where == "before":
            target_line = self.comments_above(anchor)
        elif where == "after":
            target_line = self.block_end(anchor) + 1
        else:
            raise ValueError(where)
        moved = [self.note(_indent(anchor_line), why)]
        for line in chunk:
            if not line.strip():
                moved.append("")
            elif shift >= 0:
                moved.append(" " * shift + line)
            else:
                if _indent(line) < -shift:
                    raise MutationError(f"{self.bug_id}: cannot dedent {line!r}")
                moved.append(line[-shift:])
        if first <= target_line <= end + 1:
            raise MutationError(f"{self.bug_id}: move target lies inside the moved lines")
        if target_line > end:
            self.lines[target_line:target_line] = moved
            del self.lines[first : end + 1]
        else:
            del self.lines[first : end + 1]
            self.lines[target_line:target_line] = moved

    def unwrap_with(self, statement: str, why: str) -> None:
        """Remove a `with ...:` line and dedent its body into the enclosing block."""
        i = self.find(statement)
        end = self.block_end(i)
        pad = _indent(self.lines[i])
        body = self.lines[i + 1 : end + 1]
        inner = min(_indent(line) for line in body if line.strip())
        shift = inner - pad
        self.lines[i : end + 1] = [self.note(pad, f"{why} (deleted: `{statement}`)")] + [
            line[shift:] if line.strip() else "" for line in body
        ]


@dataclass(frozen=True)
class Mutation:
    """How one catalogue mistake is made from the correct loop.

    Attributes:
        bug_id: The catalogue ID.
        apply: Edits a Source of the correct train.py in place.
        change: One sentence, what the edit does (for LESSON.md and the docs).
        base: Answers that differ from the defaults (the loop the mistake needs).
    """

    bug_id: str
    apply: Callable[[Source], None]
    change: str
    base: dict[str, Any] = field(default_factory=dict)
