"""Every mistake a user can make with `scaffold check` ends in one clear line and a documented
exit code, never a traceback; and the table in docs/errors.md says exactly what happens."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as hs
from typer.testing import CliRunner

from scaffold.check import CheckError, check_source, decode_source
from scaffold.cli.check import check

ROOT = Path(__file__).resolve().parents[2]
BUGGY = "def train(model, loader, opt):\n    for x in loader:\n        model(x).sum().backward()\n        opt.step()\n"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("check")(check)
    app.command("noop")(lambda: None)
    return app


def invoke(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, ["check", *args])


def _write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())

    return setup


# (mistake as the docs table names it, files to create, arguments, stderr line, exit code)
SCENARIOS: list[tuple[str, Callable[[Path], None], list[str], str, int]] = [
    (
        "a file that does not parse",
        _write("broken.py", "def f(:\n"),
        ["broken.py"],
        "error: broken.py:1:7: cannot parse: invalid syntax",
        2,
    ),
    (
        "bytes that are not UTF-8 and no coding line",
        _write("bytes.py", b'x = "\xff"\n'),
        ["bytes.py"],
        "error: bytes.py: cannot decode: not valid UTF-8, and no `# -*- coding: ... -*-` line names another encoding",
        2,
    ),
    (
        "a coding line naming an unknown codec",
        _write("codec.py", "# -*- coding: nope -*-\n"),
        ["codec.py"],
        "error: codec.py: cannot decode: unknown encoding: nope",
        2,
    ),
    (
        "a 50,000-term expression",
        _write("deep.py", "x = " + "+".join(["1"] * 50_000) + "\n"),
        ["deep.py"],
        "error: deep.py: cannot parse: nested too deeply (Python itself cannot compile it)",
        2,
    ),
    (
        "a path that does not exist",
        lambda folder: None,
        ["missing.py"],
        "error: missing.py: no such file or directory",
        2,
    ),
    (
        "a device (or a socket) instead of a file",
        lambda folder: None,
        ["/dev/null"],
        "error: /dev/null: not a file, a folder or a pipe",
        2,
    ),
    (
        "an unknown rule ID or prefix",
        _write("ok.py", "x = 1\n"),
        ["ok.py", "--select", "nope"],
        "error: unknown rule ID nope (see `scaffold teach --list`)",
        2,
    ),
    (
        "an unknown --format",
        _write("ok.py", "x = 1\n"),
        ["ok.py", "--format", "xml"],
        "error: --format must be one of text, json, sarif, github, not 'xml'",
        2,
    ),
]


@pytest.mark.parametrize("mistake,setup,args,line,code", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_each_mistake_is_one_line_and_its_code(app, tmp_path, monkeypatch, mistake, setup, args, line, code) -> None:
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    result = invoke(app, *args)
    assert result.exit_code == code, result.output
    assert result.stderr.splitlines()[0] == line
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def _doc_rows() -> list[tuple[str, str, int]]:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    section = text.split("## scaffold check", 1)[1].split("\n## ", 1)[0]
    rows = []
    for raw in section.splitlines():
        cells = [c.strip() for c in raw.strip().strip("|").split("|")]
        if raw.startswith("|") and len(cells) == 3 and cells[2].isdigit():
            rows.append((cells[0], cells[1].strip("`").replace("\\|", "|"), int(cells[2])))
    return rows


def test_docs_errors_table_matches_the_scenarios() -> None:
    assert _doc_rows() == [(m, line, code) for m, _, _, line, code in SCENARIOS]


def test_one_bad_file_does_not_hide_the_others(app, tmp_path: Path) -> None:
    (tmp_path / "a_broken.py").write_text("def f(:\n")
    (tmp_path / "b_buggy.py").write_text(BUGGY)
    text = invoke(app, str(tmp_path))
    assert text.exit_code == 2
    assert "zero-grad-missing" in text.stdout
    assert "a_broken.py:1:7: cannot parse" in text.stderr
    data = json.loads(invoke(app, str(tmp_path), "--format", "json").stdout)
    assert [f["id"] for f in data["findings"]] == ["zero-grad-missing"]
    assert data["file_errors"][0]["path"].endswith("a_broken.py") and data["file_errors"][0]["line"] == 1
    assert data["files_checked"] == 1


def test_a_pipe_is_checked_like_a_file(tmp_path: Path) -> None:
    """`scaffold check <(git show HEAD:train.py)`: bash hands over a pipe, not a regular file."""
    import os
    import subprocess
    import sys
    import time

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    done = subprocess.Popen(
        [sys.executable, "-m", "scaffold", "check", str(pipe), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:  # open without blocking: a checker that never reads must fail, not hang, the test
        try:
            fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:  # ENXIO: nobody has opened it for reading yet
            if done.poll() is not None or time.monotonic() > deadline:
                done.kill()
                pytest.fail(f"the checker never read the pipe: {done.communicate()[1][-300:]}")
            time.sleep(0.05)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "w") as writer:
        writer.write(BUGGY)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 1, err  # 1: findings
    assert [f["id"] for f in json.loads(out)["findings"]] == ["zero-grad-missing"]


def test_bom_and_latin1_files_are_checked_like_python_reads_them(app, tmp_path: Path) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + BUGGY.encode())
    (tmp_path / "latin.py").write_bytes(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + BUGGY).encode("latin-1"))
    result = invoke(app, str(tmp_path), "--format", "json")
    data = json.loads(result.stdout)
    assert data["file_errors"] == [] and data["files_checked"] == 2
    assert [f["line"] for f in data["findings"]] == [2, 4]  # BOM file, then the latin-1 file
    assert decode_source(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"


def test_exit_codes_findings_exit_zero_and_errors_win(app, tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text(BUGGY)
    assert invoke(app, str(tmp_path)).exit_code == 1
    assert invoke(app, str(tmp_path), "--exit-zero").exit_code == 0
    (tmp_path / "c.py").write_text("def f(:\n")
    assert invoke(app, str(tmp_path), "--exit-zero").exit_code == 2  # an unchecked file is never hidden


def test_prefix_select_and_ignore(app, tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text(BUGGY)
    assert invoke(app, str(tmp_path), "--select", "zero-grad").exit_code == 1
    assert invoke(app, str(tmp_path), "--select", "clip,validation").exit_code == 0
    assert invoke(app, str(tmp_path), "--ignore", "zero").exit_code == 0
    assert invoke(app, str(tmp_path), "--select", "ALL", "--ignore", "zero-grad-missing").exit_code == 0


def test_sarif_output(app, tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text(BUGGY)
    (tmp_path / "c.py").write_text("def f(:\n")
    log = json.loads(invoke(app, str(tmp_path), "--format", "sarif").stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    (result,) = run["results"]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "zero-grad-missing"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "startColumn": 5}
    assert result["properties"]["confidence"] == "high"
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert "cannot parse" in note["message"]["text"] and run["invocations"][0]["executionSuccessful"] is False


def test_github_annotations(app, tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text(BUGGY)
    out = invoke(app, str(tmp_path / "b.py"), "--format", "github").stdout.strip()
    assert re.fullmatch(r"::error file=[^,]*b\.py,line=2,col=5,title=zero-grad-missing::this training loop .*", out)


def test_quiet_and_progress(app, tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"b{i}.py").write_text(BUGGY)
    loud = invoke(app, str(tmp_path))
    assert "3 finding(s)" in loud.stderr and "b0.py  1 finding(s)" in loud.stderr  # per-file summary
    quiet = invoke(app, str(tmp_path), "-q")
    assert quiet.stderr == "" and quiet.stdout.count("zero-grad-missing") == 3
    shown = invoke(app, str(tmp_path), "--progress")
    assert "[1/3]" in shown.stderr and "[3/3]" in shown.stderr
    assert "[1/3]" not in invoke(app, str(tmp_path), "--progress", "-q").stderr


@settings(max_examples=150, deadline=None)
@given(hs.binary(max_size=300))
def test_fuzz_any_bytes_end_in_findings_or_one_check_error(data: bytes) -> None:
    try:
        check_source(decode_source(data))
    except CheckError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=100, deadline=None)
@given(
    hs.lists(
        hs.sampled_from(
            BUGGY.splitlines(keepends=True)
            + ["    if x:\n", "with torch.no_grad():\n", "  opt.zero_grad()\n", "model.eval()\n"]
        ),
        max_size=12,
    )
)
def test_fuzz_shuffled_loop_lines(lines: list[str]) -> None:
    try:
        check_source("".join(lines))
    except CheckError as exc:
        assert "cannot parse" in str(exc)
