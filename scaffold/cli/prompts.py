"""Interactive questions: help text, choices and defaults shown; a bad answer is asked again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from scaffold.options import AnswerError, Question, parse_answer


class Prompter:
    """Asks the headline questions, then "customise more?", then (if yes) the rest."""

    def __init__(self) -> None:
        self._customise: bool | None = None

    def should_ask(self, question: Question) -> bool:
        """Headline questions are always asked; the others only after a yes to "customise more?"."""
        if question.headline:
            return True
        if self._customise is None:
            self._customise = typer.confirm("Customise more (optimizer, lr, data, model, ...)?", default=False)
        return self._customise

    def ask(self, question: Question, default: Any, context: Mapping[str, Any]) -> Any:
        """Prompt until the answer parses and validates; return the typed value."""
        typer.echo(f"\n{question.help}", err=False)
        while True:
            if question.type == "bool":
                raw: Any = typer.confirm(question.name, default=bool(default))
            else:
                label = question.name
                if question.choices:
                    label += " (" + ", ".join(str(c) for c in question.choices) + ")"
                raw = typer.prompt(label, default=str(default))
            try:
                return parse_answer(question, raw, context)
            except AnswerError as exc:
                typer.echo(f"  invalid: {exc}; try again", err=True)
