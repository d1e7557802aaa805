"""Where copier reads the template from: a git bundle of every released version, shipped in the package.

Projects record a fixed template URL (`TEMPLATE_URL`, on the reserved `.invalid` domain, so git
can never reach it on the network) and the template version as copier's `_commit`. At run time git
is told to read that URL from the bundle next to this module
(`url.<bundle>.insteadOf=<TEMPLATE_URL>`, through `GIT_CONFIG_COUNT/KEY_n/VALUE_n`), so `scaffold
new` and `scaffold update` work offline, wherever the package is installed.

copier runs git through plumbum, whose `local.env` is a copy of the environment taken at import
time: the variables are set there, not in `os.environ`. copier also keeps a mirror cache of remote
templates keyed by URL; every operation gets its own empty cache (`COPIER_CACHE_DIR`), so a mirror
made from another installation's bundle is never reused.

`python -m scaffold.versioning` prints the shell lines that point a plain `copier` at the bundle.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

TEMPLATE_URL = "https://scaffold.invalid/template.git"
BUNDLE_PATH = Path(__file__).resolve().parent / "_template_versions.bundle"


class VersioningError(RuntimeError):
    """The bundle is missing or unreadable (a broken installation, not a user mistake)."""


def resolve_bundle(bundle: Path | None = None) -> Path:
    """`bundle`, or the package's bundle (looked up at call time, so tests can point it elsewhere).

    In a source checkout whose template was edited since the committed bundle was built, this is a
    bundle built from the work tree instead (see `_checkout_bundle`), so `scaffold new` renders the
    template as it is; the staleness test still fails until the committed bundle is rebuilt.
    """
    if bundle is not None:
        return bundle
    if BUNDLE_PATH == _PACKAGED_BUNDLE:
        return _checkout_bundle() or BUNDLE_PATH
    return BUNDLE_PATH


_PACKAGED_BUNDLE = BUNDLE_PATH
_CHECKOUT_BUNDLES: dict[str, Path] = {}


def _checkout_bundle() -> Path | None:
    """A bundle built from a source checkout's work tree when the committed one lags behind it.

    Cheap when nothing changed: the newest commit the build would make is computed in Python (the
    build is deterministic) and compared with the committed bundle's. Returns None outside a
    checkout, when the committed bundle is current, or when it cannot tell (no manifest, no git).
    """
    root = _PACKAGED_BUNDLE.parent.parent
    manifest = root / "templates" / "releases.toml"
    template = root / "templates" / "project"
    if not (
        manifest.is_file() and (template / "copier.yml").is_file() and (root / ".git").exists()
    ):
        return None
    try:
        import tomllib

        releases = tomllib.loads(manifest.read_text(encoding="utf-8")).get("release", [])
        versions = [str(r["version"]) for r in releases]
        refs = bundle_refs(_PACKAGED_BUNDLE) if _PACKAGED_BUNDLE.is_file() else {}
        tags = [ref.removeprefix("refs/tags/") for ref in refs if ref.startswith("refs/tags/")]
        if sorted(tags) == sorted(versions) and versions:
            if str(releases[-1].get("rev")) != "WORKTREE":
                return None
            parent = refs.get(f"refs/tags/{versions[-2]}") if len(versions) > 1 else None
            expected = _commit_id(_tree_id(template), parent, versions[-1])
            if refs.get(f"refs/tags/{versions[-1]}") == expected:
                return None
        else:
            expected = "manifest:" + "|".join(versions)
        if expected not in _CHECKOUT_BUNDLES:
            out = Path(tempfile.mkdtemp(prefix="scaffold-checkout-bundle-")) / "versions.bundle"
            _checkout_tool("bundle").build_bundle(out, manifest, root)
            import atexit
            import shutil

            atexit.register(shutil.rmtree, out.parent, True)
            _CHECKOUT_BUNDLES[expected] = out
        return _CHECKOUT_BUNDLES[expected]
    except Exception:  # noqa: BLE001 - a development convenience must never break the tool
        return None


def _checkout_tool(name: str) -> Any:
    """The development tool `tools/NAME.py` beside this package's source, loaded by its path.

    Tools are not in the wheel: only a source checkout has them (an installed package raises
    ImportError). The checkout's root need not be on `sys.path`, hence the load by path.
    """
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_scaffold_checkout_{name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ImportError(f"no development tool {path}")
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def _git_object_id(kind: str, body: bytes) -> str:
    import hashlib

    return hashlib.sha1(f"{kind} {len(body)}".encode() + b"\0" + body).hexdigest()


def _tree_id(folder: Path) -> str | None:
    """The git tree id of `folder` (what `tools/bundle.py` commits; caches and bytecode left out).

    None for a folder without files (git has no empty trees).
    """
    entries = []
    for path in folder.iterdir():
        if path.name in ("__pycache__", ".git") or path.suffix in (".pyc", ".pyo"):
            continue
        if path.is_dir():
            subtree = _tree_id(path)
            if subtree is not None:
                entries.append((path.name + "/", b"40000 " + path.name.encode(), subtree))
        elif path.is_file():
            mode = b"100755 " if os.access(path, os.X_OK) else b"100644 "
            entries.append(
                (path.name, mode + path.name.encode(), _git_object_id("blob", path.read_bytes()))
            )
    if not entries:
        return None
    entries.sort(key=lambda entry: entry[0].encode())
    return _git_object_id(
        "tree", b"".join(head + b"\0" + bytes.fromhex(oid) for _, head, oid in entries)
    )


def _commit_id(tree: str | None, parent: str | None, version: str) -> str:
    """The id of the commit `tools/bundle.py` makes for `version` (fixed identity and date)."""
    stamp = "scaffold <scaffold@localhost> 1704067200 +0000"
    head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
    return _git_object_id(
        "commit",
        f"{head}author {stamp}\ncommitter {stamp}\n\nscaffold template {version}\n".encode(),
    )


def bundle_refs(bundle: Path | None = None) -> dict[str, str]:
    """The refs a bundle holds (ref name -> commit id), read from its text header without git."""
    bundle = resolve_bundle(bundle)
    try:
        with bundle.open("rb") as handle:
            signature = handle.readline()
            if signature not in (b"# v2 git bundle\n", b"# v3 git bundle\n"):
                raise VersioningError(f"{bundle} is not a git bundle")
            refs = {}
            for raw in iter(handle.readline, b""):
                line = raw.decode("utf-8").rstrip("\n")
                if not line:
                    break
                if line.startswith(("@", "-")):  # v3 capabilities, prerequisites
                    continue
                sha, _, ref = line.partition(" ")
                refs[ref] = sha
    except OSError as exc:
        raise VersioningError(f"cannot read the template bundle {bundle}: {exc.strerror}") from None
    return refs


def bundled_versions(bundle: Path | None = None) -> list[str]:
    """The template versions in the bundle (PEP 440 tags), oldest first."""
    bundle = resolve_bundle(bundle)
    from packaging.version import InvalidVersion, Version

    versions = []
    for ref in bundle_refs(bundle):
        if ref.startswith("refs/tags/"):
            tag = ref.removeprefix("refs/tags/")
            with contextlib.suppress(InvalidVersion):
                versions.append((Version(tag), tag))
    if not versions:
        raise VersioningError(f"{bundle} holds no template version")
    return [tag for _, tag in sorted(versions)]


def latest_version(bundle: Path | None = None) -> str:
    """The newest template version in the bundle (the one `scaffold new` renders)."""
    return bundled_versions(bundle)[-1]


def git_redirect_env(
    bundle: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables that make git read `TEMPLATE_URL` from `bundle`, after any the caller already set."""
    bundle = resolve_bundle(bundle)
    environ = os.environ if environ is None else environ
    try:
        index = int(environ.get("GIT_CONFIG_COUNT", "0") or "0")
    except ValueError:
        index = 0
    return {
        "GIT_CONFIG_COUNT": str(index + 1),
        f"GIT_CONFIG_KEY_{index}": f"url.{bundle.resolve()}.insteadOf",
        f"GIT_CONFIG_VALUE_{index}": TEMPLATE_URL,
    }


@contextlib.contextmanager
def git_redirect(bundle: Path | None = None) -> Iterator[None]:
    """While active, copier's git reads `TEMPLATE_URL` from `bundle`, with a private mirror cache.

    copier's git also runs without the inherited `GIT_DIR`/`GIT_WORK_TREE`/`GIT_INDEX_FILE`
    (`scaffold.git.copier_git_env`), so it works on the project, not on another repository.
    """
    from plumbum import local

    from scaffold.git import copier_git_env

    bundle = resolve_bundle(bundle)

    if not bundle.is_file():
        raise VersioningError(f"the template bundle {bundle} is missing; reinstall scaffold")
    env = git_redirect_env(bundle, local.env)
    saved_cache = os.environ.get("COPIER_CACHE_DIR")
    with (
        tempfile.TemporaryDirectory(prefix="scaffold-copier-cache-") as cache,
        copier_git_env(env),
    ):
        os.environ["COPIER_CACHE_DIR"] = cache  # copier reads this one from os.environ
        try:
            yield
        finally:
            if saved_cache is None:
                os.environ.pop("COPIER_CACHE_DIR", None)
            else:
                os.environ["COPIER_CACHE_DIR"] = saved_cache


@contextlib.contextmanager
def copier_source(
    bundle: Path | None = None, version: str | None = None
) -> Iterator[tuple[str, str | None]]:
    """Yield (src_path, vcs_ref) for copier's run_copy: the fixed URL and a bundled version.

    Args:
        bundle: The bundle to read (tests pass their own).
        version: The template version to render; default the newest in the bundle.

    Without git (copier needs it to read a bundle), the packaged template folder is used: the
    project is still written, but records no version, so `scaffold update` cannot update it.
    """
    import shutil

    if bundle is None and version is None and shutil.which("git") is None:
        from scaffold.git import copier_git_env
        from scaffold.paths import template_dir

        with copier_git_env():
            yield str(template_dir()), None
        return
    version = version or latest_version(bundle)
    with git_redirect(bundle):
        yield TEMPLATE_URL, version


def main() -> int:
    """Print `export` lines that let a plain `copier copy/update` use the installed bundle.

    The lines outlive this process, so they always name the installed bundle, never the temporary
    one a stale source checkout would use; a stale checkout is pointed out on stderr instead.
    """
    if BUNDLE_PATH == _PACKAGED_BUNDLE and _checkout_bundle() is not None:
        print("# warning: the committed bundle is stale; run python -m tools.bundle", file=sys.stderr)
    for key, value in git_redirect_env(BUNDLE_PATH).items():
        print(f"export {key}={shlex.quote(value)}")
    print(
        f"# template URL: {TEMPLATE_URL}   versions: {', '.join(bundled_versions())}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
