"""Inline suppressions: `# scaffold: ignore[ID]` or `# scaffold: ignore[ID1,ID2]` on a line."""

from __future__ import annotations

import io
import re
import tokenize

_PATTERN = re.compile(r"#\s*scaffold:\s*ignore\[([^\]]*)\]")


def suppressions(source: str) -> dict[int, set[str]]:
    """Map each line number to the IDs its comment suppresses.

    Comments are read with `tokenize`, so the marker inside a string literal does not count.
    """
    found: dict[int, set[str]] = {}
    if "scaffold:" not in source:  # tokenizing is a third of the run time; skip when pointless
        return found
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                match = _PATTERN.search(tok.string)
                if match:
                    ids = {part.strip() for part in match.group(1).split(",") if part.strip()}
                    found.setdefault(tok.start[0], set()).update(ids)
    except (tokenize.TokenError, SyntaxError):  # the parser reports the real problem
        pass
    return found
