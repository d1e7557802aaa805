"""The console script leaves with `os._exit` (scaffold.cli.app.run): nothing a normal exit does
that matters may be lost: exit codes, buffered output, atexit handlers."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import atexit, sys, threading, time
from scaffold.cli.app import run
atexit.register(lambda: print("atexit ran", flush=True))
threading.Thread(target=lambda: (time.sleep(0.3), print("thread done", flush=True))).start()
run(sys.argv[1:])
print("never reached")
"""


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["--version"], 0), (["new", "--bogus"], 2), (["check", "/no/such/file.py"], 2)],
)
def test_exit_code_output_and_atexit_handlers_survive_the_fast_exit(argv, code):
    done = _run(*argv)
    assert done.returncode == code, done.stderr
    assert "atexit ran" in done.stdout  # the handlers ran, and stdout (a pipe) was flushed
    assert done.stdout.index("thread done") < done.stdout.index("atexit ran")  # as a normal exit
    assert "never reached" not in done.stdout
    assert "Traceback" not in done.stderr
    if argv == ["--version"]:
        assert done.stdout.startswith("scaffold ")  # buffered output printed before the handlers


@pytest.mark.parametrize(("code", "status"), [(None, 0), (3, 3), (256 + 2, 2), ("bad thing", 1)])
def test_leave_maps_exit_codes_like_sys_exit(monkeypatch, capsys, code, status):
    import os

    from scaffold.cli import app

    statuses = []
    monkeypatch.setattr(os, "_exit", statuses.append)  # record instead of ending the test run
    monkeypatch.setattr("atexit._run_exitfuncs", lambda: None)
    app._leave(code)
    assert statuses == [status]
    assert capsys.readouterr().err == ("bad thing\n" if isinstance(code, str) else "")
