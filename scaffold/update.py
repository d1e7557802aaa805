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
* a template file the project renamed or deleted, which this update would change, is reported
  and the update refused (copier would otherwise drop the change silently);
* data.py and model.py are the owner's (copier keeps them); a data.py still exactly as its version
  rendered it is replaced by the target's render, and a new `data` answer is refused once
  data.py is edited (`check_data_switch`);
* only files the update *added* (wholly the template's) are black-formatted; files holding the
  owner's lines are never reformatted (the template's own output is already black-stable);
* nothing is committed, and every git command scaffold runs or prints is limited to the project's
  folder (it may sit inside a larger repository): see `undo_command` and `keep_command`.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaffold.git import run_git
from scaffold.options import (
    AnswerError,
    Asker,
    Question,
    load_questions,
    parse_assignments,
    read_yaml_mapping,
    resolve_answers,
)
from scaffold.versioning import TEMPLATE_URL, bundled_versions, copier_source, resolve_bundle

ANSWERS_FILE = ".copier-answers.yml"


def _git_c(dest: Path) -> str:
    """`git` or `git -C DEST`: the prefix for a command the user runs from where they are."""
    return "git" if dest == Path(".") else f"git -C {shlex.quote(str(dest))}"


def undo_command(dest: Path) -> str:
    """The shell line that undoes an update of `dest`, touching nothing outside it.

    `restore --source=HEAD --staged --worktree -- .` puts back every committed file of the folder,
    conflicted ones included, and drops from the index what the update added; `clean -fd -- .`
    removes the files it added. The project was clean before (update refuses a dirty folder), so
    nothing of the owner's is lost, and the rest of a larger repository is never touched.
    """
    git = _git_c(dest)
    return f"{git} restore --source=HEAD --staged --worktree -- . && {git} clean -fd -- ."


def review_command(dest: Path) -> str:
    """The shell line that shows what an update of `dest` changed, and nothing else."""
    git = _git_c(dest)
    return f"{git} status -- . && {git} diff HEAD -- ."


def keep_command(dest: Path, version: str) -> str:
    """The shell line that commits an update: only the project's folder is added and committed."""
    git = _git_c(dest)
    message = shlex.quote(f"Update to scaffold template {version}")
    return f"{git} add -A -- . && {git} commit -m {message} -- ."


@dataclass(frozen=True)
class LayoutChange:
    """A template version that moved code between files, so an owner's edits need moving too.

    Attributes:
        version: The template version that made the change.
        moved_from: The file the code left (conflicted when the owner had edited that code).
        moved_to: Each new file and what it defines (the entry point the loop calls).
        doc: Where docs/updating.md walks through the move.
        what: The code that moved, as the printed line names it.
        owner_files: The new files are the owner's from then on (`_skip_if_exists`), rather
            than the template's.
    """

    version: str
    moved_from: str
    moved_to: Mapping[str, str]
    doc: str
    what: str = "the data and model code"
    owner_files: bool = True

    def note(self, conflicts: list[str], kept: tuple[str, ...] = ()) -> str:
        """One line telling the owner what the change means for their project and what to do."""
        kept = tuple(rel for rel in kept if rel in self.moved_to)
        targets = " and ".join(f"{rel} ({entry})" for rel, entry in self.moved_to.items())
        head = f"template {self.version} moved {self.what} out of {self.moved_from} into {targets}"
        if self.moved_from in conflicts:
            text = (
                f"{head}: your edits to that code are kept in {self.moved_from} between "
                "'<<<<<<< before updating' and '=======': move them into "
                f"{'those files' if len(self.moved_to) > 1 else 'that file'}, then keep "
                "the template's side of those hunks"
            )
        elif self.owner_files:
            text = f"{head}, which are yours from now on (update never rewrites them)"
        else:
            text = f"{head}; add new settings there"
        clashes = [rel for rel in self.moved_to if rel in conflicts and not self.owner_files]
        if clashes:  # the project had a module of that name: its text is the owner's side
            text += (
                f"; your own {', '.join(clashes)} is kept on the '<<<<<<< before updating' side "
                "of its hunk: give your module another name, since train.py imports the "
                "template's"
            )
        if kept:
            text += (
                f"; your own {', '.join(kept)} {'was' if len(kept) == 1 else 'were'} kept as "
                f"{'it was' if len(kept) == 1 else 'they were'}, so add the entry point to "
                f"{'it' if len(kept) == 1 else 'them'}"
            )
        return f"{text}: see {self.doc}"


# The layout changes of the template's history, oldest first.
LAYOUT_CHANGES = (
    LayoutChange(
        version="0.3.0",
        moved_from="train.py",
        moved_to={"data.py": "build_datasets(cfg)", "model.py": "build_model(cfg, info)"},
        doc="docs/updating.md#from-020-to-030-your-model-and-data-move-out-of-trainpy",
    ),
    LayoutChange(
        version="0.4.0",
        moved_from="train.py",
        moved_to={"config.py": "class Config"},
        doc="docs/updating.md#from-030-to-040-config-moves-to-configpy",
        what="Config and its flag parsing",
        owner_files=False,
    ),
)


def crossed_layout_changes(old: str, new: str) -> list[LayoutChange]:
    """The entries of LAYOUT_CHANGES an update from `old` to `new` crosses."""
    from packaging.version import InvalidVersion, Version

    try:
        low, high = Version(old), Version(new)
    except InvalidVersion:
        return []
    return [change for change in LAYOUT_CHANGES if low < Version(change.version) <= high]


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
    # Files the target version hands to the user (`_skip_if_exists`) that the project already has
    # as its own (not written by its version): copier keeps them as they are.
    kept_user_files: tuple[str, ...] = ()
    # Owner files the update writes itself, since copier keeps them: a data.py exactly as its
    # version rendered it, replaced by the target's render (see check_data_switch).
    rewrites: Mapping[str, str] = field(default_factory=dict)

    @property
    def layout_changes(self) -> list[LayoutChange]:
        """The layout changes this update crosses (old version < change <= new version)."""
        return crossed_layout_changes(self.old_version, self.new_version)

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
    proc = run_git(["-c", "core.quotepath=off", *args], dest, check=False)
    if check and proc.returncode != 0:
        reason = " ".join(proc.stderr.decode(errors="replace").split())
        raise UpdateError(f"git {args[0]} failed in {dest}: {reason}")
    return proc.stdout.decode("utf-8", errors="replace")


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


def find_project(start: Path) -> Path:
    """The project folder holding `start`: the nearest folder at or above it with an answers file.

    Like git looking for `.git`, so `scaffold update` works from `tests/`. The search stops at the
    top of the git work tree (a folder holding `.git`), so a project is never found outside the
    repository `start` is in.

    Raises:
        UpdateError: `start` is not a folder, or no answers file is found.
    """
    if not start.is_dir():
        raise UpdateError(f"{start} is not a folder")
    names = answers_file_names()
    here = start
    for folder in [start.absolute(), *start.absolute().parents]:
        if any((folder / n).is_file() for n in names):
            return here if folder == start.absolute() else _shortest(folder)
        if (folder / ".git").exists():
            break
    raise UpdateError(
        f"{start} has no {names[0]} (nor a folder above it): it was not made by `scaffold new` or "
        "`copier copy`, so there is nothing to update"
    )


def _shortest(folder: Path) -> Path:
    """`folder` relative to the current folder when that is shorter (for the printed commands)."""
    try:
        rel = Path(os.path.relpath(folder))
    except ValueError:  # another drive on Windows
        return folder
    return rel if len(str(rel)) < len(str(folder)) else folder


def read_recorded(dest: Path) -> tuple[str, dict[str, Any]]:
    """The project's answers file name and content (copier's `_src_path` and `_commit` included).

    Raises:
        UpdateError: no answers file, or not a small UTF-8 YAML mapping.
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
    try:
        data = read_yaml_mapping(dest / name, name)
    except ValueError as exc:
        raise UpdateError(f"{exc}; restore it with `git checkout -- {name}`") from None
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
    if run_git(["rev-parse", "--git-dir"], dest, check=False).returncode != 0:
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


class BundleReader:
    """Files of bundled template versions, read with git from one temporary bare repository.

    Use as a context manager; each version is fetched once.
    """

    def __init__(self, bundle: Path | None = None) -> None:
        self.bundle = resolve_bundle(bundle)
        self._fetched: set[str] = set()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> BundleReader:
        self._tmp = tempfile.TemporaryDirectory(prefix="scaffold-read-")
        self._git("init", "-q", "--bare", ".")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._tmp is not None
        self._tmp.cleanup()

    def _git(self, *args: str) -> bytes:
        assert self._tmp is not None, "use BundleReader as a context manager"
        # Isolated: the user's git config and variables have no say in what a bundle holds.
        proc = run_git(args, self._tmp.name, isolated=True, check=False)
        if proc.returncode != 0:
            reason = " ".join(proc.stderr.decode(errors="replace").split())
            raise UpdateError(f"cannot read the template from {self.bundle}: {reason}")
        return proc.stdout

    def _fetch(self, version: str) -> str:
        assert self._tmp is not None, "use BundleReader as a context manager"
        if version not in self._fetched:
            ref = f"refs/tags/{version}"
            self._git("fetch", "-q", str(self.bundle.resolve()), f"{ref}:{ref}")
            self._fetched.add(version)
        return self._tmp.name

    def read(self, version: str, relpath: str) -> str:
        """One file of one version."""
        self._fetch(version)
        try:
            return self._git("show", f"{version}:{relpath}").decode("utf-8")
        except UpdateError:
            raise UpdateError(f"template {version} has no {relpath}") from None

    def files(self, version: str) -> list[str]:
        """Every file path of one version's template."""
        self._fetch(version)
        out = self._git("-c", "core.quotepath=off", "ls-tree", "-r", "--name-only", version)
        return out.decode("utf-8").splitlines()

    def questions(self, version: str) -> tuple[Question, ...]:
        """The questions of one version's copier.yml."""
        return _parse_questions(self.read(version, "copier.yml"))

    def settings(self, version: str) -> dict[str, Any]:
        """The `_`-prefixed settings of one version's copier.yml (`_exclude`, `_skip_if_exists`...)."""
        settings = yaml.safe_load(self.read(version, "copier.yml")) or {}
        return {k: v for k, v in settings.items() if str(k).startswith("_")}

    def owned(self, version: str, answers: Mapping[str, Any] | None = None) -> list[str]:
        """The project files that version writes (`scaffold.render.owned_paths`), for `answers`
        when given (a templated `_exclude` keeps some files to some answers: `for_answers`)."""
        from scaffold.render import for_answers, owned_paths

        settings = self.settings(version)
        paths = owned_paths(self.files(version), settings)
        return for_answers(paths, answers, settings) if answers is not None else paths


def _parse_questions(copier_yml: str) -> tuple[Question, ...]:
    with tempfile.TemporaryDirectory(prefix="scaffold-questions-") as tmp:
        path = Path(tmp) / "copier.yml"
        path.write_text(copier_yml, encoding="utf-8")
        return load_questions.__wrapped__(path)  # not cached: the temporary path is reused


def read_bundled_file(version: str, relpath: str, bundle: Path | None = None) -> str:
    """One file of one template version, read from the bundle."""
    with BundleReader(bundle) as reader:
        return reader.read(version, relpath)


def target_questions(version: str, bundle: Path | None = None) -> tuple[Question, ...]:
    """The questions of a bundled template version's copier.yml."""
    with BundleReader(bundle) as reader:
        return reader.questions(version)


def check_recorded_answers(
    questions: tuple[Question, ...], last: Mapping[str, Any], answers_file: str
) -> None:
    """The recorded answers must be valid for the version that wrote them.

    copier re-renders that version with them (the base of the 3-way merge), and would fail
    half-way with a traceback on a hand-edited `accum_steps: 0`.

    Raises:
        UpdateError: naming the file, the key and the way out.
    """
    known = {q.name for q in questions}
    try:
        resolve_answers({k: v for k, v in last.items() if k in known}, questions=questions)
    except AnswerError as exc:
        raise UpdateError(
            f"{answers_file} records an answer its template version cannot use ({exc}); "
            f"it was edited by hand: restore it (`git checkout -- {answers_file}`) or fix the "
            "value and commit, then change answers with `scaffold update --set KEY=VALUE`"
        ) from None


def _renders(
    bundle: Path | None, jobs: list[tuple[str, Mapping[str, Any]]], files: list[str]
) -> list[dict[str, str | None]]:
    """Text of `files` in renders of (version, answers), each by copier into a temporary folder."""
    import copier

    out = []
    for version, answers in jobs:
        with tempfile.TemporaryDirectory(prefix="scaffold-render-") as tmp:
            with copier_source(bundle, version) as (src, ref):
                copier.run_copy(
                    src,
                    tmp,
                    data=dict(answers),
                    defaults=True,
                    quiet=True,
                    unsafe=False,
                    vcs_ref=ref,
                )
            out.append(
                {
                    rel: (
                        Path(tmp, rel).read_text(encoding="utf-8")
                        if Path(tmp, rel).is_file()
                        else None
                    )
                    for rel in files
                }
            )
    return out


def renamed_to(dest: Path, missing: list[str]) -> dict[str, str]:
    """Where git saw each missing file go (committed renames inside the project folder)."""
    log = _git(
        dest,
        "log",
        "-M",
        "--diff-filter=R",
        "--name-status",
        "--relative",
        "--format=",
        "--",
        ".",
        check=False,
    )
    moves: dict[str, str] = {}
    for line in reversed(log.splitlines()):  # oldest first, so a chain ends at the newest name
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].startswith("R"):
            old, new = parts[1], parts[2]
            for start, now in list(moves.items()):
                if now == old:
                    moves[start] = new
            moves.setdefault(old, new)
    return {rel: moves[rel] for rel in missing if rel in moves and (dest / moves[rel]).exists()}


def check_missing_files(
    dest: Path,
    owned: list[str],
    jobs: tuple[tuple[str, Mapping[str, Any]], tuple[str, Mapping[str, Any]]],
    bundle: Path | None,
    answers_file: str,
) -> None:
    """Refuse an update that would change a template file the project renamed or deleted.

    copier replays the owner's changes on top of the new render, deleting included: a renamed or
    deleted file stays so, and the template's change to it is dropped without a word, while the
    answers file claims it was applied. A missing file the update leaves unchanged is fine.

    Raises:
        UpdateError: listing each affected file (and its new name, when git saw a rename).
    """
    missing = [rel for rel in owned if rel != answers_file and not (dest / rel).exists()]
    if not missing:
        return
    before, after = _renders(bundle, list(jobs), missing)
    affected = [
        rel for rel in missing if after.get(rel) is not None and before.get(rel) != after.get(rel)
    ]
    if not affected:
        return
    moves = renamed_to(dest, affected)
    described = ", ".join(
        f"{rel} (renamed to {moves[rel]})" if rel in moves else f"{rel} (deleted)"
        for rel in affected
    )
    git = _git_c(dest)
    hints = []
    for rel in affected[:3]:
        if rel in moves:
            hints.append(f"{git} mv {shlex.quote(moves[rel])} {shlex.quote(rel)}")
        else:
            gone = _git(dest, "rev-list", "-n", "1", "HEAD", "--", rel, check=False).strip()
            hints.append(
                f"{git} checkout {gone[:12]}~1 -- {shlex.quote(rel)}" if gone else f"restore {rel}"
            )
    restore = "; ".join(hints)
    raise UpdateError(
        f"this update changes {described}, which the project no longer has, so the change would be "
        f"lost: put {'it' if len(affected) == 1 else 'them'} back under the template's name "
        f"(e.g. {restore}), commit, update, then rename or delete again"
    )


# The answer data.py and model.py are rendered from. Those files are the user's (copier.yml's
# _skip_if_exists): a new task would leave them out of step with train.py, so it is refused.
USER_CODE_ANSWERS = ("task",)
# The data answer picks the default dataset. data.py holds every loader of its task, so a new
# value is taken while data.py is the template's own (rewritten from the target version when that
# differs), and refused once the owner has edited it: their build_datasets may not read the new
# default (see check_data_switch).
DATA_ANSWER = "data"
DATA_FILE = "data.py"
# The train.py flags that reach each dataset without any update (every render has its task's).
DATA_FLAGS = {
    "spiral": '--csv-path ""',
    "csv": "--csv-path FILE --label-column NAME",
    "shapes": '--image-folder ""',
    "folder": "--image-folder DIR",
    "synthetic": '--text-path ""',
    "text_file": "--text-path FILE",
}


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
    for key in USER_CODE_ANSWERS:
        if key in given and key in last and given[key] != last[key]:
            raise AnswerError(
                key,
                f"data.py and model.py are your code, written for {key}={last[key]}, and an update "
                f"never rewrites them; for {key}={given[key]} start a new project (scaffold new "
                f"DEST --set {key}={given[key]}) and bring your code over",
            )
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


def check_data_switch(
    dest: Path,
    jobs: tuple[tuple[str, Mapping[str, Any]], tuple[str, Mapping[str, Any]]],
    bundle: Path | None,
    refuse_edited: bool = True,
) -> dict[str, str]:
    """What an update does to data.py: the text to write (nothing if it stays as it is).

    `jobs` are (version, answers) before and after the update. data.py is the owner's file, which
    copier never rewrites; while it is exactly what its version rendered, the target's render is
    written in its place, so the project is what `scaffold new` would give (a new `data` answer,
    or a template version whose data.py reads new flags). An edited data.py is the owner's code:
    a new `data` answer is refused (`refuse_edited`), a new version keeps it as it is.

    Raises:
        UpdateError: data.py was edited (or deleted) and `refuse_edited`; the line says how to
            go on.
    """
    from scaffold.render import RenderError, format_python

    (_, last), (_, answers) = jobs
    before, after = _renders(bundle, list(jobs), [DATA_FILE])
    rendered, target = before[DATA_FILE], after[DATA_FILE]
    path = dest / DATA_FILE
    mine = path.read_text(encoding="utf-8") if path.is_file() else None

    def formatted(text: str | None) -> str | None:
        try:
            return format_python(text, DATA_FILE) if text is not None else None
        except RenderError:
            return text

    if mine is None or rendered is None or mine not in (rendered, formatted(rendered)):
        if not refuse_edited:
            return {}
        old, new = last.get(DATA_ANSWER), answers.get(DATA_ANSWER)
        state = "was deleted" if mine is None else "has your edits"
        raise UpdateError(
            f"{DATA_FILE} {state}, so --set {DATA_ANSWER}={new} cannot switch it from "
            f"{DATA_ANSWER}={old}: train on the other data with train.py's flags instead "
            f"(python train.py {DATA_FLAGS.get(str(new), '--help')}), or restore the "
            f"template's {DATA_FILE} (git log -- {DATA_FILE}), update, and put your edits back"
        )
    new_text = formatted(target)
    return {} if new_text is None or new_text == mine else {DATA_FILE: new_text}


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
    dest = find_project(dest)
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
    with BundleReader(bundle) as reader:
        check_recorded_answers(reader.questions(old), last, answers_file)
        answers = resolve_update_answers(reader.questions(target), last, given, ask)
        owned_before = reader.owned(old, last)
        # Files the target hands to the owner (copier keeps them when they exist): those the
        # project already has but its version did not write are the owner's own, kept as is.
        skipped = reader.settings(target).get("_skip_if_exists") or []
        kept = tuple(
            rel
            for rel in skipped
            if isinstance(rel, str) and rel not in owned_before and (dest / rel).is_file()
        )
    changed = {
        key: (last.get(key), answers.get(key))
        for key in dict.fromkeys([*last, *answers])
        if last.get(key) != answers.get(key)
    }
    if old != target or changed:
        check_missing_files(
            dest, owned_before, ((old, last), (target, answers)), bundle, answers_file
        )
    rewrites: dict[str, str] = {}
    switch = DATA_ANSWER in given and DATA_ANSWER in changed
    if DATA_FILE in owned_before and (switch or old != target):
        rewrites = check_data_switch(
            dest, ((old, last), (target, answers)), bundle, refuse_edited=switch
        )
    return UpdatePlan(
        dest=dest,
        old_version=old,
        new_version=target,
        answers=answers,
        changed_answers=changed,
        answers_file=answers_file,
        kept_user_files=kept,
        rewrites=rewrites,
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
            f"copier could not update: {exc}; undo any partial change with `{undo_command(dest)}`"
        ) from None
    for rel, text in plan.rewrites.items():  # checked unedited by plan_update
        (dest / rel).write_text(text, encoding="utf-8")
    conflicts = sorted(
        set(
            _git(
                dest, "diff", "--name-only", "--relative", "--diff-filter=U", "--", "."
            ).splitlines()
        )
    )
    untracked = _git(dest, "ls-files", "--others", "--exclude-standard", "--", ".").splitlines()
    changed = sorted(
        set(_git(dest, "diff", "--name-only", "--relative", "HEAD", "--", ".").splitlines())
        | set(untracked)
    )
    committed = set(_git(dest, "ls-tree", "-r", "--name-only", "HEAD", "--", ".").splitlines())
    added = [rel for rel in changed if rel not in committed]  # new in the project: not in HEAD
    # Only files the update added are wholly the template's; the template's output is already
    # black-stable, so formatting them is a safety net. A file with the owner's lines in it is
    # never reformatted: that would rewrite their code without asking.
    formatted = []
    for rel in sorted(added):
        path = dest / rel
        if not rel.endswith(".py") or rel in conflicts or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            new_text = format_python(text, rel)
        except RenderError:  # not valid Python: leave it as the template wrote it
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
    "find_project",
    "LAYOUT_CHANGES",
    "LayoutChange",
    "crossed_layout_changes",
    "keep_command",
    "review_command",
    "undo_command",
    "AnswerError",
    "UpdateError",
    "UpdatePlan",
    "UpdateResult",
    "apply_update",
    "plan_update",
    "resolve_update_answers",
    "update_project",
]
