"""Interactive questions: help text, choices and defaults shown; a bad answer is asked again.

Choices are matched without regard to case (`BF16` is `bf16`). A question whose validator leaves
one choice only for the answers so far (scheduler_cadence after plateau or onecycle) is not asked:
its only value is shown and taken.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click
import typer

from scaffold.options import AnswerError, Question, evaluate_default, load_questions, parse_answer


T = TypeVar("T")


def interruptible(read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a click prompt, keeping Ctrl-C apart from the end of input.

    click (and typer's own copy of its prompts) turns both KeyboardInterrupt and EOFError into
    `Abort`; the caller needs to tell them apart (Ctrl-C exits 130 as everywhere else, the end of
    input is a usage error), so an Abort raised while handling a KeyboardInterrupt becomes that
    KeyboardInterrupt again.
    """
    try:
        return read(*args, **kwargs)
    except (click.exceptions.Abort, typer.Abort) as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise exc.__context__ from None
        raise


class Prompter:
    """Asks the headline questions, then "customise more?", then (if yes) the rest."""

    def __init__(self) -> None:
        self._customise: bool | None = None
        self.asked: list[str] = []  # the questions put to the user, in order

    def should_ask(self, question: Question) -> bool:
        """Headline questions are always asked; the others only after a yes to "customise more?"."""
        if question.headline:
            return True
        if self._customise is None:
            self._customise = interruptible(
                typer.confirm,
                "Customise more (optimizer, lr, model, outputs, ...)?", default=False
            )
        return self._customise

    def ask(self, question: Question, default: Any, context: Mapping[str, Any]) -> Any:
        """Prompt until the answer parses and validates; return the typed value."""
        choices = allowed_choices(question, context)
        if choices is not None and len(choices) == 1:
            typer.echo(
                f"\n{question.name}: {choices[0]} (the only value that fits the answers so far)"
            )
            return choices[0]
        self.asked.append(question.name)
        typer.echo(f"\n{question.help}")
        while True:
            if question.type == "bool":
                raw: Any = interruptible(typer.confirm, question.name, default=bool(default))
            else:
                label = question.name
                if choices:
                    label += " (" + ", ".join(str(c) for c in choices) + ")"
                raw = match_choice(
                    question, interruptible(typer.prompt, label, default=str(default))
                )
            try:
                return parse_answer(question, raw, context)
            except AnswerError as exc:
                typer.echo(f"  invalid: {exc}; try again", err=True)


def allowed_choices(question: Question, context: Mapping[str, Any]) -> list[Any] | None:
    """The choices that pass the question's validator given the earlier answers (None: free input)."""
    if question.choices is None:
        return None
    allowed = []
    for choice in question.choices:
        try:
            parse_answer(question, choice, context)
        except AnswerError:
            continue
        allowed.append(choice)
    return allowed or list(question.choices)


def match_choice(question: Question, raw: str) -> str:
    """The choice `raw` names, ignoring case and surrounding spaces (unchanged if none matches)."""
    text = raw.strip()
    for choice in question.choices or ():
        if str(choice).lower() == text.lower():
            return str(choice)
    return text


def summary_lines(answers: Mapping[str, Any], offered: Mapping[str, Any] | None = None) -> list[str]:
    """Every answer, one per line, in question order; `*` marks an answer that is not its default.

    A default is the one offered given the answers before it (lr's default follows the optimizer),
    or the one in `offered` (`scaffold new` offers DEST's name as the project name).
    """
    offered = offered or {}
    context: dict[str, Any] = {}
    rows = []
    for question in load_questions():
        default = offered.get(question.name, evaluate_default(question, context))
        context[question.name] = answers.get(question.name, default)
        if question.name in answers:
            value = answers[question.name]
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            rows.append(("*" if value != default else " ", question.name, shown))
    width = max(len(name) for _, name, _ in rows)
    return [f" {mark} {name.ljust(width)}  {shown}" for mark, name, shown in rows]
