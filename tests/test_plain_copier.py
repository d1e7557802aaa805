"""The template is a real copier template: a plain `copier copy` renders the same project."""

from __future__ import annotations

import copier

from scaffold import options, render
from scaffold.paths import template_dir


def test_plain_copier_copy_equals_scaffold_render(tmp_path):
    given = {
        "precision": "fp16",
        "accum_steps": 3,
        "scheduler": "warmup_cosine",
        "checkpoint": "last",
    }
    answers = options.resolve_answers(given)
    copier.run_copy(
        str(template_dir()), str(tmp_path), data=answers, defaults=True, quiet=True, unsafe=False
    )
    expected = render.render_in_memory(answers)
    for rel, text in expected.items():
        assert (tmp_path / rel).read_text() == text, f"{rel} differs between copier and scaffold"
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set(expected) | {".copier-answers.yml"}
    recorded = (tmp_path / ".copier-answers.yml").read_text()
    assert "precision: fp16" in recorded and "accum_steps: 3" in recorded
