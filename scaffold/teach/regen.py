"""Regenerate docs/teaching.md and the teaching goldens in generated_examples/teaching/.

    python -m scaffold.teach.regen

Both are pure text (no torch): they quote the numbers stored in scaffold/teach/measured.json,
which `python -m scaffold.teach.measure` refreshes. tests/teach/ fails when either is stale.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from scaffold.teach.build import course_files
from scaffold.teach.lessons import teaching_markdown

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "teaching.md"
GOLDENS = REPO / "generated_examples" / "teaching"


def main() -> int:
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(teaching_markdown(), encoding="utf-8")
    if GOLDENS.exists():
        shutil.rmtree(GOLDENS)
    files = course_files()
    for rel, text in files.items():
        path = GOLDENS / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(
        f"wrote {DOCS.relative_to(REPO)} and {len(files)} files under {GOLDENS.relative_to(REPO)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
