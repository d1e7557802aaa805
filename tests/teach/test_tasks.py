"""Teaching variants for every task: the applicability table matches the models each task
renders, every applicable (ID, task) pair is one minimal edit, and a pair that does not apply is
refused with one line."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter

import pytest
from typer.testing import CliRunner

import sampling
from scaffold import catalogue
from scaffold.catalogue import BUGS, MODE_LAYERS, NEEDS_MODE_LAYER, teaching_tasks
from scaffold.cli.app import app
from scaffold.options import question_map
from scaffold.render import format_python
from scaffold.teach.build import (
    BESIDE,
    correct_for,
    correct_project,
    course_files,
    teaching_pairs,
    variant_files,
    variant_train,
)
from scaffold.teach.course import TeachError
from scaffold.teach.mutations import CLASS_DIM, MutationError

# ID@task, sorted by ID first, so that a rotating block mixes IDs and tasks
PAIRS = {f"{bug_id}@{task}": (bug_id, task) for bug_id, task in teaching_pairs()}
OTHER_TASKS = [task for task in teaching_tasks() if task != catalogue.MEASURED_ON]


def test_the_table_covers_exactly_the_template_tasks():
    assert teaching_tasks() == question_map()["task"].choices
    assert set(NEEDS_MODE_LAYER) <= {bug.id for bug in BUGS}
    layers = {layer for needed in NEEDS_MODE_LAYER.values() for layer in needed}
    assert {layer for have in MODE_LAYERS.values() for layer in have} <= layers


@pytest.mark.parametrize("task", teaching_tasks())
def test_mode_layers_are_those_of_the_task_default_model(task, tmp_path, monkeypatch):
    """MODE_LAYERS says what each task's teaching render has; build its model and look."""
    torch = pytest.importorskip("torch")
    for rel, text in correct_project("zero-grad-missing", task).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    # train.py imports config, data, model and tracking from its folder: fresh copies, removed after
    for name in ("config", "data", "model", "tracking", f"teach_task_{task}"):
        monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.delitem(sys.modules, name)
    spec = importlib.util.spec_from_file_location(f"teach_task_{task}", tmp_path / "train.py")
    train = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = train  # dataclasses look their module up while the file executes
    spec.loader.exec_module(train)
    small = {"samples_per_class": 8, "corpus_chars": 2000, "out": str(tmp_path / "runs")}
    names = {f.name for f in train.fields(train.Config)}
    cfg = train.Config(**{k: v for k, v in small.items() if k in names})
    _, _, info = sys.modules["data"].build_datasets(cfg)
    model = sys.modules["model"].build_model(cfg, info)
    found = set()
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout) and module.p > 0:
            found.add("dropout")
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            found.add("batchnorm")
    assert found == set(MODE_LAYERS[task])


def _code(text):
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def _edit(correct: str, variant: str) -> tuple[Counter, Counter]:
    """The code lines the variant removed and added (a move removes and adds none)."""
    before, after = Counter(_code(correct)), Counter(_code(variant))
    return before - after, after - before


@pytest.mark.parametrize("pair", sampling.rotating("teaching variants x tasks", PAIRS, 8))
def test_every_pair_is_one_marked_minimal_edit_the_same_as_on_tabular(pair):
    bug_id, task = PAIRS[pair]
    correct, variant = correct_for(bug_id, task), variant_train(bug_id, task)
    assert f"# BUG({bug_id}):" in variant
    assert format_python(variant) == variant  # black-stable, hence it parses
    assert _code(correct) != _code(variant)
    removed, added = _edit(correct, variant)
    assert sum(removed.values()) + sum(added.values()) <= 4, (removed, added)
    # train.py is the same loop on every task, so the edit is too (lm's softmax takes dim=-1)
    dim = f"softmax(dim={CLASS_DIM.get(task, 1)})"
    added = Counter({line.replace(dim, "softmax(dim=1)"): n for line, n in added.items()})
    assert (removed, added) == _edit(correct_for(bug_id), variant_train(bug_id))


def test_lm_softmax_is_taken_over_the_vocabulary():
    assert "c.criterion(logits.softmax(dim=-1), y)" in variant_train(
        "softmax-before-cross-entropy", "lm"
    )
    assert "c.criterion(logits.softmax(dim=1), y)" in variant_train("softmax-before-cross-entropy")


def test_a_mutation_that_no_longer_matches_the_task_loop_fails_loudly(monkeypatch):
    """A variant is never a silent copy of the correct loop: a lost anchor raises."""
    from scaffold.teach import build

    real = build.correct_for

    def drifted(bug_id, task="tabular"):
        text = real(bug_id, task)
        return text.replace("c.optimizer.zero_grad(set_to_none=True)", "c.optimizer.zero_grad()")

    monkeypatch.setattr(build, "correct_for", drifted)
    build._variant_train.cache_clear()
    try:
        with pytest.raises(MutationError, match="zero-grad-missing"):
            build.variant_train("zero-grad-missing", "lm")
    finally:
        build._variant_train.cache_clear()


@pytest.mark.parametrize("task", OTHER_TASKS)
def test_other_tasks_lessons_say_where_the_numbers_come_from(task):
    files = variant_files("validation-in-train-mode", task)
    assert "tests/test_symptom.py" not in files  # the measurement is written for tabular's loop
    assert (
        f'TASK = "{task}"' in files["train.py"] and f'TASK = "{task}"' in files["correct_train.py"]
    )
    lesson = files["LESSON.md"]
    assert f"on the task={catalogue.MEASURED_ON} loop" in lesson
    assert f"not from this task={task} loop" in lesson
    assert "## Which task shows it" in lesson and "lm through dropout" in lesson


def test_tabular_lessons_say_the_numbers_are_tabular_and_ship_the_test():
    files = variant_files("missing-train-mode")
    assert "tests/test_symptom.py" in files
    assert "on the task=tabular loop" in files["LESSON.md"]


def _without(monkeypatch, task, layers):
    monkeypatch.setitem(catalogue.MODE_LAYERS, task, layers)


def test_a_mistake_a_task_cannot_show_is_refused_in_one_line(monkeypatch, tmp_path):
    """No task lacks both mode layers today; take them away from lm and ask for a mode lesson."""
    _without(monkeypatch, "lm", ())
    with pytest.raises(TeachError, match="does not show on task=lm"):
        variant_files("missing-train-mode", "lm")
    dest = tmp_path / "lesson"
    result = CliRunner().invoke(
        app, ["teach", "validation-in-train-mode", str(dest), "--task", "lm"]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "needs dropout or batchnorm" in lines[0] and "--task tabular, --task image" in lines[0]
    assert not dest.exists()
    # the lm course leaves the two mode lessons out and says so
    listed = CliRunner().invoke(app, ["teach", "--list", "--task", "lm"])
    assert listed.exit_code == 0 and "missing-train-mode" not in listed.output
    assert "zero-grad-missing" in listed.output


def test_an_unknown_task_is_refused_in_one_line(tmp_path):
    result = CliRunner().invoke(
        app, ["teach", "zero-grad-missing", str(tmp_path / "x"), "--task", "audio"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == "error: unknown task 'audio': choose one of tabular, image, lm"
    assert not (tmp_path / "x").exists()


def test_one_lesson_for_another_task_from_the_cli(tmp_path):
    dest = tmp_path / "lesson"
    result = CliRunner().invoke(app, ["teach", "clip-after-step", str(dest), "--task", "image"])
    assert result.exit_code == 0, result.output
    assert "task=image" in result.output
    written = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert written == {"train.py", "correct_train.py", "LESSON.md", *BESIDE}  # no symptom test
    assert "# BUG(clip-after-step)" in (dest / "train.py").read_text()
    assert "class ResidualBlock" in (dest / "model.py").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("task", OTHER_TASKS)
def test_a_whole_course_for_another_task(task):
    files = course_files(task)
    ids = {rel.split("/")[0] for rel in files if rel.endswith("/LESSON.md")}
    assert ids == {bug_id for bug_id, t in teaching_pairs() if t == task}
    assert f"(task={task})" in files["README.md"]
    assert not any(rel.endswith("test_symptom.py") for rel in files)
