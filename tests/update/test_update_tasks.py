"""`scaffold update` never fights the user's code: for every task, edits to model.py and data.py
survive an update of loop answers byte for byte, with no conflict.

data.py and model.py are rendered only from task-level answers and listed in copier's
`_skip_if_exists`, so an update leaves them to their owner; train.py, the template's, changes.
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


@pytest.mark.parametrize("key,value", [("task", "lm"), ("data", "csv")])
def test_an_answer_user_code_was_written_for_is_refused(current_copy, key, value):
    """data.py and model.py would stay as they are: changing what they were written for is
    refused in one line (exit 2), and nothing changes."""
    before = git(current_copy, "status", "--porcelain")
    files = {
        p: p.read_bytes() for p in current_copy.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    result = CliRunner().invoke(app, ["update", str(current_copy), "--set", f"{key}={value}"])
    assert result.exit_code == 2, result.output
    assert "data.py and model.py are your code" in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert git(current_copy, "status", "--porcelain") == before
    assert {p: p.read_bytes() for p in files} == files
