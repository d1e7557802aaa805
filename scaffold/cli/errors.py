"""How the CLI ends: the exit codes of `scaffold`, and one line on stderr for every error a user causes.

The codes (DESIGN.md; the table in docs/errors.md is checked against this module by a test):

* 0 success;
* 1 `scaffold check` found mistakes;
* 2 a usage error or a refusal: one `error:` line, nothing written;
* 3 `scaffold update` wrote its result but left conflicts to resolve;
* 130 interrupted (Ctrl-C): one line, nothing written (the shell's convention for SIGINT).

Each command has one error type for what a user can get wrong (`new`: `scaffold.new.UsageError`,
`update`: `scaffold.update.UpdateError`; both: `scaffold.options.AnswerError` for an answer). Their
text is already one line; `fail` prints it and exits with the code `exit_code` maps it to.
"""

from __future__ import annotations

from typing import NoReturn

import typer

OK_EXIT = 0
FINDINGS_EXIT = 1
USAGE_EXIT = 2
CONFLICTS_EXIT = 3
INTERRUPTED_EXIT = 130

EXIT_CODES = {
    OK_EXIT: "success",
    FINDINGS_EXIT: "`scaffold check` found mistakes",
    USAGE_EXIT: "usage error or refusal: one `error:` line, nothing written",
    CONFLICTS_EXIT: "`scaffold update` wrote the result but left conflicts to resolve",
    INTERRUPTED_EXIT: "interrupted (Ctrl-C): one line, nothing written",
}


def exit_code(error: BaseException) -> int:
    """The exit code for an error a command reports (every user error is a refusal, code 2)."""
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED_EXIT
    return USAGE_EXIT


def fail(message: object, code: int | None = None) -> NoReturn:
    """Print `error: message` on one line to stderr and exit (never a traceback).

    Args:
        message: An error (its code from `exit_code`) or a text (code 2).
        code: Overrides the code.
    """
    text = " ".join(str(message).split())
    typer.echo(f"error: {text}", err=True)
    if code is None:
        code = exit_code(message) if isinstance(message, BaseException) else USAGE_EXIT
    raise typer.Exit(code)
