"""`scaffold update` never loses, reformats or commits the owner's work, and never drops a change silently.

A project inside a larger repository (`mono/proj` beside `mono/other.txt`), a renamed or deleted
template file, a hand-edited answers file, a run from a subfolder, and plain `copier update`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import commit, git
from typer.testing import CliRunner

from scaffold.cli.app import app
from scaffold.new import create_project

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["update", *args])


def _one_error_line(result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _line(output: str, prefix: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(prefix))[len(prefix) :]


@pytest.fixture(scope="module")
def mono_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mono/ (a repository) holding other.txt and the project proj/, all committed."""
    mono = tmp_path_factory.mktemp("mono") / "mono"
    mono.mkdir()
    git(mono, "init", "-q", "-b", "main")
    (mono / "other.txt").write_text("committed\n")
    (mono / "staged.txt").write_text("committed\n")
    create_project(mono / "proj", {}, git=True)  # inside a repository: written, not committed
    assert not (mono / "proj" / ".git").exists()
    commit(mono, "monorepo with a project")
    return mono


@pytest.fixture
def mono(mono_template: Path, tmp_path: Path) -> Path:
    """A copy with uncommitted work outside the project: an edit, a staged edit, an untracked file."""
    dest = tmp_path / "mono"
    shutil.copytree(mono_template, dest, symlinks=True)
    (dest / "other.txt").write_text("committed\nmy uncommitted edit\n")
    (dest / "staged.txt").write_text("committed\nmy staged edit\n")
    git(dest, "add", "staged.txt")
    (dest / "wip.txt").write_text("untracked work\n")
    return dest


def _outside(mono: Path) -> tuple[str, str, str, str]:
    return (
        (mono / "other.txt").read_text(),
        (mono / "staged.txt").read_text(),
        (mono / "wip.txt").read_text(),
        git(mono, "diff", "--cached", "--name-only"),
    )


def test_update_inside_a_larger_repository_undo_touches_only_the_project(
    mono: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _outside(mono)
    head = git(mono, "rev-parse", "HEAD")
    monkeypatch.chdir(mono)
    result = _run("proj", "--set", "precision=bf16")
    assert result.exit_code == 0, result.output
    assert "bfloat16" in (mono / "proj" / "train.py").read_text()
    undo = _line(result.stdout, "undo: ")
    assert undo.count("-- .") == 2 and "reset --hard" not in undo
    subprocess.run(undo, shell=True, check=True, cwd=mono, capture_output=True)
    assert _outside(mono) == before  # the edit, the staged edit and wip.txt survive the undo
    assert git(mono, "status", "--porcelain", "--", "proj") == ""
    assert git(mono, "rev-parse", "HEAD") == head


def test_update_inside_a_larger_repository_keep_commits_only_the_project(
    mono: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _outside(mono)
    monkeypatch.chdir(mono)
    result = _run("proj", "--set", "precision=bf16")
    assert result.exit_code == 0, result.output
    keep = _line(result.stdout, "keep: ")
    assert "add -A -- ." in keep and keep.endswith("-- .")
    ident = "-c user.name=t -c user.email=t@localhost"
    subprocess.run(keep.replace("git -C", f"git {ident} -C"), shell=True, check=True, cwd=mono)
    committed = git(mono, "show", "--name-only", "--format=", "HEAD").split()
    assert committed and all(path.startswith("proj/") for path in committed), committed
    assert _outside(mono) == before  # staged.txt still staged, and not in the commit
    assert git(mono, "status", "--porcelain", "--", "proj") == ""


def test_dirty_check_covers_the_project_only(mono: Path) -> None:
    """Edits elsewhere in the repository do not block the update; edits in the project do."""
    (mono / "proj" / "train.py").write_text((mono / "proj" / "train.py").read_text() + "# wip\n")
    assert "uncommitted changes (1 path)" in _one_error_line(_run(str(mono / "proj")))


def test_update_from_a_subfolder_finds_the_project(
    current_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(current_copy / "tests")
    result = _run("--set", "precision=bf16")
    assert result.exit_code == 0, result.output
    assert "updated .." in result.stdout and "git -C .. restore" in result.stdout
    assert "bfloat16" in (current_copy / "train.py").read_text()


def test_no_answers_file_up_to_the_repository_top(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    git(repo, "init", "-q")
    (tmp_path / ".copier-answers.yml").write_text("precision: fp32\n")  # outside the repository
    assert "nothing to update" in _one_error_line(_run(str(repo / "sub")))


def test_renamed_template_file_is_reported_not_silently_skipped(current_copy: Path) -> None:
    git(current_copy, "mv", "train.py", "main.py")
    commit(current_copy, "rename")
    before = git(current_copy, "rev-parse", "HEAD"), (current_copy / "main.py").read_text()
    line = _one_error_line(_run(str(current_copy), "--set", "precision=bf16"))
    assert (
        "train.py (renamed to main.py)" in line
        and "git -C" in line
        and "mv main.py train.py" in line
    )
    assert (
        git(current_copy, "rev-parse", "HEAD"),
        (current_copy / "main.py").read_text(),
    ) == before
    assert git(current_copy, "status", "--porcelain") == ""
    # The advertised way round: move it back, commit, update.
    git(current_copy, "mv", "main.py", "train.py")
    commit(current_copy, "rename back")
    result = _run(str(current_copy), "--set", "precision=bf16")
    assert result.exit_code == 0 and "bfloat16" in (current_copy / "train.py").read_text()


def test_deleted_template_file_is_reported(current_copy: Path) -> None:
    git(current_copy, "rm", "-q", "train.py")
    commit(current_copy, "delete")
    line = _one_error_line(_run(str(current_copy), "--set", "precision=bf16"))
    assert "train.py (deleted)" in line and "checkout" in line
    assert git(current_copy, "status", "--porcelain") == ""


def test_deleted_file_the_update_does_not_change_is_fine(current_copy: Path) -> None:
    git(current_copy, "rm", "-q", ".gitignore")
    commit(current_copy, "no gitignore")
    result = _run(str(current_copy), "--set", "precision=bf16")
    assert result.exit_code == 0, result.output
    assert not (current_copy / ".gitignore").exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"accum_steps": 0}, "accum_steps: must be between 1 and 1024"),
        ({"accum_steps": "many"}, "accum_steps: 'many' is not a valid int"),
        ({"precision": "fp8"}, "precision: 'fp8' is not one of"),
        ({"scheduler": "onecycle", "scheduler_cadence": "epoch"}, "scheduler_cadence"),
    ],
)
def test_hand_edited_answers_file_is_one_line(
    current_copy: Path, edit: dict, expected: str
) -> None:
    path = current_copy / ".copier-answers.yml"
    data = yaml.safe_load(path.read_text())
    data.update(edit)
    path.write_text(yaml.safe_dump(data))
    commit(current_copy, "hand edit")
    line = _one_error_line(_run(str(current_copy), "--set", "precision=bf16"))
    assert (
        expected in line
        and "edited by hand" in line
        and "git checkout -- .copier-answers.yml" in line
    )


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00", "precision: caf\xe9\n".encode("latin-1"), b"[" * 5000, b"- a\n"],
)
def test_hostile_answers_file_in_the_project_is_one_line(
    current_copy: Path, content: bytes
) -> None:
    (current_copy / ".copier-answers.yml").write_bytes(content)
    commit(current_copy, "broken answers")
    line = _one_error_line(_run(str(current_copy)))
    assert ".copier-answers.yml" in line


def test_update_never_reformats_the_owners_lines(current_copy: Path) -> None:
    train = current_copy / "train.py"
    mine = "\n\nMY_TABLE = {'a':1,   'b':2}  # the owner's style, not black's\n"
    train.write_text(train.read_text() + mine)
    commit(current_copy)
    result = _run(str(current_copy), "--set", "precision=bf16")
    assert result.exit_code == 0, result.output
    text = train.read_text()
    assert "bfloat16" in text and text.endswith(mine)
    assert "black-formatted" not in result.stdout


def test_plain_copier_update_works_with_the_documented_line(current_copy: Path) -> None:
    """The one line in the answers file and the README, run as written, updates the project."""
    answers_line = next(
        line
        for line in (current_copy / ".copier-answers.yml").read_text().splitlines()
        if "Plain copier" in line
    )
    command = answers_line.split(": ", 1)[1]
    assert command in (current_copy / "README.md").read_text()
    bindir = str(Path(sys.executable).parent)  # copier from this environment
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}

    def shell(line: str) -> None:
        proc = subprocess.run(
            ["bash", "-c", line.replace("python", sys.executable, 1)],
            cwd=current_copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]

    shell(command)
    git(current_copy, "add", "-A")  # a stale checkout's bundle may have changed files
    git(current_copy, "commit", "-q", "--allow-empty", "-m", "plain copier update")
    shell(command + " --defaults -d precision=bf16")  # and an answer change through plain copier
    assert "bfloat16" in (current_copy / "train.py").read_text()
