"""`scaffold new DEST`: the flags are generated from copier.yml, one per question."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Optional

import click
import typer

from scaffold.cli.errors import fail
from scaffold.cli.prompts import Prompter
from scaffold.options import AnswerError, describe_default, load_questions

_FIXED_HELP = "Answers can come from --answers FILE.yml, --set KEY=VALUE, or the typed flags below."


def _new(
    dest: Path = typer.Argument(..., help="Folder to create the project in.", show_default=False),
    defaults: bool = typer.Option(False, "--defaults", help="Use defaults for every unanswered question."),
    answers: Optional[Path] = typer.Option(
        None, "--answers", help="YAML file of question: answer.", show_default=False
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="KEY=VALUE answer (repeatable).", metavar="KEY=VALUE", show_default=False
    ),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty DEST."),
    no_git: bool = typer.Option(False, "--no-git", help="Do not git init and commit the project."),
    **flags: Any,
) -> None:
    from scaffold.new import UsageError, create_project, gather_answers

    try:
        given = gather_answers(answers, set_, flags)
        prompter = None if defaults else Prompter()
        result = create_project(
            dest,
            given,
            ask=prompter.ask if prompter else None,
            should_ask=prompter.should_ask if prompter else None,
            force=force,
            git=not no_git,
        )
    except (AnswerError, UsageError) as exc:
        fail(exc)
    except (click.exceptions.Abort, typer.Abort, EOFError):
        fail("input ended before every question was answered (pass --defaults to accept defaults)")
    note = "" if result.committed or no_git else " (git not found: no initial commit)"
    typer.echo(f"created {dest} ({len(result.files)} files){note}")
    typer.echo(f"next: cd {dest} && python train.py --dry-run && pytest")


def _question_parameters() -> list[inspect.Parameter]:
    params = []
    for q in load_questions():
        dash = q.name.replace("_", "-")
        help_text = f"{q.help}. Default: {describe_default(q)}."
        if q.is_conditional:
            help_text += " Asked only when it applies."
        if q.type == "bool":
            option = typer.Option(None, f"--{dash}/--no-{dash}", help=help_text, show_default=False)
            annotation: Any = Optional[bool]
        else:
            metavar = "[" + "|".join(str(c) for c in q.choices) + "]" if q.choices else q.type.upper()
            option = typer.Option(None, f"--{dash}", help=help_text, metavar=metavar, show_default=False)
            annotation = Optional[str]
        params.append(inspect.Parameter(q.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation))
    return params


def _build_new_command():
    fixed = [p for p in inspect.signature(_new).parameters.values() if p.kind is not p.VAR_KEYWORD]
    params = fixed + _question_parameters()

    def new(**kwargs: Any) -> None:
        fixed_names = {"dest", "defaults", "answers", "set_", "force", "no_git"}
        flags = {k: v for k, v in kwargs.items() if k not in fixed_names}
        _new(**{k: kwargs[k] for k in fixed_names}, **flags)

    new.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    new.__annotations__ = {p.name: p.annotation for p in params}
    new.__doc__ = f"Create a training project in DEST. {_FIXED_HELP}"
    return new


new = _build_new_command()
