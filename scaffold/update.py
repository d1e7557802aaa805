"""`scaffold update`: bring a project to the installed template version and apply changed answers.

copier does the work (`run_update`: it renders the recorded version with the recorded answers,
diffs that against the project to find the owner's edits, renders the target version with the new
answers, and replays the edits on top, 3-way merging where they overlap). This module adds what
scaffold promises around it:

* every refusal happens before anything is written: no answers file, no recorded version, a project
  from another template, a version newer than this scaffold or unknown to it, not a git repository,
  a dirty tree, or a bad answer (checked against the *target* version's questions);
* conflicts are written inline (`conflict="inline"`; a `.rej` file would silently drop the user's
  side) and reported;
* the template is read from the bundle in the package (`scaffold.versioning`), offline;
* Python files the update changed are black-formatted, like a fresh render;
* nothing is committed: the user reviews `git diff` and commits, or undoes with
  `git reset --hard && git clean -fd`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaffold.options import (
    AnswerError,
    Asker,
    Question,
    load_questions,
    parse_assignments,
    resolve_answers,
)
from scaffold.versioning import TEMPLATE_URL, bundled_versions, copier_source, resolve_bundle

ANSWERS_FILE = ".copier-answers.yml"
UNDO_COMMAND = "git reset --hard && git clean -fd"


class UpdateError(ValueError):
    """A reason to refuse the update; `str(err)` is one readable line. Nothing was written."""


@dataclass(frozen=True)
class UpdatePlan:
    """What an update will do, decided before anything is written."""

    dest: Path
    old_version: str
    new_version: str
    answers: dict[str, Any]
    changed_answers: dict[str, tuple[Any, Any]]
    answers_file: str = ANSWERS_FILE

    @property
    def is_noop(self) -> bool:
        """Same version, same answers: copier would rewrite nothing."""
        return self.old_version == self.new_version and not self.changed_answers


@dataclass(frozen=True)
class UpdateResult:
    """The outcome of `update_project`. Paths are relative to `dest`."""

    plan: UpdatePlan
    changed_files: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    formatted: list[str] = field(default_factory=list)


def _git(dest: Path, *args: str, check: bool = True) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
    }
    proc = subprocess.run(
        ["git", "-c", "core.quotepath=off", *args],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise UpdateError(f"git {args[0]} failed in {dest}: {' '.join(proc.stderr.split())}")
    return proc.stdout


def answers_file_names() -> list[str]:
    """Where projects keep their answers: the template's `_answers_file`, then copier's default."""
    from scaffold.paths import template_dir

    names = []
    try:
        settings = yaml.safe_load((template_dir() / "copier.yml").read_text(encoding="utf-8"))
        if isinstance(settings, dict) and isinstance(settings.get("_answers_file"), str):
            names.append(settings["_answers_file"])
    except (OSError, yaml.YAMLError):
        pass
    return list(dict.fromkeys([*names, ANSWERS_FILE]))


def read_recorded(dest: Path) -> tuple[str, dict[str, Any]]:
    """The project's answers file name and content (copier's `_src_path` and `_commit` included).

    Raises:
        UpdateError: no answers file, or not a YAML mapping.
    """
    if not dest.is_dir():
        raise UpdateError(f"{dest} is not a folder")
    names = answers_file_names()
    name = next((n for n in names if (dest / n).is_file()), None)
    if name is None:
        raise UpdateError(
            f"{dest} has no {names[0]}: it was not made by `scaffold new` or `copier copy`, "
            "so there is nothing to update"
        )
    path = dest / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UpdateError(f"cannot read {path}: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise UpdateError(f"{path} is not a mapping of question: answer")
    return name, data


def check_version(
    recorded: Mapping[str, Any], versions: list[str], target: str, answers_file: str = ANSWERS_FILE
) -> str:
    """The project's template version, after checking that this scaffold can update from it.

    Raises:
        UpdateError: another template, no recorded version, newer than `target`, or unknown.
    """
    from packaging.version import InvalidVersion, Version

    src = recorded.get("_src_path")
    commit = recorded.get("_commit")
    if src != TEMPLATE_URL:
        raise UpdateError(
            f"{answers_file} records the template {src!r}, not scaffold's {TEMPLATE_URL}: "
            "update it with plain `copier update` (see docs/updating.md)"
        )
    if not commit:
        raise UpdateError(
            f"{answers_file} records no template version (_commit); see docs/updating.md"
        )
    commit = str(commit)
    try:
        newer = Version(commit) > Version(target)
    except InvalidVersion:
        newer = False
    if newer:
        raise UpdateError(
            f"the project comes from template {commit}, newer than this scaffold's {target}: upgrade scaffold first"
        )
    if commit not in versions:
        raise UpdateError(
            f"the project's template version {commit!r} is unknown to this scaffold (it knows {', '.join(versions)})"
        )
    return commit


def check_git(dest: Path) -> None:
    """Refuse a project outside git, or one with uncommitted or untracked changes."""
    if (
        subprocess.run(
            ["git", "rev-parse", "--git-dir"], cwd=dest, capture_output=True, check=False
        ).returncode
        != 0
    ):
        raise UpdateError(
            f"{dest} is not in a git repository; update needs git to merge and to undo "
            "(git init && git add -A && git commit -m init)"
        )
    dirty = _git(dest, "status", "--porcelain", "--untracked-files=all", "--", ".").splitlines()
    if dirty:
        raise UpdateError(
            f"{dest} has uncommitted changes ({len(dirty)} path{'s' if len(dirty) != 1 else ''}): "
            "commit or stash them first, so the update can be reviewed and undone"
        )


def read_bundled_file(version: str, relpath: str, bundle: Path | None = None) -> str:
    """One file of one template version, read from the bundle."""
    bundle = resolve_bundle(bundle)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    with tempfile.TemporaryDirectory(prefix="scaffold-read-") as tmp:
        for args in (
            ["init", "-q", "--bare", tmp],
            ["-C", tmp, "fetch", "-q", str(bundle), f"refs/tags/{version}:refs/tags/{version}"],
        ):
            proc = subprocess.run(
                ["git", *args], env=env, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                raise UpdateError(
                    f"cannot read template {version} from {bundle}: {' '.join(proc.stderr.split())}"
                )
        proc = subprocess.run(
            ["git", "-C", tmp, "show", f"{version}:{relpath}"],
            env=env,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise UpdateError(f"template {version} has no {relpath}")
        return proc.stdout.decode("utf-8")


def target_questions(version: str, bundle: Path | None = None) -> tuple[Question, ...]:
    """The questions of a bundled template version's copier.yml."""
    text = read_bundled_file(version, "copier.yml", bundle)
    with tempfile.TemporaryDirectory(prefix="scaffold-questions-") as tmp:
        path = Path(tmp) / "copier.yml"
        path.write_text(text, encoding="utf-8")
        return load_questions.__wrapped__(path)  # not cached: the temporary path is reused


def resolve_update_answers(
    questions: tuple[Question, ...],
    last: Mapping[str, Any],
    given: Mapping[str, Any],
    ask: Asker | None = None,
) -> dict[str, Any]:
    """The complete answer set after an update.

    `given` (from --set) is strict: an unknown key, a bad value or a value for a question that does
    not apply is an error. The recorded answers are kept where they still apply and validate;
    otherwise (a question removed, made inapplicable or invalid by a --set change) they are dropped
    and the question takes its default. Questions never answered (new in this version, or newly
    applicable after a change) go to `ask` when given, else take their default.

    Raises:
        AnswerError: naming the --set key at fault.
    """
    known = {q.name for q in questions}
    merged = {k: v for k, v in last.items() if k in known and not k.startswith("_")}
    merged.update(given)

    def ask_once(question: Question, default: Any, context: Mapping[str, Any]) -> Any:
        assert ask is not None
        merged[question.name] = value = ask(question, default, context)  # not asked again on retry
        return value

    while True:
        try:
            return resolve_answers(
                merged,
                ask=ask_once if ask is not None else None,
                should_ask=lambda q: q.name not in merged and q.name not in last,
                questions=questions,
            )
        except AnswerError as exc:
            if exc.key in given or exc.key not in merged:
                raise
            del merged[exc.key]


def plan_update(
    dest: Path,
    assignments: list[str] | Mapping[str, Any] = (),
    *,
    ask: Asker | None = None,
    bundle: Path | None = None,
    version: str | None = None,
) -> UpdatePlan:
    """Check everything and decide the target version and answers; writes nothing.

    Raises:
        UpdateError, AnswerError: a one-line reason to refuse.
    """
    given = (
        dict(assignments)
        if isinstance(assignments, Mapping)
        else parse_assignments(list(assignments))
    )
    answers_file, recorded = read_recorded(dest)
    versions = bundled_versions(bundle)
    target = version or versions[-1]
    if target not in versions:
        raise UpdateError(
            f"template version {target!r} is not in this scaffold (it knows {', '.join(versions)})"
        )
    old = check_version(recorded, versions, target, answers_file)
    check_git(dest)
    last = {k: v for k, v in recorded.items() if not str(k).startswith("_")}
    answers = resolve_update_answers(target_questions(target, bundle), last, given, ask)
    changed = {
        key: (last.get(key), answers.get(key))
        for key in dict.fromkeys([*last, *answers])
        if last.get(key) != answers.get(key)
    }
    return UpdatePlan(
        dest=dest,
        old_version=old,
        new_version=target,
        answers=answers,
        changed_answers=changed,
        answers_file=answers_file,
    )


def apply_update(plan: UpdatePlan, *, bundle: Path | None = None) -> UpdateResult:
    """Run copier's update for a plan; conflicts are left inline and listed in the result."""
    if plan.is_noop:
        return UpdateResult(plan=plan)
    import copier
    from copier.errors import CopierError

    from scaffold.render import RenderError, format_python

    dest = plan.dest
    try:
        with copier_source(bundle, plan.new_version) as (_, vcs_ref):
            copier.run_update(
                str(dest),
                data=dict(plan.answers),
                defaults=True,
                overwrite=True,
                conflict="inline",
                unsafe=False,
                quiet=True,
                skip_answered=True,
                vcs_ref=vcs_ref,
                answers_file=plan.answers_file,
            )
    except CopierError as exc:
        raise UpdateError(
            f"copier could not update: {exc}; undo any partial change with `{UNDO_COMMAND}`"
        ) from None
    conflicts = sorted(
        set(_git(dest, "diff", "--name-only", "--relative", "--diff-filter=U").splitlines())
    )
    changed = sorted(
        set(_git(dest, "diff", "--name-only", "--relative", "HEAD").splitlines())
        | set(_git(dest, "ls-files", "--others", "--exclude-standard").splitlines())
    )
    formatted = []
    for rel in changed:
        path = dest / rel
        if not rel.endswith(".py") or rel in conflicts or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            new_text = format_python(text, rel)
        except RenderError:  # the owner's code does not parse: leave it to them
            continue
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
            formatted.append(rel)
    return UpdateResult(plan=plan, changed_files=changed, conflicts=conflicts, formatted=formatted)


def update_project(
    dest: Path,
    assignments: list[str] | Mapping[str, Any] = (),
    *,
    ask: Asker | None = None,
    bundle: Path | None = None,
    version: str | None = None,
) -> UpdateResult:
    """Update `dest` to template `version` (default the newest bundled), with changed answers.

    Args:
        dest: The project folder (a git work tree, clean).
        assignments: `KEY=VALUE` strings (from --set) or a mapping of new answers.
        ask: Asks the questions the project has no answer for (None: their defaults).
        bundle: The template bundle (tests pass their own).
        version: Target template version.

    Raises:
        UpdateError, AnswerError: refused; nothing was written.
    """
    plan = plan_update(dest, assignments, ask=ask, bundle=bundle, version=version)
    return apply_update(plan, bundle=bundle)


__all__ = [
    "UNDO_COMMAND",
    "AnswerError",
    "UpdateError",
    "UpdatePlan",
    "UpdateResult",
    "apply_update",
    "plan_update",
    "resolve_update_answers",
    "update_project",
]
