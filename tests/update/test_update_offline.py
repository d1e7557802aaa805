"""Update works offline, from wherever the package is installed, and with plain copier."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import (
    REPO,
    TEMPLATE,
    V2_TRAIN_LINE,
    V3_README_LINE,
    Synthetic,
    commit,
    git,
    render_at,
)

from scaffold.versioning import TEMPLATE_URL, git_redirect_env, latest_version


def _offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No network for git (file transport only; a dead proxy for good measure) and a private cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "COPIER_"))}
    env.update(
        GIT_ALLOW_PROTOCOL="file",
        HTTPS_PROXY="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        OMP_NUM_THREADS="1",
        **extra,
    )
    return env


def _install(site: Path, bundle: Path | None = None) -> Path:
    """Lay the package out as a wheel installs it: scaffold/ with _template/project and the bundle."""
    package = site / "scaffold"
    shutil.copytree(
        REPO / "scaffold", package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    shutil.copytree(
        TEMPLATE, package / "_template" / "project", ignore=shutil.ignore_patterns("__pycache__")
    )
    if bundle is not None:
        shutil.copyfile(bundle, package / "_template_versions.bundle")
    return site


def _scaffold(
    site: Path, cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scaffold", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_new_and_update_offline_after_the_package_moved(tmp_path: Path) -> None:
    env = _offline_env(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    site1 = _install(tmp_path / "site1")
    made = _scaffold(site1, work, env, "new", "demo", "--defaults")
    assert made.returncode == 0, made.stderr
    project = work / "demo"
    assert (
        yaml.safe_load((project / ".copier-answers.yml").read_text())["_src_path"] == TEMPLATE_URL
    )

    site2 = tmp_path / "elsewhere" / "site2"
    site2.parent.mkdir()
    shutil.move(site1, site2)  # the old installation is gone
    train = project / "train.py"
    train.write_text(train.read_text() + "\n# owner: keep me\n")
    commit(project)

    updated = _scaffold(site2, work, env, "update", "demo", "--set", "precision=bf16")
    assert updated.returncode == 0, updated.stderr
    assert "bfloat16" in train.read_text() and train.read_text().rstrip().endswith(
        "# owner: keep me"
    )
    assert not (tmp_path / "xdg-cache" / "copier").exists()  # no mirror left in the user's cache
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert str(tmp_path) not in path.read_text(), path


def test_moved_installation_with_newer_versions_updates_offline(
    synthetic: Synthetic, tmp_path: Path
) -> None:
    project = render_at(synthetic.bundle, "0.1.0", tmp_path / "demo")
    site = _install(tmp_path / "installed" / "site", synthetic.bundle)
    result = _scaffold(site, tmp_path, _offline_env(tmp_path), "update", "demo")
    assert result.returncode == 0, result.stderr
    assert "0.1.0 -> 0.3.0" in result.stdout
    assert (project / "README.md").read_text().startswith(V3_README_LINE)


def test_plain_copier_copy_and_update(synthetic: Synthetic, tmp_path: Path) -> None:
    """docs/updating.md: point plain copier at a bundle with the printed variables, then copy/update."""
    env = _offline_env(tmp_path)
    env.update(git_redirect_env(synthetic.bundle, env))
    copier = [sys.executable, "-m", "copier"]
    dest = tmp_path / "plain"
    subprocess.run(
        [
            *copier,
            "copy",
            "--defaults",
            "--vcs-ref",
            "0.1.0",
            "-d",
            "project_name=plain",
            TEMPLATE_URL,
            str(dest),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    git(dest, "init", "-q", "-b", "main")
    train = dest / "train.py"
    train.write_text(train.read_text() + "\n# owner: keep me\n")
    commit(dest, "plain copy")
    proc = subprocess.run(
        [
            *copier,
            "update",
            "--defaults",
            "--conflict",
            "inline",
            "-d",
            "precision=bf16",
            str(dest),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert (
        answers["_commit"] == "0.3.0"
        and answers["precision"] == "bf16"
        and answers["_src_path"] == TEMPLATE_URL
    )
    text = train.read_text()
    assert (
        text.startswith(V2_TRAIN_LINE)
        and "bfloat16" in text
        and text.rstrip().endswith("# owner: keep me")
    )


def test_printed_shell_variables_point_plain_copier_at_the_installed_bundle(tmp_path: Path) -> None:
    env = _offline_env(tmp_path, PYTHONPATH=str(REPO))
    dest = tmp_path / "viaenv"
    script = (
        f'eval "$("{sys.executable}" -m scaffold.versioning)" && '
        f'"{sys.executable}" -m copier copy --defaults -d project_name=viaenv {TEMPLATE_URL} "{dest}"'
    )
    proc = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_commit"] == latest_version() and answers["_src_path"] == TEMPLATE_URL


def test_the_fixed_url_never_reaches_the_network(tmp_path: Path) -> None:
    """Without the redirect, git fails on the reserved .invalid domain (no template is fetched)."""
    env = _offline_env(tmp_path)
    proc = subprocess.run(
        ["git", "ls-remote", TEMPLATE_URL],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
