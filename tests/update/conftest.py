"""Fixtures for `scaffold update`: real git repositories and bundles in temporary folders.

`synthetic` builds a template history of three versions from the current templates/project:
0.1.0 (as is), 0.2.0 (a header line in train.py and README, a new test file, a new question
`log_every` used by a new NOTES.md), 0.3.0 (a second header line in train.py, a changed one in
README). The edits sit at the top of files, so they survive later edits to the template.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "project"

V2_TRAIN_LINE = "# template 0.2.0: a header the template added"
V3_TRAIN_LINE = "# template 0.3.0: another header"
V2_README_LINE = "<!-- template 0.2.0 -->"
V3_README_LINE = "<!-- template 0.3.0 -->"

NEW_QUESTION = """
log_every:
  type: int
  help: Print a progress line every N optimizer steps
  default: 10
  validator: "{% if log_every < 1 %}must be at least 1{% endif %}"
"""
# Deliberately not black-formatted: the update formats it, as a fresh render does.
V2_TEST_FILE = "VALUES = [1,2]\n\n\ndef test_added_in_0_2_0():\n    assert VALUES == [1, 2]\n"


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity; return stdout."""
    ident = [
        "-c",
        "user.name=test",
        "-c",
        "user.email=test@localhost",
        "-c",
        "commit.gpgsign=false",
    ]
    proc = subprocess.run(
        ["git", *ident, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def commit(cwd: Path, message: str = "owner edits") -> None:
    git(cwd, "add", "-A")
    git(cwd, "commit", "-q", "-m", message)


def tree(root: Path) -> dict[str, str]:
    """Every file under root (outside .git): relative path -> text."""
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def snapshot(root: Path) -> tuple[dict[str, str], str, str]:
    """Files, HEAD and git status: what a refused update must leave exactly as it was."""
    head = git(root, "rev-parse", "HEAD") if (root / ".git").exists() else ""
    status = (
        git(root, "status", "--porcelain", "--untracked-files=all")
        if (root / ".git").exists()
        else ""
    )
    return tree(root), head, status


def prepend(path: Path, line: str) -> None:
    path.write_text(f"{line}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


@dataclass(frozen=True)
class Synthetic:
    bundle: Path
    versions: tuple[str, ...]


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    """A bundle of three template versions, built by tools/bundle.py from a temporary repository."""
    from tools.bundle import build_bundle

    root = tmp_path_factory.mktemp("template-history")
    project = root / "templates" / "project"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(root, "init", "-q", "-b", "main")
    commit(root, "template 0.1.0")
    v1 = git(root, "rev-parse", "HEAD").strip()

    prepend(project / "train.py.jinja", V2_TRAIN_LINE)
    prepend(project / "README.md.jinja", V2_README_LINE)
    (project / "tests" / "test_added.py.jinja").write_text(V2_TEST_FILE, encoding="utf-8")
    with (project / "copier.yml").open("a", encoding="utf-8") as handle:
        handle.write(NEW_QUESTION)
    (project / "NOTES.md.jinja").write_text(
        "Progress every {{ log_every }} steps.\n", encoding="utf-8"
    )
    commit(root, "template 0.2.0")
    git(root, "tag", "v0.2.0")

    # 0.3.0 is the work tree, not committed, as while the template is being edited.
    train = project / "train.py.jinja"
    train.write_text(
        train.read_text().replace(V2_TRAIN_LINE, f"{V2_TRAIN_LINE}\n{V3_TRAIN_LINE}", 1)
    )
    readme = project / "README.md.jinja"
    readme.write_text(readme.read_text().replace(V2_README_LINE, V3_README_LINE, 1))

    manifest = root / "templates" / "releases.toml"
    manifest.write_text(
        f'[[release]]\nversion = "0.1.0"\nrev = "{v1}"\n\n'
        '[[release]]\nversion = "0.2.0"\nrev = "v0.2.0"\n\n'
        '[[release]]\nversion = "0.3.0"\nrev = "WORKTREE"\n'
    )
    bundle = root / "versions.bundle"
    build_bundle(bundle, manifest, root)
    return Synthetic(bundle=bundle, versions=("0.1.0", "0.2.0", "0.3.0"))


def default_answers(**overrides: Any) -> dict[str, Any]:
    from scaffold.options import resolve_answers

    return resolve_answers({"project_name": "demo", **overrides})


def render_at(
    bundle: Path | None, version: str | None, dest: Path, answers: dict[str, Any] | None = None
) -> Path:
    """What `scaffold new` does, from any bundle and version: copier copy, black, git commit."""
    import copier

    from scaffold.render import commit_all, format_tree
    from scaffold.versioning import copier_source

    with copier_source(bundle, version) as (src, ref):
        copier.run_copy(
            src,
            str(dest),
            data=answers or default_answers(),
            defaults=True,
            quiet=True,
            unsafe=False,
            vcs_ref=ref,
        )
    # That version's files (a synthetic version adds some): everything copier wrote.
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    format_tree(dest, files)
    commit_all(dest, "Generate project", files)
    return dest


@pytest.fixture(scope="session")
def v1_project(synthetic: Synthetic, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed project at synthetic 0.1.0 (copy it before changing it)."""
    return render_at(synthetic.bundle, "0.1.0", tmp_path_factory.mktemp("v1") / "demo")


@pytest.fixture
def v1_copy(v1_project: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(v1_project, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def current_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed project made by `scaffold new --defaults` from the real bundle."""
    from scaffold.new import create_project

    dest = tmp_path_factory.mktemp("current") / "demo"
    create_project(dest, {}, git=True)
    return dest


@pytest.fixture
def current_copy(current_project: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(current_project, dest, symlinks=True)
    return dest
