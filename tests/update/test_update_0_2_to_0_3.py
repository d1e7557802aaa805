"""Updating a real 0.2.0 project whose owner edited the data and model code in train.py.

Template 0.2.0 kept the spiral loader and the MLP inside train.py; 0.3.0 moved them to data.py and
model.py (the owner's files, copier's `_skip_if_exists`). Here a 0.2.0 project is rendered from the
bundle that ships in the package, edited the way an owner who trains their own model would (a
loader of their own in `build_loaders`, a changed MLP, plus unrelated edits in train.py and
README.md), committed, and updated with `scaffold update`. The expected outcome, documented in
docs/updating.md ("From 0.2.0 to 0.3.0"): exit 3, train.py the only conflicted file, every line of
the owner's in it on the "before updating" side of a hunk, no .rej file, fresh data.py and
model.py, one line pointing at the migration section, and nothing outside the project touched.

The project is rendered and updated once per module (about 20 s on 2 busy cores); each test reads
the outcome. The variants that need a second update, a render or a training run are `-m slow`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import commit, git, render_at, tree
from typer.testing import CliRunner

from scaffold import __version__ as LATEST
from scaffold.cli.app import app
from scaffold.update import LAYOUT_CHANGES, crossed_layout_changes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "updating.md"
OURS, BASE, THEIRS = "<<<<<<< before updating", "=======", ">>>>>>> after updating"

# What the owner changes in 0.2.0's train.py: (the template's text, the owner's text). The model
# and data edits sit in code 0.3.0 moved out; the last one in code 0.3.0 left alone.
MODEL_EDITS = [
    (
        '    """Two hidden layers; returns raw logits (CrossEntropyLoss applies log-softmax itself)."""\n',
        '    """MY MODEL: a residual MLP for my sensor data (three blocks, GELU)."""\n',
    ),
    ("        for _ in range(2):\n", "        for _ in range(3):  # MY MODEL: three blocks\n"),
    (
        "            layers.append(nn.ReLU())\n",
        "            layers.append(nn.GELU())  # MY MODEL: GELU trains better on my data\n",
    ),
]
DATA_EDITS = [
    (
        "    x, y = make_spiral(cfg.samples_per_class, cfg.noise, cfg.seed)\n",
        '    x, y = load_my_sensors("data/sensors.pt")  # MY DATA: my recordings, not the spiral\n',
    ),
    (
        "def validation_size(rows: int, cfg: Config) -> int:\n",
        "def load_my_sensors(path: str) -> tuple[torch.Tensor, torch.Tensor]:\n"
        '    """MY DATA: features and labels saved by my acquisition script."""\n'
        "    blob = torch.load(path, weights_only=True)\n"
        '    return blob["x"].float(), blob["y"].long()\n\n\n'
        "def validation_size(rows: int, cfg: Config) -> int:\n",
    ),
]
ELSEWHERE_EDIT = (
    "        handle.flush()\n",
    "        handle.flush()\n        # MINE: flushed before fsync, so the rename never exposes a short file\n",
)
README_LINE = "Trained on my sensor recordings (MY README)."


def owner_lines(edits: list[tuple[str, str]]) -> list[str]:
    """The lines the owner wrote (those not in the template's text they replaced)."""
    lines = []
    for before, after in edits:
        lines += [line for line in after.splitlines() if line and line not in before.splitlines()]
    return lines


def edit_like_an_owner(dest: Path, edits: list[tuple[str, str]]) -> None:
    path = dest / "train.py"
    text = path.read_text(encoding="utf-8")
    for before, after in edits:
        assert text.count(before) == 1, f"0.2.0's train.py no longer has {before!r}"
        text = text.replace(before, after)
    path.write_text(text, encoding="utf-8")
    readme = dest / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + f"\n## My notes\n\n{README_LINE}\n")
    commit(dest, "my model and my data")


def hunks(text: str) -> list[tuple[list[str], list[str]]]:
    """The inline conflict hunks of a file: (the owner's lines, the template's lines) each."""
    found, side, ours, theirs = [], None, [], []
    for line in text.splitlines():
        if line == OURS:
            side, ours, theirs = "ours", [], []
        elif line == BASE and side == "ours":
            side = "theirs"
        elif line == THEIRS and side == "theirs":
            found.append((ours, theirs))
            side = None
        elif side == "ours":
            ours.append(line)
        elif side == "theirs":
            theirs.append(line)
    assert side is None, "an unterminated conflict hunk"
    return found


@dataclass(frozen=True)
class Outcome:
    dest: Path
    outside: Path
    outside_before: dict[str, str]
    head_before: str
    exit_code: int
    stdout: str
    stderr: str


def update(dest: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["update", str(dest)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def v020(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default project made by template 0.2.0, from the bundle the package ships (committed)."""
    return render_at(
        None, "0.2.0", tmp_path_factory.mktemp("v020") / "demo", {"project_name": "demo"}
    )


def copy_beside_a_neighbour(v020: Path, root: Path) -> tuple[Path, Path]:
    """The project, and a folder of someone else's files beside it that update must not touch."""
    dest = root / "demo"
    shutil.copytree(v020, dest, symlinks=True)
    outside = root / "neighbour"
    outside.mkdir()
    (outside / "notes.txt").write_text("not the project's\n")
    (outside / "train.py").write_text("x = 1\n")
    return dest, outside


@pytest.fixture(scope="module")
def edited(v020: Path, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    dest, outside = copy_beside_a_neighbour(v020, tmp_path_factory.mktemp("edited"))
    edit_like_an_owner(dest, MODEL_EDITS + DATA_EDITS + [ELSEWHERE_EDIT])
    before, head = tree(outside.parent), git(dest, "rev-parse", "HEAD")
    code, out, err = update(dest)
    return Outcome(dest, outside, before, head, code, out, err)


def test_the_bundle_still_holds_0_2_0_with_the_code_in_train_py(v020):
    """The premise: 0.2.0 renders no data.py or model.py, and its train.py holds the MLP."""
    assert not (v020 / "data.py").exists() and not (v020 / "model.py").exists()
    assert "class MLP(nn.Module):" in (v020 / "train.py").read_text()
    assert "_commit: 0.2.0" in (v020 / ".copier-answers.yml").read_text()


def test_exit_code_3_and_train_py_is_the_only_conflict(edited):
    assert edited.exit_code == 3, edited.stdout + edited.stderr
    assert edited.stdout.splitlines()[0] == f"updated {edited.dest}: template 0.2.0 -> {LATEST}"
    listed = edited.stderr.split("marked inline):\n", 1)[1].splitlines()
    assert listed[0] == "  train.py" and not listed[1].startswith("  "), edited.stderr
    status = git(edited.dest, "status", "--porcelain", "--", ".").splitlines()
    assert [line for line in status if line[:2] == "UU"] == ["UU train.py"], status


def test_one_line_says_what_to_do_and_points_at_the_migration_section(edited):
    notes = [line for line in edited.stderr.splitlines() if "moved the data and model code" in line]
    assert len(notes) == 1, edited.stderr
    note = notes[0]
    assert note.startswith("template 0.3.0 moved the data and model code out of train.py")
    assert "data.py (build_datasets(cfg))" in note and "model.py (build_model(cfg, info))" in note
    assert f"'{OURS}'" in note and "move them into those files" in note
    doc, anchor = note.rsplit("see ", 1)[1].split("#")
    assert doc == "docs/updating.md"
    headings = [line[3:] for line in DOCS.read_text().splitlines() if line.startswith("## ")]
    slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
    assert anchor in slugs, f"docs/updating.md has no section #{anchor}"


def test_every_line_the_owner_wrote_survives_on_their_side_of_a_hunk(edited):
    text = (edited.dest / "train.py").read_text()
    found = hunks(text)
    assert found, "no conflict hunk in train.py"
    mine = [line for ours, _ in found for line in ours]
    for line in owner_lines(MODEL_EDITS + DATA_EDITS):
        assert line in mine, f"lost or merged away: {line!r}"
    # the template's side is 0.3.0's: the loader calls data.py, and the model class is gone
    theirs = "\n".join(line for _, side in found for line in side)
    assert "build_datasets(cfg)" in theirs and "class MLP" not in theirs
    assert not [p for p in edited.dest.rglob("*.rej")], "copier wrote a .rej file"


def test_edits_elsewhere_merge_cleanly(edited):
    train = (edited.dest / "train.py").read_text()
    elsewhere = owner_lines([ELSEWHERE_EDIT])
    assert all(train.count(line) == 1 for line in elsewhere)
    in_hunks = {line for ours, theirs in hunks(train) for line in ours + theirs}
    assert not in_hunks & set(elsewhere), "an edit the template did not touch conflicted"
    readme = (edited.dest / "README.md").read_text()
    assert README_LINE in readme and OURS not in readme


def test_fresh_data_and_model_files_are_the_templates_0_3_0(edited):
    """data.py and model.py are 0.3.0's, fresh: the spiral and the MLP, none of the owner's lines
    (those stay in train.py until the owner moves them)."""
    expected = {
        "data.py": ("def build_datasets(cfg)", "def make_spiral("),
        "model.py": ("def build_model(cfg", "class MLP(nn.Module):"),
    }
    for name, signs in expected.items():
        text = (edited.dest / name).read_text()
        assert all(sign in text for sign in signs) and "MY " not in text, name
        compile(text, name, "exec")
        assert git(edited.dest, "status", "--porcelain", "--", name) == f"?? {name}\n"
    answers = (edited.dest / ".copier-answers.yml").read_text()
    assert f"_commit: {LATEST}" in answers and "task: tabular" in answers


def test_nothing_outside_the_project_changes_and_nothing_is_committed(edited):
    assert tree(edited.outside.parent) != {}  # the neighbour's files are there...
    neighbour = {k: v for k, v in tree(edited.outside.parent).items() if not k.startswith("demo/")}
    assert neighbour == {
        k: v for k, v in edited.outside_before.items() if not k.startswith("demo/")
    }
    assert git(edited.dest, "rev-parse", "HEAD") == edited.head_before


def test_layout_changes_are_crossed_only_by_updates_that_span_them():
    change, config_move = LAYOUT_CHANGES  # 0.3.0: data.py/model.py; 0.4.0: config.py
    assert crossed_layout_changes("0.2.0", "0.3.0") == [change]
    assert crossed_layout_changes("0.1.0", "0.3.0") == [change]
    assert crossed_layout_changes("0.2.0", "0.4.0") == [change, config_move]
    assert crossed_layout_changes("0.3.0", "0.4.0") == [config_move]
    assert crossed_layout_changes("0.3.0", "0.3.0") == []  # --set on a 0.3.0 project: no note
    assert crossed_layout_changes("0.1.0", "0.2.0") == []
    assert crossed_layout_changes("0.2.0", "0.3.0rc1") == []


@pytest.mark.slow
def test_an_unedited_0_2_0_project_merges_cleanly(v020, tmp_path):
    dest, outside = copy_beside_a_neighbour(v020, tmp_path)
    code, out, err = update(dest)
    assert code == 0, out + err
    assert (dest / "data.py").is_file() and (dest / "model.py").is_file()
    notes = [line for line in out.splitlines() if "moved the data and model code" in line]
    assert len(notes) == 1 and "yours from now on" in notes[0], out
    assert not git(dest, "diff", "--name-only", "--diff-filter=U").strip()


@pytest.mark.slow
def test_an_owners_own_data_py_is_kept_byte_for_byte(v020, tmp_path):
    dest, _ = copy_beside_a_neighbour(v020, tmp_path)
    mine = b"def load( path ):  # my own module, in my own style\n    return path\n"
    (dest / "data.py").write_bytes(mine)
    edit_like_an_owner(dest, MODEL_EDITS)
    code, out, err = update(dest)
    assert code == 3, out + err
    assert (dest / "data.py").read_bytes() == mine
    assert (dest / "model.py").is_file()
    (note,) = [line for line in err.splitlines() if "moved the data and model code" in line]
    assert "your own data.py was kept as it was" in note, note


def keep_the_templates_side(text: str) -> str:
    """Step 3 of the migration section: drop each hunk's "before updating" side and the markers."""
    out, side = [], None
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\n")
        if bare == OURS:
            side = "ours"
        elif bare == BASE and side == "ours":
            side = "theirs"
        elif bare == THEIRS and side == "theirs":
            side = None
        elif side != "ours":
            out.append(line)
    return "".join(out)


@pytest.mark.slow
def test_resolving_as_documented_gives_0_3_0s_train_py_with_the_other_edits(edited, tmp_path):
    """Keeping the template's side of every hunk leaves exactly 0.3.0's train.py plus the owner's
    edit elsewhere, and the project trains (a dry run) with the fresh data.py and model.py."""
    from scaffold.options import resolve_answers
    from scaffold.render import render_in_memory

    dest = tmp_path / "demo"
    shutil.copytree(edited.dest, dest, symlinks=True)
    resolved = keep_the_templates_side((dest / "train.py").read_text())
    fresh = render_in_memory(resolve_answers({"project_name": "demo"}))["train.py"]
    before, after = ELSEWHERE_EDIT
    assert resolved == fresh.replace(before, after, 1)
    (dest / "train.py").write_text(resolved)
    done = subprocess.run(
        [sys.executable, "train.py", "--dry-run", "--no-progress"],
        cwd=dest,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_the_config_move_note_names_what_the_owner_hit():
    """0.3.0 -> 0.4.0 moved Config to config.py, the template's file: the printed line says where
    the owner's Config edits are, or that a config.py of their own needs another name."""
    config_move = LAYOUT_CHANGES[1]
    clean = config_move.note([])
    assert clean.startswith("template 0.4.0 moved Config and its flag parsing out of train.py")
    assert "add new settings there" in clean and "yours from now on" not in clean
    edited = config_move.note(["train.py"])
    assert f"kept in train.py between '{OURS}' and '{BASE}'" in edited and "into that file" in edited
    clash = config_move.note(["config.py"])
    assert "your own config.py is kept" in clash and "another name" in clash
    for note in (clean, edited, clash):
        assert "\n" not in note and note.endswith(config_move.doc)
        doc, anchor = note.rsplit("see ", 1)[1].split("#")
        headings = [line[3:] for line in DOCS.read_text().splitlines() if line.startswith("## ")]
        slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
        assert doc == "docs/updating.md" and anchor in slugs
