"""docs/teaching.md and generated_examples/teaching/ are regenerated, never hand-edited.

Regenerate both with: python -m tools.teach_regen
"""

from __future__ import annotations

from scaffold.teach.build import course_files
from tools.teach_regen import DOCS, GOLDENS, teaching_markdown

STALE = "stale: run `python -m tools.teach_regen` and commit the result"


def test_teaching_doc_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == teaching_markdown(), STALE


def test_teaching_goldens_are_up_to_date():
    want = course_files()
    have = {p.relative_to(GOLDENS).as_posix(): p for p in GOLDENS.rglob("*") if p.is_file()}
    assert set(have) == set(want), STALE
    for rel, text in want.items():
        assert have[rel].read_text(encoding="utf-8") == text, f"{rel} {STALE}"


def test_every_lesson_quotes_measured_numbers():
    for rel, text in course_files().items():
        if rel.endswith("LESSON.md"):
            assert "not measured yet" not in text, rel
