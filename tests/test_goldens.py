"""generated_examples/ holds committed renders; they must be current and show every answer value."""

from __future__ import annotations

from tools import goldens
from scaffold.render import render_project


def test_goldens_are_current():
    problems = goldens.stale_files()
    assert (
        not problems
    ), f"generated_examples/ is stale; regenerate with `{goldens.REGENERATE}`:\n" + "\n".join(
        problems[:20]
    )


def test_goldens_show_every_answer_value():
    assert not goldens.missing_values(), goldens.missing_values()
    # the headline accumulation values and both scheduler cadences appear too
    shown = goldens.shown_values()
    assert {1, 4} <= shown["accum_steps"]
    assert {"epoch", "step"} <= shown["scheduler_cadence"]


def test_goldens_are_what_scaffold_new_writes(tmp_path):
    """The same files and text as a real copier render (the answers file aside)."""
    name = "sgd_csv_inference_mode"
    result = render_project(goldens.golden_answers(name), tmp_path / name, git=False)
    on_disk = {rel: (tmp_path / name / rel).read_text(encoding="utf-8") for rel in result.files}
    assert on_disk.pop(".copier-answers.yml")
    assert on_disk == goldens.render_golden(name)


def test_stale_golden_is_reported(tmp_path, monkeypatch):
    # Two goldens are enough to show the detection (test_goldens_are_current renders them all).
    subset = {name: goldens.GOLDENS[name] for name in ("default", "lm_synthetic")}
    monkeypatch.setattr(goldens, "GOLDENS", subset)
    goldens.write_goldens(tmp_path)
    assert goldens.stale_files(tmp_path) == []
    (tmp_path / "default" / "train.py").write_text("# edited\n")
    (tmp_path / "extra.txt").write_text("x")
    assert goldens.main(["--check", "--root", str(tmp_path)]) == 1
    assert goldens.stale_files(tmp_path) == ["stale: default/train.py", "not generated: extra.txt"]
