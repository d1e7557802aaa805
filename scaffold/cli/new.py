"""`scaffold new DEST`: the flags are generated from copier.yml, one per question."""

from __future__ import annotations

import inspect
import shlex
import sys
from pathlib import Path
from typing import Any, Optional

import click
import typer

from scaffold.cli.errors import exit_code, fail
from scaffold.cli.prompts import Prompter, interruptible, summary_lines
from scaffold.docs import PROJECT_NAME_DEFAULT, valid_range
from scaffold.options import AnswerError, Question, describe_default, load_questions

_FIXED_HELP = "Answers can come from --answers FILE.yml, --set KEY=VALUE, or the typed flags below."
_FIXED_PANEL = "Destination and answers"
PANELS = {  # copier.yml `group` -> help panel title
    "headline": "Headline questions (asked first)",
    "optimisation": "Optimisation",
    "model": "Model",
    "outputs": "Validation and outputs",
}
EXAMPLES = (
    "[bold]Examples[/]\n\n"
    "  scaffold new demo                                   [dim]# ask the headline questions[/]\n\n"
    "  scaffold new demo --defaults                        [dim]# no questions: every default[/]\n\n"
    "  scaffold new demo --precision bf16 --accum-steps 4  [dim]# the rest asked or defaulted[/]\n\n"
    "  scaffold new demo --answers answers.yml --yes       [dim]# reproduce a set of answers[/]"
)


def _interactive() -> bool:
    """A person at a terminal: only then is the summary confirmed before writing."""
    return sys.stdin.isatty()


def _new(
    dest: Path = typer.Argument(
        ..., help="Folder to create the project in.", metavar="DEST", show_default=False
    ),
    defaults: bool = typer.Option(
        False,
        "--defaults",
        help="Use defaults for every unanswered question.",
        rich_help_panel=_FIXED_PANEL,
    ),
    answers: Optional[Path] = typer.Option(
        None,
        "--answers",
        help="YAML file of question: answer.",
        rich_help_panel=_FIXED_PANEL,
        show_default=False,
    ),
    set_: list[str] = typer.Option(
        [],
        "--set",
        help="KEY=VALUE answer (repeatable).",
        rich_help_panel=_FIXED_PANEL,
        metavar="KEY=VALUE",
        show_default=False,
    ),
    force: bool = typer.Option(
        False, "--force", help="Write into a non-empty DEST.", rich_help_panel=_FIXED_PANEL
    ),
    no_git: bool = typer.Option(
        False,
        "--no-git",
        help="Do not git init and commit the project.",
        rich_help_panel=_FIXED_PANEL,
    ),
    pretend: bool = typer.Option(
        False,
        "--pretend",
        help="Check the answers and list what would be written; write nothing.",
        rich_help_panel=_FIXED_PANEL,
    ),
    yes: bool = typer.Option(
        False,
        "--yes",
        "-y",
        help="Write without confirming the summary of answers.",
        rich_help_panel=_FIXED_PANEL,
    ),
    **flags: Any,
) -> None:
    from scaffold.new import (
        NewPlan,
        UsageError,
        check_destination,
        create_project,
        default_project_name,
        gather_answers,
    )
    from scaffold.options import resolve_answers

    try:
        given = gather_answers(answers, set_, flags)
        prompter = None if defaults else Prompter()
        if prompter is not None:
            check_destination(dest, force)  # refuse before asking, not after
            given.setdefault("project_name", default_project_name(dest))
            given = resolve_answers(given, ask=prompter.ask, should_ask=prompter.should_ask)
            if prompter.asked and not _confirmed(dest, given, ask=_interactive() and not yes):
                fail("nothing written (answer y to write, or pass --yes)")
        result = create_project(
            dest,
            given,
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
    typer.echo(next_hint(dest))


def next_hint(dest: Path) -> str:
    """What to type after `new`: install first when this Python lacks torch or pytest.

    Looked up without importing either (find_spec), so the hint costs no start-up time.
    """
    import importlib.util

    steps = f"cd {shlex.quote(str(dest))} && "
    missing = [name for name in ("torch", "pytest") if importlib.util.find_spec(name) is None]
    if missing:
        steps += 'python -m pip install -e ".[test]" && '  # the project's own extras pull both
    hint = f"next: {steps}python train.py --dry-run && pytest"
    if "torch" in missing:
        hint += " (torch is not installed here: see pytorch.org for the build that fits your machine)"
    return hint


def _confirmed(dest: Path, answers: dict[str, Any], *, ask: bool) -> bool:
    """Show every answer (`*` = not the default); on a terminal, ask before writing."""
    typer.echo(f"\nThe project in {dest} will be written with (* = not the default):")
    from scaffold.new import default_project_name

    typer.echo("\n".join(summary_lines(answers, {"project_name": default_project_name(dest)})))
    return interruptible(typer.confirm, "Write it?", default=True) if ask else True


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


_METAVAR_WIDTH = 24  # wider choice lists go in the help text, which wraps at spaces


def choice_metavar(question: Question) -> str:
    """`fp32|bf16|fp16` for a short choice list, `CHOICE` for a long one, else the type (`INT`)."""
    if not question.choices:
        return question.type.upper()
    joined = "|".join(str(c) for c in question.choices)
    return joined if len(joined) <= _METAVAR_WIDTH else "CHOICE"


def flag_help(question: Question) -> str:
    """The help of a question's flag: its help, choices, valid range, default, when it is asked."""
    text = question.help + "."
    if question.choices and choice_metavar(question) == "CHOICE":
        text += " One of: " + ", ".join(str(c) for c in question.choices) + "."
    accepted = valid_range(question)
    if accepted:
        text += f" Valid: {accepted}."
    if question.name == "project_name":
        text += f" Default: {PROJECT_NAME_DEFAULT}."
    else:
        text += f" Default: {describe_default(question)}."
    if question.is_conditional:
        text += " Asked only when it applies."
    return text


def _question_parameters() -> list[inspect.Parameter]:
    params = []
    for q in load_questions():
        dash = q.name.replace("_", "-")
        help_text = flag_help(q)
        panel = PANELS.get(q.group, q.group.capitalize())
        if q.type == "bool":
            option = typer.Option(
                None,
                f"--{dash}/--no-{dash}",
                help=help_text,
                show_default=False,
                rich_help_panel=panel,
            )
            annotation: Any = Optional[bool]
        else:
            metavar = choice_metavar(q)
            option = typer.Option(
                None,
                f"--{dash}",
                help=help_text,
                metavar=metavar,
                show_default=False,
                rich_help_panel=panel,
                autocompletion=_completer(q),
            )
            annotation = Optional[str]
        params.append(
            inspect.Parameter(
                q.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
            )
        )
    return params


def _completer(question: Question):
    """Shell completion of a flag's value: its choices, those starting with what was typed."""
    if not question.choices:
        return None
    choices = [str(c) for c in question.choices]

    def complete(incomplete: str) -> list[str]:
        return [c for c in choices if c.startswith(incomplete.lower())]

    return complete


def _panel_rank(param: inspect.Parameter, order: list[str]) -> int:
    group = {q.name: q.group for q in load_questions()}[param.name]
    return order.index(group) if group in order else len(order)


def _build_new_command():
    fixed = [p for p in inspect.signature(_new).parameters.values() if p.kind is not p.VAR_KEYWORD]
    order = list(PANELS)  # panels appear in the order of their first flag: headline first
    questions = sorted(_question_parameters(), key=lambda p: _panel_rank(p, order))
    params = fixed + questions

    def new(**kwargs: Any) -> None:
        fixed_names = {"dest", "defaults", "answers", "set_", "force", "no_git", "pretend", "yes"}
        flags = {k: v for k, v in kwargs.items() if k not in fixed_names}
        _new(**{k: kwargs[k] for k in fixed_names}, **flags)

    new.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    new.__annotations__ = {p.name: p.annotation for p in params}
    new.__doc__ = f"Create a training project in DEST.\n\n{_FIXED_HELP}\n\n{EXAMPLES}"
    return new


new = _build_new_command()
