"""Rendering: the template to files, in memory (fast) or on disk through copier (the real thing).

Both paths use the same Jinja settings (copier.yml's `_envops`) and put every Python file through
`black.format_str`. The template is written so that its output is already black-stable; the
formatter is a safety net that fails loudly on output that does not parse, and the test suite checks
that it changes nothing (so a plain `copier copy` and `copier update` see the same text).
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scaffold.paths import template_dir

BLACK_LINE_LENGTH = 100


class RenderError(RuntimeError):
    """The template produced output that is not valid Python (a bug in scaffold, not the user)."""


@dataclass(frozen=True)
class RenderedProject:
    """The result of `render_project`."""

    dest: Path
    answers: dict[str, Any]
    files: tuple[str, ...]
    committed: bool


def format_python(source: str, filename: str = "<generated>") -> str:
    """Format with black in process.

    Raises:
        RenderError: if the source does not parse.
    """
    import black

    try:
        return black.format_str(source, mode=black.Mode(line_length=BLACK_LINE_LENGTH))
    except black.InvalidInput as exc:
        raise RenderError(f"{filename}: rendered code does not parse: {exc}") from None


@functools.lru_cache(maxsize=1)
def _settings() -> dict[str, Any]:
    raw = yaml.safe_load((template_dir() / "copier.yml").read_text(encoding="utf-8"))
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


def render_in_memory(answers: Mapping[str, Any], *, black_check: bool = True) -> dict[str, str]:
    """Render every template file to text, without copier and without touching the disk.

    Args:
        answers: A complete answer set (see `scaffold.options.resolve_answers`).
        black_check: Put Python files through black (raises RenderError if they do not parse).

    Returns:
        Output path -> file text, for every file except copier's answers file.
    """
    from scaffold.options import evaluate_default, is_asked, load_questions

    context: dict[str, Any] = {}
    for question in load_questions():  # skipped questions still render with their default
        if question.name in answers:
            context[question.name] = answers[question.name]
        elif not is_asked(question, context):
            context[question.name] = evaluate_default(question, context)
        else:
            raise KeyError(f"answer missing: {question.name}")
    env = _environment()
    suffix = _settings().get("_templates_suffix", ".jinja")
    rendered = {}
    for rel in template_files():
        text = env.get_template(rel).render(**context)
        out_rel = rel[: -len(suffix)]
        if black_check and out_rel.endswith(".py"):
            text = format_python(text, out_rel)
        rendered[out_rel] = text
    return rendered


def format_tree(dest: Path, known: Mapping[str, tuple[str, str]] | None = None) -> list[str]:
    """Black-format every Python file under `dest` in place; returns the files black changed.

    Args:
        dest: The project folder.
        known: relative path -> (text, black's output for it), formatted ahead (scaffold.prefetch);
            used only for a file whose text is exactly that input.
    """
    changed = []
    known = known or {}
    for path in sorted(dest.rglob("*.py")):
        if ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(dest).as_posix()
        ahead = known.get(rel)
        formatted = ahead[1] if ahead and ahead[0] == text else format_python(text, rel)
        if formatted != text:
            path.write_text(formatted, encoding="utf-8")
            changed.append(str(path.relative_to(dest)))
    return changed


def render_project(
    answers: Mapping[str, Any], dest: Path, *, overwrite: bool = False, git: bool = True
) -> RenderedProject:
    """Render the template into `dest` with copier, format it, and optionally commit it.

    Args:
        answers: A complete, validated answer set.
        dest: Destination folder (created if missing).
        overwrite: Allow replacing files in a non-empty `dest`.
        git: `git init` and commit the fresh project (needed by `scaffold update`).
    """
    from scaffold.prefetch import BlackAhead

    ahead = BlackAhead(answers)  # black formats in a worker while copier imports and renders
    try:
        _copy(answers, dest, overwrite)
        known = ahead.result()
    finally:
        ahead.close()
    format_tree(dest, known)
    files = tuple(
        sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts)
    )
    committed = git and commit_all(dest, "Generate project with scaffold")
    return RenderedProject(dest=dest, answers=dict(answers), files=files, committed=committed)


def _copy(answers: Mapping[str, Any], dest: Path, overwrite: bool) -> None:
    import copier

    from scaffold.versioning import copier_source

    with copier_source() as (src_path, vcs_ref):
        copier.run_copy(
            src_path,
            str(dest),
            data=dict(answers),
            defaults=True,
            overwrite=overwrite,
            quiet=True,
            unsafe=False,
            vcs_ref=vcs_ref,
        )


def commit_all(dest: Path, message: str) -> bool:
    """`git init` (if needed) and commit everything, with an explicit identity.

    Returns:
        False when git is not installed (the project is still written).
    """
    identity = ["-c", "user.name=scaffold", "-c", "user.email=scaffold@localhost", "-c", "commit.gpgsign=false"]
    try:
        if not (dest / ".git").exists():
            subprocess.run(["git", "init", "-q", "-b", "main"], cwd=dest, check=True, capture_output=True)
        subprocess.run(["git", "add", "-A"], cwd=dest, check=True, capture_output=True)
        subprocess.run(["git", *identity, "commit", "-q", "-m", message], cwd=dest, check=True, capture_output=True)
    except FileNotFoundError:
        return False
    return True
