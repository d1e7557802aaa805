"""Build the git bundle of released template versions that ships inside the package.

    python -m tools.bundle            # rebuild scaffold/_template_versions.bundle
    python -m tools.bundle --check    # exit 1 if the committed bundle is stale

The template's history is this repository's `templates/project/` folder. `templates/releases.toml`
lists the released versions, oldest first, each with the git revision of this repository whose
`templates/project/` is that release; the last entry may say `rev = "WORKTREE"` (the files as they
are now, tracked or not yet added) and must be `scaffold.__version__`.

The build makes a fresh repository whose root is the template (copier.yml at the root), with one
commit per release (fixed identity, dates and messages, each the child of the one before), tagged
with the PEP 440 version, and bundles it. The same inputs give the same commit ids, so staleness is
checked by comparing commit ids (`check`), and the bundle bytes are reproducible with the same git.

This is a development tool: it needs git and a checkout of the repository, and is not in the wheel.
At run time scaffold only reads the bundle (see `scaffold.versioning`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scaffold.git import GitError, run_git
from scaffold.versioning import BUNDLE_PATH, bundle_refs

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / "templates" / "releases.toml"
TEMPLATE_SUBDIR = "templates/project"
WORKTREE = "WORKTREE"
REBUILD_COMMAND = "python -m tools.bundle"

# Fixed identity and dates: the commit ids depend only on the template files and the version list.
_IDENTITY = {
    "GIT_AUTHOR_NAME": "scaffold",
    "GIT_AUTHOR_EMAIL": "scaffold@localhost",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "scaffold",
    "GIT_COMMITTER_EMAIL": "scaffold@localhost",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
}


class BundleError(RuntimeError):
    """The manifest or the repository is not in a state a bundle can be built from."""


@dataclass(frozen=True)
class Release:
    """One released template version and where its files come from."""

    version: str
    rev: str


def _git(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    data: bytes | None = None,
) -> bytes:
    # Isolated: neither the caller's git config nor its variables (GIT_DIR inside a git hook) may
    # change what is read or written; the private repository is named on purpose in `env`.
    try:
        proc = run_git(args, cwd, env=env, isolated=True, input=data)
    except GitError as exc:
        raise BundleError(f"git {' '.join(args[:2])} failed: {exc.stderr.strip()}") from None
    return proc.stdout


def read_manifest(path: Path = MANIFEST) -> list[Release]:
    """The releases of `path`, oldest first, after checking their versions.

    Raises:
        BundleError: a version is not canonical PEP 440, not increasing, or WORKTREE is not last.
    """
    import tomllib
    from packaging.version import InvalidVersion, Version

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    releases = [Release(str(item["version"]), str(item["rev"])) for item in data.get("release", [])]
    if not releases:
        raise BundleError(f"{path}: no [[release]] entries")
    previous = None
    for index, release in enumerate(releases):
        try:
            parsed = Version(release.version)
        except InvalidVersion:
            raise BundleError(f"{path}: {release.version!r} is not a PEP 440 version") from None
        if str(parsed) != release.version:
            raise BundleError(
                f"{path}: write {release.version!r} in canonical form {str(parsed)!r}"
            )
        if previous is not None and parsed <= previous:
            raise BundleError(
                f"{path}: versions must increase ({release.version} after {previous})"
            )
        if release.rev == WORKTREE and index != len(releases) - 1:
            raise BundleError(f"{path}: only the last release may use rev = {WORKTREE!r}")
        previous = parsed
    return releases


def release_files(
    release: Release, repo_root: Path = REPO_ROOT, subdir: str = TEMPLATE_SUBDIR
) -> dict[str, tuple[str, bytes]]:
    """The template files of one release: relative path -> (git file mode, content)."""
    files: dict[str, tuple[str, bytes]] = {}
    prefix = subdir.rstrip("/") + "/"
    if release.rev == WORKTREE:
        listed = _git(
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            subdir,
            cwd=repo_root,
        )
        for rel in sorted(set(filter(None, listed.decode().split("\0")))):
            path = repo_root / rel
            if not path.is_file():  # deleted in the work tree but still in the index
                continue
            mode = "100755" if os.access(path, os.X_OK) else "100644"
            files[rel[len(prefix) :]] = (mode, path.read_bytes())
        return files
    listed = _git("ls-tree", "-r", "-z", "--full-tree", release.rev, "--", subdir, cwd=repo_root)
    for entry in filter(None, listed.decode().split("\0")):
        meta, rel = entry.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind != "blob":
            continue
        files[rel[len(prefix) :]] = (mode, _git("cat-file", "blob", sha, cwd=repo_root))
    if not files:
        raise BundleError(f"revision {release.rev!r} (release {release.version}) has no {subdir}/")
    return files


def build_repository(
    releases: list[tuple[str, dict[str, tuple[str, bytes]]]], git_dir: Path
) -> dict[str, str]:
    """Write a bare repository with one commit per release; returns version -> commit id."""
    _git("init", "-q", "--bare", "-b", "main", str(git_dir), cwd=git_dir.parent)
    env = {"GIT_DIR": str(git_dir), "GIT_INDEX_FILE": str(git_dir / "build-index"), **_IDENTITY}
    commits: dict[str, str] = {}
    parent: str | None = None
    for version, files in releases:
        _git("read-tree", "--empty", cwd=git_dir, env=env)
        lines = []
        for rel, (mode, content) in sorted(files.items()):
            sha = _git("hash-object", "-w", "--stdin", cwd=git_dir, env=env, data=content).decode().strip()
            lines.append(f"{mode} {sha}\t{rel}")
        _git(
            "update-index",
            "--add",
            "--index-info",
            cwd=git_dir, env=env,
            data=("\n".join(lines) + "\n").encode(),
        )
        tree = _git("write-tree", cwd=git_dir, env=env).decode().strip()
        args = ["commit-tree", tree, "-m", f"scaffold template {version}"]
        if parent:
            args += ["-p", parent]
        parent = _git(*args, cwd=git_dir, env=env).decode().strip()
        _git("update-ref", f"refs/tags/{version}", parent, cwd=git_dir, env=env)
        commits[version] = parent
    if parent:
        _git("update-ref", "refs/heads/main", parent, cwd=git_dir, env=env)
    (git_dir / "build-index").unlink(missing_ok=True)
    return commits


def expected_refs(
    manifest: Path = MANIFEST, repo_root: Path = REPO_ROOT, subdir: str = TEMPLATE_SUBDIR
) -> dict[str, str]:
    """The refs a fresh bundle would hold (`refs/tags/<version>` and `refs/heads/main` -> commit)."""
    with tempfile.TemporaryDirectory(prefix="scaffold-bundle-") as tmp:
        return _refs_of(_build(manifest, repo_root, subdir, Path(tmp) / "repo.git"))


def _build(manifest: Path, repo_root: Path, subdir: str, git_dir: Path) -> dict[str, str]:
    releases = read_manifest(manifest)
    return build_repository(
        [(r.version, release_files(r, repo_root, subdir)) for r in releases], git_dir
    )


def _refs_of(commits: dict[str, str]) -> dict[str, str]:
    refs = {f"refs/tags/{version}": sha for version, sha in commits.items()}
    refs["refs/heads/main"] = list(commits.values())[-1]
    return refs


def build_bundle(
    out: Path = BUNDLE_PATH,
    manifest: Path = MANIFEST,
    repo_root: Path = REPO_ROOT,
    subdir: str = TEMPLATE_SUBDIR,
) -> dict[str, str]:
    """Build the bundle into `out` (replaced atomically); returns its refs."""
    with tempfile.TemporaryDirectory(prefix="scaffold-bundle-") as tmp:
        git_dir = Path(tmp) / "repo.git"
        commits = _build(manifest, repo_root, subdir, git_dir)
        partial = Path(tmp) / "out.bundle"
        # One pack thread: the pack (and so the file) is byte-for-byte reproducible.
        _git(
            "-c",
            "pack.threads=1",
            "bundle",
            "create",
            "-q",
            str(partial),
            "--all",
            cwd=git_dir,
            env={"GIT_DIR": str(git_dir)},
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        staged = out.with_name(out.name + ".tmp")
        staged.write_bytes(partial.read_bytes())
        staged.replace(out)
    return _refs_of(commits)


def stale_reason(
    bundle: Path = BUNDLE_PATH, manifest: Path = MANIFEST, repo_root: Path = REPO_ROOT
) -> str | None:
    """Why `bundle` differs from what the manifest and the current template would give, or None."""
    expected = expected_refs(manifest, repo_root)
    if not bundle.is_file():
        return f"{bundle.name} is missing"
    actual = {ref: sha for ref, sha in bundle_refs(bundle).items() if ref != "HEAD"}
    if actual == expected:
        return None
    changed = sorted(
        ref.removeprefix("refs/tags/")
        for ref in set(expected) | set(actual)
        if ref.startswith("refs/tags/") and expected.get(ref) != actual.get(ref)
    )
    return f"{bundle.name} is stale (versions that differ: {', '.join(changed) or 'main'})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bundle", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the bundle is stale; write nothing"
    )
    parser.add_argument("--out", type=Path, default=BUNDLE_PATH, help="bundle to write or check")
    args = parser.parse_args(argv)
    try:
        if args.check:
            reason = stale_reason(args.out)
            if reason:
                print(f"{reason}: run `{REBUILD_COMMAND}` and commit it", file=sys.stderr)
                return 1
            print(f"{args.out.name} is up to date")
            return 0
        refs = build_bundle(args.out)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    versions = [ref.removeprefix("refs/tags/") for ref in refs if ref.startswith("refs/tags/")]
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size} bytes): template versions {', '.join(versions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
