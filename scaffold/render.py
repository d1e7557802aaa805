"""Rendering: the template to files, in memory (fast) or on disk through copier (the real thing).

Both paths use the same Jinja settings (copier.yml's `_envops`) and put every Python file through
`black.format_str`. The template is written so that its output is already black-stable; the
formatter is a safety net that fails loudly on output that does not parse, and the test suite checks
that it changes nothing (so a plain `copier copy` and `copier update` see the same text).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shlex
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scaffold.formatting import RenderError, format_python
from scaffold.paths import template_dir


@dataclass(frozen=True)
class RenderedProject:
    """The result of `render_project`."""

    dest: Path
    answers: dict[str, Any]
    files: tuple[str, ...]
    committed: bool
    note: str = ""


# libyaml's safe loader where PyYAML was built with it: the same documents, about 10x faster than
# the pure-Python one on copier.yml (9 ms against 110 ms on a loaded 2-core machine).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=1)
def _settings() -> dict[str, Any]:
    raw = yaml.load(  # noqa: S506 - a safe loader
        (template_dir() / "copier.yml").read_text(encoding="utf-8"), Loader=SAFE_LOADER
    )
    return {k: v for k, v in raw.items() if k.startswith("_")}


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import FileSystemLoader
    from jinja2.sandbox import SandboxedEnvironment

    settings = _settings()
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(template_dir())),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        **settings.get("_envops", {}),
    )


def template_files() -> list[str]:
    """Relative paths of the `.jinja` files that become project files (answers file excluded)."""
    root = template_dir()
    suffix = _settings().get("_templates_suffix", ".jinja")
    skipped = {"copier.yml", "includes"}
    files = []
    for path in sorted(root.rglob(f"*{suffix}")):
        rel = path.relative_to(root)
        if rel.parts[0] in skipped or "{{" in rel.as_posix():
            continue
        files.append(rel.as_posix())
    return files


def render_context(answers: Mapping[str, Any], questions: list | None = None) -> dict[str, Any]:
    """The answers plus the defaults of the questions they skip: what copier renders with.

    Args:
        answers: A complete answer set (see `scaffold.options.resolve_answers`).
        questions: The template's questions, in order (default: the packaged template's).

    Raises:
        KeyError: an asked question has no answer.
    """
    from scaffold.options import evaluate_default, is_asked, load_questions

    context: dict[str, Any] = {}
    for question in questions if questions is not None else load_questions():
        if question.name in answers:
            context[question.name] = answers[question.name]
        elif not is_asked(question, context):  # skipped questions still render with their default
            context[question.name] = evaluate_default(question, context)
        else:
            raise KeyError(f"answer missing: {question.name}")
    return context


def render_in_memory(answers: Mapping[str, Any], *, black_check: bool = True) -> dict[str, str]:
    """Render every template file to text, without copier and without touching the disk.

    Args:
        answers: A complete answer set (see `scaffold.options.resolve_answers`).
        black_check: Put Python files through black (raises RenderError if they do not parse).

    Returns:
        Output path -> file text, for every file except copier's answers file.
    """
    context = render_context(answers)
    env = _environment()
    suffix = _settings().get("_templates_suffix", ".jinja")
    rendered = {}
    kept = set(for_answers([rel[: -len(suffix)] for rel in template_files()], context))
    for rel in template_files():
        out_rel = rel[: -len(suffix)]
        if out_rel not in kept:
            continue
        text = env.get_template(rel).render(**context)
        if black_check and out_rel.endswith(".py"):
            text = format_python(text, out_rel)
        rendered[out_rel] = text
    return rendered


def answers_file_name() -> str:
    """The project's answers file, as copier.yml's `_answers_file` names it."""
    name = _settings().get("_answers_file", ".copier-answers.yml")
    return name if isinstance(name, str) else ".copier-answers.yml"


def owned_paths(template_paths: list[str], settings: Mapping[str, Any] | None = None) -> list[str]:
    """The project files a template writes, from the template's own file list.

    THE rule for which files scaffold owns in a project: each `*.jinja` file outside copier.yml and
    includes/ becomes the file without the suffix, and the answers file is copier's. Everything
    else in a project folder is the user's: `new` never formats, replaces or commits it, and
    `update` never formats it. `update` applies the same rule to the tree of a bundled version.

    Args:
        template_paths: Paths relative to the template root (e.g. from `git ls-tree`).
        settings: That template's copier.yml settings; default the packaged template's.
    """
    settings = _settings() if settings is None else settings
    suffix = settings.get("_templates_suffix", ".jinja")
    answers = settings.get("_answers_file", ".copier-answers.yml")
    owned = {str(answers)}
    for rel in template_paths:
        parts = rel.split("/")
        if parts[0] in ("copier.yml", "copier.yaml", "includes") or not rel.endswith(suffix):
            continue
        if "{{" in rel:  # the answers file, under its templated name
            continue
        owned.add(rel[: -len(suffix)])
    return sorted(owned)


def for_answers(
    paths: list[str], answers: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> list[str]:
    """`paths` minus the files that copier.yml's templated `_exclude` patterns drop for `answers`.

    A pattern such as "{% if task != 'lm' %}sample.py{% endif %}" keeps a file for some answers
    only; copier renders each pattern with the answers, and so does this (an empty one matches
    nothing). Untemplated patterns never name a rendered file, so they are not consulted.
    """
    import pathspec

    settings = _settings() if settings is None else settings
    env = _environment()
    patterns = []
    for pattern in settings.get("_exclude", []) or []:
        if "{" in str(pattern):
            text = env.from_string(str(pattern)).render(**answers)
            patterns += [line.strip() for line in text.splitlines() if line.strip()]
    if not patterns:
        return list(paths)
    # copier's own choice of pattern style: "gitignore" from pathspec 1.0, "gitwildmatch" before
    style = "gitignore" if int(pathspec.__version__.split(".")[0]) >= 1 else "gitwildmatch"
    spec = pathspec.PathSpec.from_lines(style, patterns)
    return [path for path in paths if not spec.match_file(path)]


def owned_files(answers: Mapping[str, Any] | None = None) -> list[str]:
    """The files `scaffold new` writes with the packaged template for `answers` (default: the
    default answers; see `owned_paths` and `for_answers`)."""
    from scaffold.options import default_answers

    return for_answers(owned_paths(template_files()), answers or default_answers())


def format_tree(
    dest: Path,
    files: list[str] | None = None,
    known: Mapping[str, tuple[str, str]] | None = None,
) -> list[str]:
    """Black-format Python files under `dest` in place; returns the files black changed.

    Args:
        dest: The project folder.
        files: Only these (relative paths); default every scaffold-owned file (`owned_files`).
            A user's own Python file is never formatted, so one that does not parse cannot matter.
        known: relative path -> (text, black's output for it), formatted ahead (scaffold.format_worker);
            used only for a file whose text is exactly that input.
    """
    changed = []
    known = known or {}
    for rel in files if files is not None else owned_files():
        path = dest / rel
        if not rel.endswith(".py") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        ahead = known.get(rel)
        formatted = ahead[1] if ahead and ahead[0] == text else format_python(text, rel)
        if formatted != text:
            path.write_text(formatted, encoding="utf-8")
            changed.append(rel)
    return changed


def python_files_largest_first(files: list[str]) -> list[str]:
    """The Python files among `files`, by the size of their template, largest first (the order
    in which `scaffold.format_worker` hands them out, so the last one anybody waits for is small).
    """
    suffix = _settings().get("_templates_suffix", ".jinja")
    root = template_dir()

    def size(rel: str) -> int:
        source = root / f"{rel}{suffix}"
        return source.stat().st_size if source.is_file() else 0

    return sorted((rel for rel in files if rel.endswith(".py")), key=lambda rel: (-size(rel), rel))


def replaced_files(dest: Path, files: list[str]) -> list[str]:
    """Which of `files` already exist in `dest` (what writing the project would replace)."""
    return [rel for rel in files if (dest / rel).exists() or (dest / rel).is_symlink()]


def blocking_paths(dest: Path, files: list[str]) -> list[str]:
    """Paths in `dest` that make writing `files` impossible: a folder where a file goes, or a file
    (or symlink) where a folder goes."""
    blocked = set()
    for rel in files:
        target = dest / rel
        if target.is_dir() and not target.is_symlink():
            blocked.add(rel)
        for parent in Path(rel).parents:
            if parent == Path("."):
                continue
            node = dest / parent
            if node.is_symlink() or (node.exists() and not node.is_dir()):
                blocked.add(parent.as_posix())
    return sorted(blocked)


def render_project(
    answers: Mapping[str, Any], dest: Path, *, overwrite: bool = False, git: bool = True
) -> RenderedProject:
    """Render the template next to `dest`, format it, move it into place, optionally commit it.

    copier writes into a fresh temporary folder beside `dest` (same filesystem), the Python files
    are black-formatted there, and only then is the result moved: with one `rename` when `dest` is
    missing, otherwise file by file into the existing folder, undone if interrupted (`move_into`).
    An interrupted or failed render (Ctrl-C, a full disk) therefore leaves `dest` as it was and
    removes the temporary folder. Only the files the template renders (`owned_files`) are formatted, moved and committed.

    Args:
        answers: A complete, validated answer set.
        dest: Destination folder (created if missing, with any missing parents).
        overwrite: Allow replacing files in a non-empty `dest` (the caller lists them first).
        git: Commit the fresh project in a new repository (see `commit_files` for when it does not).

    Raises:
        OSError: the destination cannot be written (the caller turns it into one line).
    """
    from scaffold.format_worker import BlackAhead

    files = owned_files(answers)
    # Forked first, so black formats in the worker while this process imports copier (about half
    # of copier's time) and renders; forking after `import copier` would overlap only the render.
    ahead = BlackAhead(
        functools.partial(render_in_memory, dict(answers), black_check=False),
        python_files_largest_first(files),
    )
    created_parents = [p for p in reversed(dest.absolute().parents) if not p.exists()]
    moved = False
    stage = None
    try:
        import copier

        from scaffold.versioning import copier_source

        dest.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".scaffold-new-", dir=dest.absolute().parent))
        with copier_source() as (src_path, vcs_ref):
            copier.run_copy(
                src_path,
                str(stage),
                data=dict(answers),
                defaults=True,
                overwrite=True,
                quiet=True,
                unsafe=False,
                vcs_ref=vcs_ref,
            )
        written = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
        if written != files:  # the template and `owned_paths` disagree: a scaffold bug
            raise RenderError(f"rendered files {written} differ from the owned list {files}")
        # copier is done, so this process joins the worker: both format until no file is left
        format_tree(
            stage, files, ahead.result(lambda rel: (stage / rel).read_text(encoding="utf-8"))
        )
        if not dest.exists():
            os.replace(stage, dest)  # one step: the project appears whole or not at all
        else:  # an existing folder stays (it may be someone's working directory): fill it
            if any(dest.iterdir()) and not overwrite:
                raise FileExistsError(errno.EEXIST, "not empty", str(dest))
            move_into(stage, dest, files)
        moved = True
    finally:
        ahead.close()
        if stage is not None and stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
        if not moved:
            for parent in reversed(created_parents):
                with contextlib.suppress(OSError):
                    parent.rmdir()
    committed, note = (
        commit_files(dest, files, "Generate project with scaffold") if git else (False, "")
    )
    return RenderedProject(
        dest=dest, answers=dict(answers), files=tuple(files), committed=committed, note=note
    )


def move_into(stage: Path, dest: Path, files: list[str]) -> None:
    """Move `files` from `stage` into the existing folder `dest`, all or nothing.

    Each file that would be replaced is first moved aside into `stage`; if anything fails or is
    interrupted half-way, the new files are taken out again and the originals put back, so `dest`
    ends as it began. Every step is a `rename` on one filesystem.
    """
    backup = stage / ".replaced"
    done: list[tuple[str, bool]] = []  # (file, whether an original was moved aside)
    made: list[Path] = []  # folders created in dest
    try:
        for rel in files:
            target = dest / rel
            for parent in reversed(Path(rel).parents[:-1]):
                if not (dest / parent).exists():
                    (dest / parent).mkdir()
                    made.append(dest / parent)
            had = target.exists() or target.is_symlink()
            if had:
                (backup / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, backup / rel)
            done.append((rel, had))
            os.replace(stage / rel, target)
    except BaseException:
        for rel, had in reversed(done):
            with contextlib.suppress(OSError):
                if not (stage / rel).exists():  # the new file was moved in: take it out
                    (dest / rel).unlink()
                if had:
                    os.replace(backup / rel, dest / rel)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def enclosing_repository(path: Path) -> Path | None:
    """The top folder of the git work tree holding `path`, or None (also when git is missing)."""
    from scaffold.git import run_git

    try:
        proc = run_git(["rev-parse", "--show-toplevel"], path, check=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    top = proc.stdout.decode(errors="replace").strip()
    return Path(top) if proc.returncode == 0 and top else None


def commit_files(dest: Path, files: list[str], message: str) -> tuple[bool, str]:
    """Commit exactly `files` in a new repository at `dest`, or say why not.

    An existing repository (`dest`'s own, or one `dest` sits inside) is never touched: its index
    may hold the user's staged work, and a nested repository would hide the project from it. The
    files are then left for the user to add, and the returned note says so. Otherwise `git init`
    and `git add -- FILES`: the user's own files in `dest` (a `.env`, notes) stay untracked.

    Returns:
        (committed, note): the note is empty when committed, else one line saying why not.
    """
    from scaffold.git import GitError, run_git

    if shutil.which("git") is None:
        return False, "git not found: no initial commit"
    top = enclosing_repository(dest)
    if top is not None:
        paths = " ".join(shlex.quote(rel) for rel in files)
        where = shlex.quote(str(dest))
        return False, (
            f"not committed: {dest} is inside the git repository {top}, whose index scaffold "
            f"leaves alone; to commit just the project's files: git -C {where} add -- {paths} "
            f'&& git -C {where} commit -m "Generate project with scaffold" -- {paths}'
        )
    identity = [
        "-c",
        "user.name=scaffold",
        "-c",
        "user.email=scaffold@localhost",
        "-c",
        "commit.gpgsign=false",
    ]
    try:
        run_git(["init", "-q", "-b", "main"], dest)
        run_git(["add", "--", *files], dest)
        run_git([*identity, "commit", "-q", "--no-verify", "-m", message, "--", *files], dest)
    except GitError as exc:
        return False, f"not committed: git failed ({' '.join(exc.stderr.split())[:120]})"
    return True, ""


def commit_all(dest: Path, message: str, files: list[str] | None = None) -> bool:
    """Commit a freshly rendered project folder (tests and tools that render without `new`).

    Args:
        dest: The folder, which must not be inside a repository yet.
        message: The commit message.
        files: What to commit; default the packaged template's files (`owned_files`).
    """
    return commit_files(dest, owned_files() if files is None else files, message)[0]
