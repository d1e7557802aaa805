"""`scaffold update` never fights the user's code: for every task, edits to model.py and data.py
survive an update of loop answers byte for byte, with no conflict.

data.py and model.py are rendered only from task-level answers and listed in copier's
`_skip_if_exists`, so an update leaves them to their owner; train.py, the template's, changes.
A new task is refused; a new `data` answer rewrites data.py only while it is unedited.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import commit, git
from typer.testing import CliRunner

from scaffold.cli.app import app
from scaffold.new import create_project
from scaffold.options import question_map

TASKS = question_map()["task"].choices  # every task the template offers, as copier.yml lists them
# Two loop answers: the precision of the issue, and one that changes the train step's shape.
CHANGES = [("precision", "bf16", "bfloat16"), ("accum_steps", "3", "window_targets")]
MARKERS = ("<<<<<<<", ">>>>>>>", ".rej")


def edit_user_code(dest: Path) -> dict[str, bytes]:
    """What an owner does: change a line the template wrote, and add code of their own (in
    their own style, not black's). Returns the edited bytes."""
    for name in ("model.py", "data.py"):
        path = dest / name
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0]
        text = text.replace(first, first.replace(name, f"{name} (mine)"), 1)
        text += f"\n\ndef my_{name[:-3]}_helper( x ):\n    return x*2  # kept as I wrote it\n"
        path.write_text(text, encoding="utf-8")
    commit(dest, "my model and data")
    return {name: (dest / name).read_bytes() for name in ("model.py", "data.py")}


@pytest.mark.parametrize("key,value,sign", CHANGES, ids=[c[0] for c in CHANGES])
@pytest.mark.parametrize("task", TASKS)
def test_loop_answer_update_keeps_model_and_data(tmp_path, task, key, value, sign):
    dest = tmp_path / "p"
    create_project(dest, {"task": task}, git=True)
    train_before = (dest / "train.py").read_text()
    mine = edit_user_code(dest)

    result = CliRunner().invoke(app, ["update", str(dest), "--set", f"{key}={value}"])

    assert result.exit_code == 0, result.output
    assert "conflict" not in result.output.lower(), result.output
    for name, data in mine.items():
        assert (dest / name).read_bytes() == data, f"{name} changed"
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert str(answers[key]) == value and answers["task"] == task
    train = (dest / "train.py").read_text()
    assert train != train_before and sign in train, "the loop itself was updated"
    for path in dest.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not any(marker in text for marker in MARKERS[:2]), f"conflict in {path}"
            assert not path.name.endswith(MARKERS[2]), path
    changed = git(dest, "status", "--porcelain", "--", ".").splitlines()
    assert not any(line.endswith(("model.py", "data.py")) for line in changed), changed


def test_a_new_task_is_refused(current_copy):
    """data.py and model.py would stay as they are: changing the task they were written for is
    refused in one line (exit 2), and nothing changes."""
    before = git(current_copy, "status", "--porcelain")
    files = {
        p: p.read_bytes() for p in current_copy.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    result = CliRunner().invoke(app, ["update", str(current_copy), "--set", "task=lm"])
    assert result.exit_code == 2, result.output
    assert "data.py and model.py are your code" in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert git(current_copy, "status", "--porcelain") == before
    assert {p: p.read_bytes() for p in files} == files


def load_config(dest: Path):
    """A project's Config class (config.py imports the standard library only)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(f"config_{abs(hash(dest))}", dest / "config.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module.Config


# (task, the user's data answer, the Config field whose default it sets, the answer's default)
DATA_SWITCHES = [
    ("tabular", "csv", "csv_path", "data/train.csv"),
    ("image", "folder", "image_folder", "data/images"),
    ("lm", "text_file", "text_path", "data/train.txt"),
]


@pytest.mark.parametrize(
    "task,data,field,path", DATA_SWITCHES, ids=[c[0] for c in DATA_SWITCHES]
)
def test_data_switches_while_data_py_is_unedited(tmp_path, task, data, field, path):
    """--set data=... makes the user's data the default (an empty path is the demo), and the
    project equals a fresh one made with that answer: train.py, config.py and data.py alike."""
    dest = tmp_path / "updated" / "p"
    create_project(dest, {"task": task}, git=True)
    assert getattr(load_config(dest)(), field) == ""  # the demo, until a path is given

    result = CliRunner().invoke(app, ["update", str(dest), "--set", f"data={data}"])

    assert result.exit_code == 0, result.output
    assert getattr(load_config(dest)(), field) == path
    fresh = tmp_path / "fresh" / "p"
    create_project(fresh, {"task": task, "data": data}, git=False)
    for name in ("train.py", "config.py", "data.py", "model.py", "tests/test_train.py", "README.md"):
        assert (dest / name).read_text() == (fresh / name).read_text(), name


def test_data_switch_refuses_an_edited_data_py(current_copy):
    """An edited data.py may not read the new default: refused in one line (exit 2) that names
    the train.py flags that reach the data anyway, and nothing changes."""
    path = current_copy / "data.py"
    path.write_text(path.read_text() + "\n# my own loader tweak\n")
    commit(current_copy, "my data tweak")
    before = git(current_copy, "status", "--porcelain")
    files = {
        p: p.read_bytes() for p in current_copy.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    result = CliRunner().invoke(app, ["update", str(current_copy), "--set", "data=csv"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "data.py has your edits, so --set data=csv cannot switch it" in lines[0]
    assert "python train.py --csv-path FILE --label-column NAME" in lines[0]
    assert git(current_copy, "status", "--porcelain") == before
    assert {p: p.read_bytes() for p in files} == files


def test_data_switch_rewrites_an_unedited_data_py_the_target_renders_differently(
    tmp_path, monkeypatch
):
    """When the target version's data.py differs (an older project), the unedited file is
    replaced by the target's render; an edited one is refused on a data switch, kept on a
    version update."""
    import scaffold.update as update

    dest = tmp_path / "p"
    dest.mkdir()
    (dest / "data.py").write_text("OLD = 1\n")
    renders = [{"data.py": "OLD = 1\n"}, {"data.py": "NEW = 2\n"}]
    monkeypatch.setattr(update, "_renders", lambda bundle, jobs, files: renders)
    jobs = (("0.3.0", {"data": "spiral"}), ("0.4.0", {"data": "csv"}))
    assert update.check_data_switch(dest, jobs, None) == {"data.py": "NEW = 2\n"}
    (dest / "data.py").write_text("OLD = 1  # mine\n")
    with pytest.raises(update.UpdateError, match="data.py has your edits"):
        update.check_data_switch(dest, jobs, None)
    # A new template version alone (no --set data): an edited data.py is kept as it is.
    assert update.check_data_switch(dest, jobs, None, refuse_edited=False) == {}
    (dest / "data.py").unlink()
    with pytest.raises(update.UpdateError, match="data.py was deleted"):
        update.check_data_switch(dest, jobs, None)
