"""Packaging: the wheel holds the template and the bundle, and a clean install of it works.

The install test builds the wheel (`pip wheel .`), installs it with `pip --python` into a fresh
venv that borrows this environment's dependencies through a .pth file (no download, no editable
checkout on the path), and runs `scaffold new`, `update`, `teach` and `check` from that venv, in a
folder outside the checkout, so the installed copy is the one under test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIST_NAME = "torch-loop-scaffold"


def test_distribution_name_and_command():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["name"] == DIST_NAME
    assert meta["scripts"] == {"scaffold": "scaffold.cli.app:run"}
    assert "matplotlib" in " ".join(meta["optional-dependencies"]["plot"])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = out.glob("torch_loop_scaffold-*.whl")
    return path


def test_wheel_holds_the_template_and_the_bundle(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    template = ROOT / "templates" / "project"
    for path in template.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(template).as_posix()
            assert f"scaffold/_template/project/{rel}" in names, rel
    assert "scaffold/_template_versions.bundle" in names
    assert "scaffold/_template/project/plot.py.jinja" in names
    assert not any(n.startswith(("tests/", "templates/", "generated_examples/")) for n in names)


# Development tooling that used to live in the package; it is run from a checkout only.
MOVED_TO_TOOLS = (
    "scaffold/matrix.py",
    "scaffold/goldens.py",
    "scaffold/bundle.py",
    "scaffold/teach/measure.py",
    "scaffold/teach/regen.py",
)


def test_wheel_holds_the_runtime_and_no_development_tooling(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [n for n in names if n.startswith("tools/")], "tools/ is in the wheel"
    assert not names & set(MOVED_TO_TOOLS)
    tool_modules = {p.name for p in (ROOT / "tools").glob("*.py") if p.name != "__init__.py"}
    assert not [n for n in names if n.startswith("scaffold/") and n.rsplit("/", 1)[-1] in tool_modules]
    # Every module of the package is shipped (the runtime: CLI, rendering, git, update, teach, check).
    package = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "scaffold").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    }
    assert package <= names, sorted(package - names)
    for module in ("scaffold/git.py", "scaffold/versioning.py", "scaffold/cli/app.py"):
        assert module in names


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding the wheel (dependencies borrowed from this environment)."""
    env_dir = tmp_path_factory.mktemp("venv") / "v"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    # Only this environment's site-packages directory, not its .pth files: the editable
    # checkout those would put on the path stays off it.
    Path(site, "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return env_dir / "bin"


def run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="1", PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300,
    )


def test_installed_wheel_runs_new_update_teach_check(installed, tmp_path):
    where = run(installed, tmp_path, "python", "-c", "import scaffold; print(scaffold.__file__)")
    assert where.returncode == 0 and str(installed.parent) in where.stdout, where.stdout
    assert str(ROOT) not in where.stdout  # the wheel, not the checkout

    version = run(installed, tmp_path, "scaffold", "--version")
    assert re.fullmatch(r"scaffold \S+ \(template \S+\)\n", version.stdout), version.stdout

    new = run(installed, tmp_path, "scaffold", "new", "demo", "--defaults")
    assert new.returncode == 0, new.stderr
    assert (tmp_path / "demo" / "plot.py").is_file()
    answers = (tmp_path / "demo" / ".copier-answers.yml").read_text()
    assert "_commit:" in answers  # rendered from the bundle shipped in the wheel

    update = run(installed, tmp_path, "scaffold", "update", "demo", "--set", "precision=bf16")
    assert update.returncode == 0, update.stderr
    assert "precision: bf16" in (tmp_path / "demo" / ".copier-answers.yml").read_text()

    teach = run(installed, tmp_path, "scaffold", "teach", "clip-after-step", "lesson")
    assert teach.returncode == 0, teach.stderr
    clean = run(installed, tmp_path, "scaffold", "check", "demo/train.py")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    found = run(installed, tmp_path, "scaffold", "check", "lesson/train.py")
    assert found.returncode == 1 and "clip-after-step" in found.stdout
