"""git variables inherited from a hook or a CI job never send scaffold's git work elsewhere.

`GIT_DIR`, `GIT_WORK_TREE` and `GIT_INDEX_FILE` point at another repository (`outer`), as they do
inside a git hook. `scaffold new` and `scaffold update` run as a user runs them (a fresh process,
so plumbum, through which copier runs git, sees the variables too). The outer repository's log,
index and status stay exactly as they were, and the project gets (or keeps) its own `.git`.

A source scan also checks that no git command is started outside `scaffold.git.run_git`.
"""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCATION = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in LOCATION}


def git(cwd: Path, *args: str) -> str:
    ident = ["-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false"]
    proc = subprocess.run(
        ["git", *ident, *args], cwd=cwd, env=_clean_env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _outer(tmp_path: Path) -> Path:
    """A repository with one commit, a staged file and an untracked file."""
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    (outer / "kept.txt").write_text("committed\n")
    git(outer, "add", "kept.txt")
    git(outer, "commit", "-q", "-m", "root")
    (outer / "staged.txt").write_text("staged\n")
    git(outer, "add", "staged.txt")
    (outer / "loose.txt").write_text("untracked\n")
    return outer


def _state(outer: Path) -> tuple[str, str, str, str]:
    """The outer repository as a hook would find it: log, index bytes, status, refs."""
    index = hashlib.sha256((outer / ".git" / "index").read_bytes()).hexdigest()
    return (
        git(outer, "log", "--all", "--format=%H %s"),
        index,
        git(outer, "status", "--porcelain", "--untracked-files=all"),
        git(outer, "for-each-ref"),
    )


def _hook_env(outer: Path, names: tuple[str, ...] = LOCATION) -> dict[str, str]:
    """The environment inside a hook of `outer`: the variables `names` point at it."""
    values = {
        "GIT_DIR": str(outer / ".git"),
        "GIT_WORK_TREE": str(outer),
        "GIT_INDEX_FILE": str(outer / ".git" / "index"),
    }
    return {**_clean_env(), **{name: values[name] for name in names}, "OMP_NUM_THREADS": "1"}


def _scaffold(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scaffold", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("names", [("GIT_DIR",), LOCATION], ids=["git_dir", "all_three"])
def test_new_with_git_dir_of_another_repository(tmp_path, names):
    outer = _outer(tmp_path)
    before = _state(outer)
    work = tmp_path / "elsewhere"
    work.mkdir()
    done = _scaffold(work, _hook_env(outer, names), "new", str(tmp_path / "proj"), "--defaults")
    assert done.returncode == 0, done.stderr
    assert _state(outer) == before
    proj = tmp_path / "proj"
    assert (proj / ".git").is_dir(), "the project got no repository of its own"
    assert git(proj, "log", "--format=%s").splitlines() == ["Generate project with scaffold"]
    assert git(proj, "status", "--porcelain") == ""
    assert "train.py" in git(proj, "ls-files").split()


def test_update_with_git_dir_of_another_repository(tmp_path):
    proj = tmp_path / "proj"
    done = _scaffold(tmp_path, _clean_env(), "new", str(proj), "--defaults")
    assert done.returncode == 0, done.stderr
    head = git(proj, "rev-parse", "HEAD")
    outer = _outer(tmp_path)
    before = _state(outer)

    done = _scaffold(proj, _hook_env(outer), "update", str(proj), "--set", "epochs=7")
    assert done.returncode == 0, done.stderr
    assert _state(outer) == before
    # The update is left in the project's own work tree, for review, uncommitted.
    assert git(proj, "rev-parse", "HEAD") == head
    changed = git(proj, "status", "--porcelain").split()
    assert ".copier-answers.yml" in changed and "config.py" in changed, changed


# --- every git command goes through the runner ------------------------------------------------

RUNNER = ROOT / "scaffold" / "git.py"
PROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "system", "spawnv"}


def _starts_with_git(node: ast.AST) -> bool:
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        first = node.elts[0]
        return isinstance(first, ast.Constant) and first.value == "git"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value == "git" or node.value.startswith("git ")
    return False


def git_calls_outside_runner(source: str, name: str) -> list[str]:
    """`file:line` of every git command a module starts itself (subprocess, os, plumbum)."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in PROCESS_CALLS and any(_starts_with_git(a) for a in node.args):
                found.append(where)
            if called == "get" and node.args and _starts_with_git(node.args[0]):  # local.get("git")
                found.append(where)
        elif isinstance(node, ast.Subscript) and _starts_with_git(node.slice):  # local["git"]
            found.append(where)
        elif isinstance(node, ast.ImportFrom) and node.module == "plumbum.cmd":
            if any(alias.name == "git" for alias in node.names):
                found.append(where)
    return found


def test_every_git_command_goes_through_the_runner():
    offenders = []
    for path in sorted((ROOT / "scaffold").rglob("*.py")):
        if path != RUNNER:
            rel = path.relative_to(ROOT).as_posix()
            offenders += git_calls_outside_runner(path.read_text(encoding="utf-8"), rel)
    assert not offenders, f"git run outside scaffold.git.run_git: {offenders}"
    assert git_calls_outside_runner(RUNNER.read_text(encoding="utf-8"), "scaffold/git.py")


@pytest.mark.parametrize(
    "snippet",
    [
        'subprocess.run(["git", "init"], cwd=d)',
        'subprocess.check_output(("git", "status"))',
        'os.system("git commit -m x")',
        'local["git"]("status")',
        'from plumbum.cmd import git',
    ],
)
def test_the_scan_sees_a_git_call(snippet):
    assert git_calls_outside_runner(snippet, "x.py") == ["x.py:1"]
