"""`scaffold new DEST`: the flags are generated from copier.yml, one per question."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Optional

import click
import typer

from scaffold.cli.errors import exit_code, fail
from scaffold.cli.prompts import Prompter
from scaffold.options import AnswerError, describe_default, load_questions

_FIXED_HELP = "Answers can come from --answers FILE.yml, --set KEY=VALUE, or the typed flags below."


def _new(
    dest: Path = typer.Argument(..., help="Folder to create the project in.", show_default=False),
    defaults: bool = typer.Option(
        False, "--defaults", help="Use defaults for every unanswered question."
    ),
    answers: Optional[Path] = typer.Option(
        None, "--answers", help="YAML file of question: answer.", show_default=False
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="KEY=VALUE answer (repeatable).", metavar="KEY=VALUE", show_default=False
    ),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty DEST."),
    no_git: bool = typer.Option(False, "--no-git", help="Do not git init and commit the project."),
    pretend: bool = typer.Option(
        False, "--pretend", help="Check the answers and list what would be written; write nothing."
    ),
    **flags: Any,
) -> None:
    from scaffold.new import NewPlan, UsageError, create_project, gather_answers

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
            pretend=pretend,
            before_writing=_list_replaced,
        )
    except (AnswerError, UsageError) as exc:
        fail(exc)
    except (click.exceptions.Abort, typer.Abort, EOFError):
        fail("input ended before every question was answered (pass --defaults to accept defaults)")
    except KeyboardInterrupt as exc:
        fail(f"interrupted: nothing was written to {dest}", exit_code(exc))
    if isinstance(result, NewPlan):
        _show_plan(result, no_git)
        return
    note = f" ({result.note})" if result.note and not no_git else ""
    typer.echo(f"created {dest} ({len(result.files)} files){note}")
    typer.echo(f"next: cd {dest} && python train.py --dry-run && pytest")


def _list_replaced(plan: Any) -> None:
    """Before writing: name every existing file the project replaces (only with --force)."""
    if plan.replaced:
        typer.echo(f"replacing {len(plan.replaced)} existing file(s) in {plan.dest}:", err=True)
        for rel in plan.replaced:
            typer.echo(f"  {rel}", err=True)


def _show_plan(plan: Any, no_git: bool) -> None:
    replaced = set(plan.replaced)
    typer.echo(f"would write {len(plan.files)} files in {plan.dest} (nothing written: --pretend)")
    for rel in plan.files:
        typer.echo(f"  {'replace' if rel in replaced else 'create '} {rel}")
    if not no_git:
        typer.echo(plan.commit_note or "would commit exactly these files in a new git repository")


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
            metavar = (
                "[" + "|".join(str(c) for c in q.choices) + "]" if q.choices else q.type.upper()
            )
            option = typer.Option(
                None, f"--{dash}", help=help_text, metavar=metavar, show_default=False
            )
            annotation = Optional[str]
        params.append(
            inspect.Parameter(
                q.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
            )
        )
    return params


def _build_new_command():
    fixed = [p for p in inspect.signature(_new).parameters.values() if p.kind is not p.VAR_KEYWORD]
    params = fixed + _question_parameters()

    def new(**kwargs: Any) -> None:
        fixed_names = {"dest", "defaults", "answers", "set_", "force", "no_git", "pretend"}
        flags = {k: v for k, v in kwargs.items() if k not in fixed_names}
        _new(**{k: kwargs[k] for k in fixed_names}, **flags)

    new.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    new.__annotations__ = {p.name: p.annotation for p in params}
    new.__doc__ = f"Create a training project in DEST. {_FIXED_HELP}"
    return new


new = _build_new_command()
