"""Rendering teaching variants: train.py with one mistake, the correct loop beside it, the lesson
and the symptom test. Everything here is text: no torch, so the CLI stays fast."""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any

from scaffold.catalogue import (
    BUGS,
    MEASURED_ON,
    NEEDS_MODE_LAYER,
    applies,
    get_bug,
    tasks_for,
    teaching_tasks,
)
from scaffold.teach.course import DEFAULT_TASK, TeachError, course_ids, require_task
from scaffold.teach.mutations import MUTATIONS, mutate

_HERE = Path(__file__).resolve().parent
SYMPTOMS = _HERE / "symptoms"
PROJECT_NAME = "lesson"
MARKER = "from ._common import *"


def module_name(bug_id: str) -> str:
    return bug_id.replace("-", "_")


def base_overrides(bug_id: str, task: str = DEFAULT_TASK) -> dict[str, Any]:
    """The answers (beyond the defaults) of the loop the mistake is made in, for `task`."""
    task_answer = {} if task == DEFAULT_TASK else {"task": task}
    return {**task_answer, **MUTATIONS[bug_id].base}


def _key(bug_id: str, task: str) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(base_overrides(bug_id, task).items()))


# The files train.py imports (user-owned data.py, model.py; template-owned config.py, tracking.py):
# every variant folder ships them unchanged beside it.
BESIDE = ("config.py", "data.py", "model.py", "tracking.py")


@functools.cache
def correct_render(overrides: tuple[tuple[str, Any], ...]) -> dict[str, str]:
    """The correct rendered project for the defaults plus `overrides` (cached per answer set)."""
    from scaffold.options import resolve_answers
    from scaffold.render import render_in_memory

    answers = resolve_answers({"project_name": PROJECT_NAME, **dict(overrides)})
    return render_in_memory(answers)


def correct_train(overrides: tuple[tuple[str, Any], ...]) -> str:
    """The correct rendered train.py for the defaults plus `overrides`."""
    return correct_render(overrides)["train.py"]


def correct_project(bug_id: str, task: str = DEFAULT_TASK) -> dict[str, str]:
    """The correct project the variant of `bug_id` for `task` is made from."""
    return correct_render(_key(bug_id, task))


def correct_for(bug_id: str, task: str = DEFAULT_TASK) -> str:
    return correct_train(_key(bug_id, task))


def variant_train(bug_id: str, task: str = DEFAULT_TASK) -> str:
    """The correct train.py with exactly the one mistake, black-formatted (so it parses).

    Raises:
        TeachError: `bug_id` does not apply to `task` (see scaffold.catalogue.applies).
        MutationError: the edit no longer matches the template (never a silent no-op).
    """
    require_applicable(bug_id, task)
    return _variant_train(bug_id, task)


@functools.cache
def _variant_train(bug_id: str, task: str) -> str:
    from scaffold.render import format_python

    return format_python(
        mutate(correct_for(bug_id, task), bug_id, task), f"{bug_id}/{task}/train.py"
    )


def diff(
    bug_id: str, variant: str | None = None, context: int = 2, task: str = DEFAULT_TASK
) -> str:
    variant = variant if variant is not None else variant_train(bug_id, task)
    lines = difflib.unified_diff(
        correct_for(bug_id, task).splitlines(True),
        variant.splitlines(True),
        "correct_train.py",
        "train.py",
        n=context,
    )
    return "".join(lines)


def _strip_docstring(text: str) -> str:
    match = re.match(r'\s*(""".*?""")\s*\n', text, flags=re.DOTALL)
    return text[match.end() :] if match else text


_SHARED_IMPORT = re.compile(r"^from \.(_\w+) import \*$", re.MULTILINE)


def _inline_shared(body: str) -> str:
    """Replace `from ._shared import *` (any helper module but _common) by that module's code.

    A measurement used by several mistakes lives once, in its own module, and each variant's
    test_symptom.py still stands alone.
    """

    def inline(match: re.Match) -> str:
        if match.group(0) == MARKER:
            return match.group(0)
        text = _strip_docstring((SYMPTOMS / f"{match.group(1)}.py").read_text(encoding="utf-8"))
        return "\n".join(line for line in text.splitlines() if line != MARKER)

    return _SHARED_IMPORT.sub(inline, body)


@functools.cache
def symptom_test(bug_id: str) -> str:
    """tests/test_symptom.py: the shared helpers, the measurement for `bug_id`, and two tests."""
    from scaffold.render import format_python

    bug = get_bug(bug_id)
    common = _strip_docstring((SYMPTOMS / "_common.py").read_text(encoding="utf-8"))
    common = common.replace("from __future__ import annotations\n", "")
    body = _inline_shared((SYMPTOMS / f"{module_name(bug_id)}.py").read_text(encoding="utf-8"))
    doc = re.match(r'\s*"""(.*?)"""', body, flags=re.DOTALL)
    summary = doc.group(1).strip() if doc else bug.title
    body = _strip_docstring(body)
    if body.count(MARKER) != 1:
        raise RuntimeError(f"{bug_id}: the symptom module must import the common helpers once")
    body = "\n".join(line for line in body.splitlines() if not line.startswith(MARKER))
    header = f'''"""Symptom test for `{bug_id}`: {bug.title}.

{summary}

test_symptom measures ../train.py (the loop with the mistake) and passes when the symptom shows.
test_correct_loop_does_not_show_it runs the same measurement on ../correct_train.py and expects
the same check to fail there. Run `pytest tests/` in this folder; set
SCAFFOLD_TEACH_TARGET=correct_train.py to point test_symptom at the correct loop (it then fails).
"""

from __future__ import annotations

import json
import os

import pytest
'''
    footer = f'''

BUG_ID = "{bug_id}"
FOLDER = Path(__file__).resolve().parents[1]
TARGET = os.environ.get("SCAFFOLD_TEACH_TARGET", "train.py")


def _report(name: str, numbers: dict) -> None:
    """Print the numbers; with SCAFFOLD_TEACH_REPORT=DIR also write them as JSON (for the lesson)."""
    print(name, json.dumps(numbers, sort_keys=True))
    folder = os.environ.get("SCAFFOLD_TEACH_REPORT")
    if folder:
        path = Path(folder) / f"{{BUG_ID}}.{{name}}.json"
        path.write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\\n")


def test_symptom(tmp_path):
    """The mistake in train.py shows up, in numbers."""
    numbers = measure(load_loop(FOLDER / TARGET), tmp_path)
    _report("variant" if TARGET == "train.py" else Path(TARGET).stem, numbers)
    check(numbers)


def test_correct_loop_does_not_show_it(tmp_path):
    """The same measurement on the correct loop does not pass the same check."""
    numbers = measure(load_loop(FOLDER / "correct_train.py"), tmp_path)
    _report("correct", numbers)
    with pytest.raises(AssertionError):
        check(numbers)
'''
    return format_python(header + common + "\n" + body + footer, f"{bug_id}/tests/test_symptom.py")


def require_applicable(bug_id: str, task: str) -> None:
    """Refuse a mistake that `task`'s model cannot show, naming the tasks that do show it."""
    require_task(task)
    if not applies(bug_id, task):
        needs = " or ".join(NEEDS_MODE_LAYER[bug_id])
        where = ", ".join(f"--task {t}" for t in tasks_for(bug_id))
        raise TeachError(
            f"{bug_id} does not show on task={task}: it needs {needs}, which {task}'s model "
            f"lacks; it shows with {where}"
        )


def variant_files(bug_id: str, task: str = DEFAULT_TASK) -> dict[str, str]:
    """Relative path -> text for one variant folder of `task`.

    Raises:
        TeachError: an unknown ID or task, or a mistake `task` cannot show.
    """
    from scaffold.teach.lessons import lesson_markdown

    if bug_id not in MUTATIONS:
        raise TeachError(unknown_id_message(bug_id))
    variant = variant_train(bug_id, task)
    project = correct_project(bug_id, task)
    files = {
        "train.py": variant,
        "correct_train.py": correct_for(bug_id, task),
        **{name: project[name] for name in BESIDE},
        "LESSON.md": lesson_markdown(bug_id, diff(bug_id, variant, task=task), task),
    }
    if task == MEASURED_ON:  # the measurement is written for (and measured on) this task's loop
        files["tests/test_symptom.py"] = symptom_test(bug_id)
    return files


def teaching_pairs() -> list[tuple[str, str]]:
    """Every (ID, task) the catalogue renders a variant for, task by task."""
    return [(bug_id, task) for task in teaching_tasks() for bug_id in course_ids(task)]


def course_files(task: str = DEFAULT_TASK) -> dict[str, str]:
    """Every variant folder `task` shows plus the course index README.md."""
    from scaffold.teach.lessons import course_index

    files = {"README.md": course_index(task)}
    for bug_id in course_ids(task):
        for rel, text in variant_files(bug_id, task).items():
            files[f"{bug_id}/{rel}"] = text
    return files


def unknown_id_message(bug_id: str) -> str:
    close = difflib.get_close_matches(bug_id, [b.id for b in BUGS], n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown mistake ID {bug_id!r}{hint} (scaffold teach --list shows them all)"


def write_files(files: dict[str, str], dest: Path, *, force: bool) -> None:
    """Write `files` under `dest`, refusing a non-empty folder without force."""
    if dest.exists() and not dest.is_dir():
        raise TeachError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise TeachError(f"{dest} is not empty; choose an empty folder or pass --force")
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
