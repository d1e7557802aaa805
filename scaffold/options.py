"""The option model: the questions of copier.yml, their defaults and their validation.

copier.yml is the single source of truth. This module reads it and evaluates its Jinja `default`,
`when` and `validator` expressions with the same filters copier uses, so `scaffold new` can check
every answer *before* anything is written, and the prompts, flags and `scaffold options` table all
come from the same list. It never imports torch or copier (the CLI must start fast).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

from scaffold.paths import template_dir

_TRUE = {"y", "yes", "true", "t", "on", "1"}
_FALSE = {"n", "no", "false", "f", "off", "0"}
_TYPES = {"str", "int", "float", "bool"}


class AnswerError(ValueError):
    """An answer the user can fix. `str(err)` is one readable line naming the key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Question:
    """One question of copier.yml.

    Attributes:
        name: The answer key (part of the contract; see DESIGN.md).
        type: One of str, int, float, bool.
        help: One-line help, shown in prompts, `--help` and `scaffold options`.
        default: The raw default: a value, or a Jinja string that reads earlier answers.
        choices: Allowed values, or None for free input.
        when: Raw Jinja condition; the question is skipped (default used) when it is false.
        validator: Raw Jinja template that renders to an error message, or to nothing when valid.
        headline: Asked first, before "customise more?".
        group: The help panel it is listed in ("headline" for headline questions).
    """

    name: str
    type: str
    help: str
    default: Any
    choices: tuple[Any, ...] | None = None
    when: Any = True
    validator: str | None = None
    headline: bool = False
    group: str = "headline"

    @property
    def default_is_dynamic(self) -> bool:
        """Whether the default depends on earlier answers."""
        return isinstance(self.default, str) and "{{" in self.default

    @property
    def is_conditional(self) -> bool:
        """Whether the question is only asked for some answers to earlier questions."""
        return self.when is not True


@functools.lru_cache(maxsize=4)
def load_questions(path: Path | None = None) -> tuple[Question, ...]:
    """Read the questions of copier.yml, in the order copier asks them.

    Args:
        path: The copier.yml to read; defaults to the packaged template's.

    Returns:
        The questions (settings such as `_envops` are skipped).
    """
    path = path or template_dir() / "copier.yml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster, same result
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe loader
    questions = []
    for name, spec in raw.items():
        if name.startswith("_"):
            continue
        qtype = spec.get("type", "str")
        if qtype not in _TYPES:
            raise ValueError(f"copier.yml: question {name!r} has unsupported type {qtype!r}")
        choices = spec.get("choices")
        questions.append(
            Question(
                name=name,
                type=qtype,
                help=" ".join(str(spec.get("help", name)).split()),
                default=spec.get("default"),
                choices=tuple(choices) if choices is not None else None,
                when=spec.get("when", True),
                validator=spec.get("validator"),
                headline=bool(spec.get("headline", False)),
                group=str(spec.get("group", "headline" if spec.get("headline") else "other")),
            )
        )
    return tuple(questions)


def question_map() -> dict[str, Question]:
    """Questions by answer key."""
    return {q.name: q for q in load_questions()}


@functools.lru_cache(maxsize=1)
def _jinja_env() -> Any:
    # The same filters copier offers to copier.yml expressions (regex_search and friends), in a
    # sandbox, so a validator here behaves exactly as it does under a plain `copier copy`.
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])


@functools.lru_cache(maxsize=1024)
def _compiled(template: str) -> Any:
    # Compiling is ~30x the cost of rendering; the suite resolves thousands of answer sets.
    return _jinja_env().from_string(template)


def _render(template: str, context: Mapping[str, Any]) -> str:
    return _compiled(template).render(**context)


def cast_value(question: Question, raw: Any) -> Any:
    """Convert a raw answer (a string from a prompt or flag, or a YAML value) to the question's type.

    Raises:
        AnswerError: if it cannot be converted or is not one of the choices.
    """
    name, qtype = question.name, question.type
    if isinstance(raw, str) and not raw.isprintable():  # "4\n" is not 4: refuse, do not strip
        raise AnswerError(name, f"{_short(raw)} must be printable text on one line")
    if isinstance(raw, (bytes, set, frozenset, tuple)) or (
        qtype != "str" and isinstance(raw, (dict, list))
    ):
        raise AnswerError(name, f"expected one {qtype} value, got a {type(raw).__name__}")
    try:
        if qtype == "bool":
            if isinstance(raw, bool):
                value: Any = raw
            elif str(raw).strip().lower() in _TRUE:
                value = True
            elif str(raw).strip().lower() in _FALSE:
                value = False
            else:
                raise ValueError
        elif qtype == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            value = int(str(raw).strip()) if not isinstance(raw, (int, float)) else int(raw)
        elif qtype == "float":
            if isinstance(raw, bool):
                raise ValueError
            value = float(str(raw).strip()) if not isinstance(raw, (int, float)) else float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
        else:
            if isinstance(raw, (dict, list)):
                raise ValueError
            value = "" if raw is None else str(raw)
    except (TypeError, ValueError, OverflowError):
        raise AnswerError(name, f"{_short(raw)} is not a valid {qtype}") from None
    if question.choices is not None and value not in question.choices:
        options = ", ".join(str(c) for c in question.choices)
        raise AnswerError(name, f"{_short(raw)} is not one of {options}")
    if qtype == "str" and not value.isprintable():
        raise AnswerError(name, "must be printable text on one line")
    return value


def _short(raw: Any) -> str:
    try:
        text = repr(raw) if isinstance(raw, str) else str(raw)
    except ValueError:  # an int past Python's digit limit for str()
        return "a number too large to print"
    if len(text) > 40:
        text = text[:37] + "..."
    return text.encode("ascii", "backslashreplace").decode() if not text.isprintable() else text


def evaluate_default(question: Question, context: Mapping[str, Any]) -> Any:
    """The question's default given the earlier answers in `context`."""
    default = question.default
    if isinstance(default, str) and ("{{" in default or "{%" in default):
        default = _render(default, context)
    return cast_value(question, default)


def is_asked(question: Question, context: Mapping[str, Any]) -> bool:
    """Whether `question` applies given the earlier answers (its `when`)."""
    when = question.when
    if isinstance(when, str):
        when = _render(when, context).strip().lower() in _TRUE
    return bool(when)


def validate(question: Question, value: Any, context: Mapping[str, Any]) -> None:
    """Run the question's copier validator.

    Raises:
        AnswerError: with the validator's message.
    """
    if question.validator:
        message = " ".join(_render(question.validator, {**context, question.name: value}).split())
        if message:
            raise AnswerError(question.name, message)


def parse_answer(question: Question, raw: Any, context: Mapping[str, Any]) -> Any:
    """Cast and validate one answer against the answers before it."""
    value = cast_value(question, raw)
    validate(question, value, context)
    return value


Asker = Callable[[Question, Any, Mapping[str, Any]], Any]


def resolve_answers(
    given: Mapping[str, Any],
    ask: Asker | None = None,
    should_ask: Callable[[Question], bool] | None = None,
    questions: tuple[Question, ...] | None = None,
) -> dict[str, Any]:
    """Walk the questions in order and produce a complete, validated set of answers.

    Args:
        given: Answers fixed by the user (flags, --set, --answers), raw or typed.
        ask: Called for a question that applies and is not given: `ask(question, default,
            context)` returns a value that `parse_answer` already accepted. None means "use the
            defaults".
        should_ask: Filters which unanswered questions go to `ask` (others take the default).
        questions: The questions to walk; default the packaged template's (`scaffold update`
            passes those of the template version it updates to).

    Returns:
        Every answer that applies, in question order. Skipped questions (`when` false) are left
        out, as copier leaves them out of the answers file.

    Raises:
        AnswerError: for an unknown key, a value that does not parse or validate, or a value given
            for a question that does not apply to the other answers.
    """
    questions = load_questions() if questions is None else questions
    known = {q.name for q in questions}
    for key in given:
        if key not in known:
            close = _closest(key, known)
            hint = f" (did you mean {close}?)" if close else " (see `scaffold options`)"
            raise AnswerError(key, f"unknown question{hint}")
    context: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for question in questions:
        if not is_asked(question, context):
            if question.name in given:
                raise AnswerError(
                    question.name,
                    f"does not apply to these answers (only when {_condition(question)})",
                )
            context[question.name] = evaluate_default(question, context)
            continue
        if question.name in given:
            value = parse_answer(question, given[question.name], context)
        elif ask is not None and (should_ask is None or should_ask(question)):
            value = ask(question, evaluate_default(question, context), context)
        else:
            value = parse_answer(question, evaluate_default(question, context), context)
        context[question.name] = value
        answers[question.name] = value
    return answers


def _condition(question: Question) -> str:
    text = str(question.when)
    match = re.fullmatch(r"\s*\{\{\s*(.*?)\s*\}\}\s*", text)
    return match.group(1) if match else text


def _closest(key: str, known: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(known), n=1)
    return matches[0] if matches else None


def parse_assignments(items: list[str]) -> dict[str, str]:
    """Parse `--set KEY=VALUE` items.

    Raises:
        AnswerError: for an item without `=` or with an empty key.
    """
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise AnswerError("--set", f"expected KEY=VALUE, got {_short(item)}")
        parsed[key.strip()] = value
    return parsed


ANSWERS_FILE_MAX_BYTES = 64 * 1024  # a full answers file is under 1 KB
YAML_MAX_ALIASES = 50  # answers have no use for aliases; a few are tolerated, a bomb is not
YAML_MAX_DEPTH = 20  # answers are flat; nesting only ever comes from mistakes or attacks


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with caps on aliases and nesting, checked while composing.

    A "billion laughs" file is a few hundred bytes of aliases that expand to an exponential tree;
    a deeply nested one exhausts the recursion limit. Both are stopped at the first event past the
    cap, in microseconds, before anything is constructed.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - PyYAML hook
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > YAML_MAX_ALIASES:
                raise ComposerError(None, None, f"more than {YAML_MAX_ALIASES} aliases", mark)
        self._depth += 1
        try:
            if self._depth > YAML_MAX_DEPTH:
                raise ComposerError(None, None, f"nested deeper than {YAML_MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Read a small YAML file that must hold a mapping, refusing anything hostile in one line.

    The one reader for every answers file scaffold opens (`new --answers` and the project's
    `.copier-answers.yml` in `update`): size, encoding, aliases and nesting are capped, and every
    way it can fail becomes a ValueError whose text is one line naming the file.

    Args:
        path: The file.
        what: How the message names it (e.g. "--answers").

    Returns:
        The mapping (empty for an empty file), keys as strings.

    Raises:
        ValueError: unreadable, too large, not UTF-8, not YAML, too many aliases, too deep, or not
            a mapping.
    """
    try:
        if path.is_dir():
            raise ValueError(f"{what}: {path} is a folder, not a YAML file")
        with path.open("rb") as handle:
            raw = handle.read(ANSWERS_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > ANSWERS_FILE_MAX_BYTES:
        raise ValueError(f"{what}: {path} is larger than {ANSWERS_FILE_MAX_BYTES // 1024} KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{what}: {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise ValueError(f"{what}: {path} is a binary file, not YAML")
    try:
        data = yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        reason = getattr(exc, "problem", None)
        detail = f": {' '.join(str(reason).split())}" if reason else ""
        raise ValueError(f"{what}: {path} is not valid YAML{where}{detail}") from None
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:  # constructor limits
        reason = " ".join(str(exc).split())[:80]
        raise ValueError(f"{what}: {path} holds a value that cannot be read ({reason})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{what}: {path} must hold a mapping of question: answer")
    return {str(k): v for k, v in data.items()}


def load_answers_file(path: Path) -> dict[str, Any]:
    """Read an answers file (YAML mapping) given to `new --answers`. Copier's `_` keys are ignored.

    Raises:
        AnswerError: if the file is missing, not UTF-8 YAML, hostile, or not a mapping.
    """
    try:
        data = read_yaml_mapping(path, "--answers")
    except ValueError as exc:
        raise AnswerError("--answers", str(exc).removeprefix("--answers: ")) from None
    return {k: v for k, v in data.items() if not k.startswith("_")}


def default_answers() -> dict[str, Any]:
    """The answers `scaffold new --defaults` uses (project_name at its template default)."""
    return resolve_answers({})


@functools.lru_cache(maxsize=4)
def _all_defaults(questions: tuple[Question, ...]) -> dict[str, Any]:
    # One pass for every question (`scaffold new --help` describes them all); callers do not mutate.
    context: dict[str, Any] = {}
    for q in questions:
        context[q.name] = evaluate_default(q, context)
    return context


def describe_default(question: Question) -> str:
    """The default as a user reads it: the value under all-default answers, noting dependence."""
    value = _all_defaults(load_questions())[question.name]
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"{text} (depends on earlier answers)" if question.default_is_dynamic else text
