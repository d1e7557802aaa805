"""Template updates: the owner's edits stay, the template's changes arrive, conflicts are inline."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import (
    V2_README_LINE,
    V2_TRAIN_LINE,
    V3_README_LINE,
    V3_TRAIN_LINE,
    Synthetic,
    commit,
    default_answers,
    git,
    prepend,
    render_at,
    tree,
)

from scaffold.update import update_project
from scaffold.versioning import TEMPLATE_URL, bundled_versions

OWNER_TRAIN = "# owner: a note at the end of train.py"
OWNER_README = "\n## Owner's notes\n\nThis section was written by the project's owner.\n"
OWNER_MODULE = '"""The owner\'s own module."""\n\nANSWER = 42\n'


def _answers(dest: Path) -> dict:
    return yaml.safe_load((dest / ".copier-answers.yml").read_text())


def _owner_edits(dest: Path) -> None:
    train = dest / "train.py"
    train.write_text(train.read_text() + f"\n{OWNER_TRAIN}\n")
    readme = dest / "README.md"
    readme.write_text(readme.read_text() + OWNER_README)
    (dest / "mylib.py").write_text(OWNER_MODULE)
    (dest / ".gitignore").unlink()  # a generated file the owner removed
    commit(dest)


def test_new_project_records_url_and_version(v1_project: Path, current_project: Path) -> None:
    assert _answers(v1_project)["_commit"] == "0.1.0"
    recorded = _answers(current_project)
    assert recorded["_src_path"] == TEMPLATE_URL
    assert recorded["_commit"] == bundled_versions()[-1]


def test_v1_to_v2_keeps_every_edit_and_brings_every_change(
    synthetic: Synthetic, v1_copy: Path
) -> None:
    _owner_edits(v1_copy)
    result = update_project(v1_copy, bundle=synthetic.bundle, version="0.2.0")

    assert result.conflicts == []
    train = (v1_copy / "train.py").read_text()
    assert train.startswith(V2_TRAIN_LINE + "\n")  # the template's change
    assert train.rstrip().endswith(OWNER_TRAIN)  # the owner's edit
    readme = (v1_copy / "README.md").read_text()
    assert readme.startswith(V2_README_LINE) and readme.endswith(OWNER_README)
    assert (v1_copy / "mylib.py").read_text() == OWNER_MODULE
    assert not (v1_copy / ".gitignore").exists()  # stays deleted
    # A new file and a new question (non-interactive: its default); the new file black-formatted.
    assert (v1_copy / "tests" / "test_added.py").read_text().startswith("VALUES = [1, 2]\n")
    assert (v1_copy / "NOTES.md").read_text() == "Progress every 10 steps.\n"
    recorded = _answers(v1_copy)
    assert recorded["_commit"] == "0.2.0" and recorded["log_every"] == 10
    assert recorded["_src_path"] == TEMPLATE_URL
    # Nothing committed: the owner reviews `git diff`.
    assert git(v1_copy, "log", "--format=%s", "-1").strip() == "owner edits"
    assert "train.py" in result.changed_files and "tests/test_added.py" in result.changed_files
    assert list(v1_copy.rglob("*.rej")) == [] and list(v1_copy.rglob("*.orig")) == []


def test_deliberate_conflict_is_inline_and_listed(synthetic: Synthetic, v1_copy: Path) -> None:
    prepend(v1_copy / "train.py", "# owner: my own header")  # where 0.2.0 adds its header
    readme = v1_copy / "README.md"
    readme.write_text(readme.read_text() + OWNER_README)
    commit(v1_copy)

    result = update_project(v1_copy, bundle=synthetic.bundle, version="0.2.0")

    assert result.conflicts == ["train.py"]
    train = (v1_copy / "train.py").read_text()
    assert "<<<<<<< before updating" in train and ">>>>>>> after updating" in train
    assert "# owner: my own header" in train and V2_TRAIN_LINE in train  # both sides kept
    assert list(v1_copy.rglob("*.rej")) == []
    # The rest of the update went through.
    assert readme.read_text().startswith(V2_README_LINE) and readme.read_text().endswith(
        OWNER_README
    )
    assert "train.py" in git(v1_copy, "diff", "--name-only", "--diff-filter=U")
    # docs/updating.md: --theirs takes the template's new file, --ours the owner's.
    git(v1_copy, "checkout", "--theirs", "--", "train.py")
    theirs = (v1_copy / "train.py").read_text()
    assert theirs.startswith(V2_TRAIN_LINE) and "# owner: my own header" not in theirs
    git(v1_copy, "checkout", "--ours", "--", "train.py")
    ours = (v1_copy / "train.py").read_text()
    assert ours.startswith("# owner: my own header") and V2_TRAIN_LINE not in ours


def test_new_question_is_the_only_one_asked(synthetic: Synthetic, v1_copy: Path) -> None:
    asked = []

    def ask(question, default, context):
        asked.append((question.name, default))
        return 25

    update_project(v1_copy, ask=ask, bundle=synthetic.bundle, version="0.2.0")
    assert asked == [("log_every", 10)]
    assert (v1_copy / "NOTES.md").read_text() == "Progress every 25 steps.\n"


@pytest.mark.parametrize("start", ["0.1.0", "0.2.0", "0.3.0"])
def test_every_synthetic_version_updates_to_a_fresh_render(
    synthetic: Synthetic, tmp_path: Path, start: str, fresh_latest: dict[str, str]
) -> None:
    project = render_at(synthetic.bundle, start, tmp_path / "demo")
    update_project(project, bundle=synthetic.bundle)
    updated = tree(project)
    assert sorted(updated) == sorted(fresh_latest)
    for rel, text in fresh_latest.items():
        assert (
            updated[rel] == text
        ), f"{rel} differs from a fresh render after updating from {start}"
    assert V3_README_LINE in updated["README.md"] and V3_TRAIN_LINE in updated["train.py"]


@pytest.fixture(scope="module")
def fresh_latest(synthetic: Synthetic, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return tree(
        render_at(
            synthetic.bundle, synthetic.versions[-1], tmp_path_factory.mktemp("fresh") / "demo"
        )
    )


@pytest.mark.parametrize("start", bundled_versions())
def test_every_bundled_version_updates_to_a_fresh_render(
    start: str, tmp_path: Path, current_project: Path
) -> None:
    """The real bundle: every released version reaches the current one (answers changed, so copier runs)."""
    answers = default_answers(project_name="demo", precision="fp16")
    project = render_at(None, start, tmp_path / "demo", default_answers(project_name="demo"))
    result = update_project(project, ["precision=fp16"])
    assert result.plan.new_version == bundled_versions()[-1] and result.conflicts == []
    fresh = tree(render_at(None, None, tmp_path / "fresh" / "demo", answers))
    assert tree(project) == fresh


def test_update_from_a_subfolder_of_a_larger_repository(
    synthetic: Synthetic, tmp_path: Path
) -> None:
    mono = tmp_path / "mono"
    mono.mkdir()
    git(mono, "init", "-q", "-b", "main")
    render_at(synthetic.bundle, "0.1.0", mono / "demo")
    assert not (mono / "demo" / ".git").exists()  # never a repository nested in another
    (mono / "other.txt").write_text("not part of the project\n")
    commit(mono, "monorepo")
    result = update_project(mono / "demo", bundle=synthetic.bundle, version="0.2.0")
    assert result.conflicts == []
    assert (mono / "demo" / "train.py").read_text().startswith(V2_TRAIN_LINE)
    assert (mono / "other.txt").read_text() == "not part of the project\n"
