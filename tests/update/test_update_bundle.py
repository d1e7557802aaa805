"""The bundle of template versions: fresh, reproducible, small, and read without git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, Synthetic

import scaffold
from tools import bundle as bundle_mod
from scaffold.versioning import (
    BUNDLE_PATH,
    TEMPLATE_URL,
    VersioningError,
    bundle_refs,
    bundled_versions,
    copier_source,
    git_redirect_env,
)

HAS_HISTORY = (REPO / ".git").exists() and bundle_mod.MANIFEST.is_file()


@pytest.mark.skipif(not HAS_HISTORY, reason="needs the repository's git history")
def test_committed_bundle_matches_the_manifest_and_the_current_template() -> None:
    reason = bundle_mod.stale_reason()
    assert reason is None, f"{reason}: rebuild it with `{bundle_mod.REBUILD_COMMAND}` and commit it"


@pytest.mark.skipif(not HAS_HISTORY, reason="needs the repository's git history")
def test_newest_version_is_the_package_version() -> None:
    assert bundle_mod.read_manifest()[-1].version == scaffold.__version__
    assert bundled_versions()[-1] == scaffold.__version__


def test_bundle_is_small_and_holds_pep440_tags() -> None:
    assert BUNDLE_PATH.stat().st_size < 512 * 1024
    refs = bundle_refs()
    assert refs["refs/heads/main"] == refs[f"refs/tags/{bundled_versions()[-1]}"]


def test_build_is_byte_for_byte_reproducible(synthetic: Synthetic, tmp_path: Path) -> None:
    manifest = synthetic.bundle.parent / "templates" / "releases.toml"
    first, second = tmp_path / "a.bundle", tmp_path / "b.bundle"
    bundle_mod.build_bundle(first, manifest, synthetic.bundle.parent)
    bundle_mod.build_bundle(second, manifest, synthetic.bundle.parent)
    assert first.read_bytes() == second.read_bytes() == synthetic.bundle.read_bytes()
    assert bundled_versions(first) == list(synthetic.versions)


def test_staleness_is_detected_for_a_template_edit(synthetic: Synthetic, tmp_path: Path) -> None:
    root = synthetic.bundle.parent
    manifest = root / "templates" / "releases.toml"
    copy = tmp_path / "copy.bundle"
    bundle_mod.build_bundle(copy, manifest, root)
    assert bundle_mod.stale_reason(copy, manifest, root) is None
    readme = root / "templates" / "project" / "README.md.jinja"
    original = readme.read_text()
    try:
        readme.write_text(original + "one more line\n")
        assert "0.3.0" in bundle_mod.stale_reason(copy, manifest, root)
    finally:
        readme.write_text(original)
    assert bundle_mod.stale_reason(copy, manifest, root) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[release]]\nversion = "v0.1.0"\nrev = "WORKTREE"\n', "canonical form '0.1.0'"),
        ('[[release]]\nversion = "banana"\nrev = "WORKTREE"\n', "not a PEP 440"),
        (
            '[[release]]\nversion = "0.2.0"\nrev = "HEAD"\n[[release]]\nversion = "0.1.0"\nrev = "WORKTREE"\n',
            "increase",
        ),
        (
            '[[release]]\nversion = "0.1.0"\nrev = "WORKTREE"\n[[release]]\nversion = "0.2.0"\nrev = "HEAD"\n',
            "last",
        ),
        ("", "no [[release]]"),
    ],
)
def test_manifest_mistakes_are_reported(tmp_path: Path, body: str, message: str) -> None:
    manifest = tmp_path / "releases.toml"
    manifest.write_text(body)
    with pytest.raises(
        bundle_mod.BundleError, match=message.replace("[", r"\[").replace("(", r"\(")
    ):
        bundle_mod.read_manifest(manifest)


def test_check_command_reports_a_stale_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not HAS_HISTORY:
        pytest.skip("needs the repository's git history")
    missing = tmp_path / "missing.bundle"
    assert bundle_mod.main(["--check", "--out", str(missing)]) == 1
    assert "python -m tools.bundle" in capsys.readouterr().err


def test_redirect_appends_to_git_config_the_caller_set() -> None:
    env = git_redirect_env(BUNDLE_PATH, {"GIT_CONFIG_COUNT": "2"})
    assert env == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": f"url.{BUNDLE_PATH}.insteadOf",
        "GIT_CONFIG_VALUE_2": TEMPLATE_URL,
    }


def test_copier_source_sets_plumbum_env_and_restores_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from plumbum import local

    monkeypatch.setenv("COPIER_CACHE_DIR", "/somewhere/else")
    before = dict(local.env)
    with copier_source() as (src, ref):
        assert (src, ref) == (TEMPLATE_URL, bundled_versions()[-1])
        assert (
            local.env["GIT_CONFIG_VALUE_" + str(int(local.env["GIT_CONFIG_COUNT"]) - 1)]
            == TEMPLATE_URL
        )
        assert "GIT_CONFIG_COUNT" not in os.environ or os.environ["GIT_CONFIG_COUNT"] == before.get(
            "GIT_CONFIG_COUNT"
        )
        cache = os.environ["COPIER_CACHE_DIR"]
        assert cache != "/somewhere/else" and Path(cache).is_dir()
        assert local["git"]("ls-remote", "--tags", TEMPLATE_URL).count("refs/tags/") == len(
            bundled_versions()
        )
    assert dict(local.env) == before and os.environ["COPIER_CACHE_DIR"] == "/somewhere/else"
    assert not Path(cache).exists()


def test_a_file_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "x.bundle"
    bogus.write_text("hello\n")
    with pytest.raises(VersioningError):
        bundled_versions(bogus)
    with pytest.raises(VersioningError):
        bundled_versions(tmp_path / "absent.bundle")


def test_cli_import_stays_light() -> None:
    code = "import sys, scaffold.cli.app; print(sorted(m for m in ('copier', 'torch', 'plumbum') if m in sys.modules))"
    out = subprocess.run(
        [os.sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_checkout_renders_the_work_tree_until_the_bundle_is_rebuilt(
    synthetic: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a source checkout, an edited template is used at once (via a temporary bundle)."""
    from scaffold import versioning

    root = synthetic.bundle.parent
    committed = root / "scaffold" / "_template_versions.bundle"
    committed.parent.mkdir(exist_ok=True)
    bundle_mod.build_bundle(committed, root / "templates" / "releases.toml", root)
    monkeypatch.setattr(versioning, "BUNDLE_PATH", committed)
    monkeypatch.setattr(versioning, "_PACKAGED_BUNDLE", committed)
    monkeypatch.setattr(versioning, "_CHECKOUT_BUNDLES", {})
    assert versioning.resolve_bundle() == committed  # current: the fast path, no build

    readme = root / "templates" / "project" / "README.md.jinja"
    original = readme.read_text()
    try:
        readme.write_text(original + "edited in the checkout\n")
        fresh = versioning.resolve_bundle()
        assert fresh != committed and fresh.is_file()
        assert bundle_refs(fresh)["refs/tags/0.3.0"] != bundle_refs(committed)["refs/tags/0.3.0"]
        assert bundle_refs(fresh)["refs/tags/0.2.0"] == bundle_refs(committed)["refs/tags/0.2.0"]
        assert versioning.resolve_bundle() == fresh  # built once per process
    finally:
        readme.write_text(original)
    assert versioning.resolve_bundle() == committed


def test_without_git_new_falls_back_to_the_template_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from scaffold.paths import template_dir

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with copier_source() as (src, ref):
        assert (src, ref) == (str(template_dir()), None)
