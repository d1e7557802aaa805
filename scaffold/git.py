"""Every git command scaffold runs goes through `run_git`, with an environment chosen on purpose.

git reads where its repository is from the environment before anything else: `GIT_DIR`,
`GIT_WORK_TREE` and `GIT_INDEX_FILE` are set inside git hooks, `git rebase --exec` and some CI jobs.
Inherited, they would send a command meant for the project to another repository (a `git init`
and `commit` in a fresh project would land in the repository of the hook that ran scaffold). So
they are always removed, and every command names its working directory.

copier runs its own git commands through plumbum, whose `local.env` is a copy of the environment
taken when plumbum is imported; `copier_git_env` clears the same variables there for the length
of a copier call.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

# The variables that say which repository, work tree and index git uses.
LOCATION_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")


class GitError(RuntimeError):
    """A git command exited non-zero; the message holds the command and git's own words."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stderr = stderr
        reason = " ".join(stderr.split())
        super().__init__(f"git {' '.join(self.args_[:2])} failed: {reason}")


def git_env(
    extra: Mapping[str, str] | None = None,
    *,
    isolated: bool = False,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for one git command.

    Args:
        extra: Variables the caller sets on purpose (applied last, so a private repository may be
            named here: a build in a temporary bare repository sets its own `GIT_DIR`).
        isolated: Also drop every other inherited `GIT_*` variable and ignore the system and
            global git config, for commands whose output must not depend on the user's setup.
        base: The environment to start from (default `os.environ`).
    """
    base = os.environ if base is None else base
    if isolated:
        env = {k: v for k, v in base.items() if not k.startswith("GIT_")}
        env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    else:
        env = {k: v for k, v in base.items() if k not in LOCATION_VARIABLES}
    env.update(extra or {})
    return env


def run_git(
    args: Sequence[str],
    cwd: Path | str,
    *,
    env: Mapping[str, str] | None = None,
    isolated: bool = False,
    input: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS` in `cwd` and capture its output (bytes).

    Args:
        args: The arguments after `git`.
        cwd: The working directory; always explicit, never the process's own by accident.
        env: Variables to set on purpose (see `git_env`).
        isolated: See `git_env`.
        input: Bytes for git's stdin.
        check: Raise `GitError` when git exits non-zero.

    Raises:
        GitError: git failed and `check` is true.
        OSError: git is not installed, or `cwd` is not a folder.
    """
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=git_env(env, isolated=isolated),
        input=input,
        capture_output=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc


@contextlib.contextmanager
def copier_git_env(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """While active, the git commands copier runs (through plumbum) see a chosen environment.

    The location variables are removed from plumbum's `local.env` and `extra` is set there; both
    are restored on exit.
    """
    from plumbum import local

    with local.env():
        for key in LOCATION_VARIABLES:
            local.env.pop(key, None)
        local.env.update(**dict(extra or {}))
        yield
