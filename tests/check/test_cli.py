"""The Typer command, run through a throwaway app (the real app belongs to scaffold.cli.app)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scaffold.cli.check import check

BUGGY = """\
import torch
def train(model, loader, opt):
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
"""
CLEAN = """\
import torch
def train(model, loader, opt):
    for x, y in loader:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
"""
HINT_ONLY = """\
import torch
opt = torch.optim.Adam(model.parameters())
model.half()
"""


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("check")(check)

    @app.command("noop")
    def noop() -> None:  # a second command makes `check` a subcommand, as in the real app
        pass

    return app


def run(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, ["check", *args])


def test_clean_exits_0(app, tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text(CLEAN)
    result = run(app, str(tmp_path / "ok.py"))
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_findings_exit_1_with_text_format(app, tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(BUGGY)
    result = run(app, str(path))
    assert result.exit_code == 1
    line = result.stdout.splitlines()[0]
    assert line.startswith(f"{path}:3:5: zero-grad-missing ")
    assert "gradients add up" in line  # the catalogue's why


def test_json_format(app, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BUGGY)
    result = run(app, str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["files_checked"] == 1
    (finding,) = data["findings"]
    assert set(finding) == {
        "path",
        "line",
        "col",
        "id",
        "message",
        "severity",
        "confidence",
        "title",
        "why",
    }
    assert finding["id"] == "zero-grad-missing" and finding["severity"] == "error"


def test_hints_alone_exit_0_unless_strict(app, tmp_path: Path) -> None:
    (tmp_path / "h.py").write_text(HINT_ONLY)
    result = run(app, str(tmp_path / "h.py"))
    assert result.exit_code == 0
    assert "to-device-after-optimizer (hint)" in result.stdout
    assert run(app, str(tmp_path / "h.py"), "--strict").exit_code == 1
    data = json.loads(run(app, str(tmp_path / "h.py"), "--format", "json").stdout)
    assert data["findings"][0]["severity"] == "hint"


def test_select_and_ignore(app, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BUGGY)
    assert run(app, str(tmp_path), "--ignore", "zero-grad-missing").exit_code == 0
    assert run(app, str(tmp_path), "--select", "clip-after-step,log-loss-tensor").exit_code == 0
    assert run(app, str(tmp_path), "--select", "zero-grad-missing").exit_code == 1


def test_unknown_id_is_a_usage_error(app, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BUGGY)
    result = run(app, str(tmp_path), "--select", "no-such-rule")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: unknown rule ID no-such-rule (see `scaffold teach --list`)"
    assert "Traceback" not in result.output


def test_bad_format_and_missing_path(app, tmp_path: Path) -> None:
    assert run(app, str(tmp_path), "--format", "xml").exit_code == 2
    result = run(app, str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_parse_error_exits_2(app, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n")
    result = run(app, str(tmp_path))
    assert result.exit_code == 2
    assert "broken.py:1" in result.stderr and "cannot parse" in result.stderr
    assert "Traceback" not in result.output


def test_inline_suppression(app, tmp_path: Path) -> None:
    src = BUGGY.replace(
        "for x, y in loader:",
        "for x, y in loader:  # scaffold: ignore[zero-grad-missing]",
    )
    (tmp_path / "s.py").write_text(src)
    assert run(app, str(tmp_path)).exit_code == 0
    other = BUGGY.replace(
        "for x, y in loader:",
        "for x, y in loader:  # scaffold: ignore[clip-after-step, zero-grad-missing]",
    )
    (tmp_path / "s.py").write_text(other)
    assert run(app, str(tmp_path)).exit_code == 0
    wrong = BUGGY.replace(
        "for x, y in loader:",
        "for x, y in loader:  # scaffold: ignore[clip-after-step]",
    )
    (tmp_path / "s.py").write_text(wrong)
    assert run(app, str(tmp_path)).exit_code == 1


def test_directory_walk_skips_venvs(app, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(BUGGY)
    (tmp_path / "pkg" / "b.py").write_text(CLEAN)
    (tmp_path / "pkg" / "notes.txt").write_text("def f(:")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "broken.py").write_text("def f(:")
    data = json.loads(run(app, str(tmp_path), "--format", "json").stdout)
    assert data["files_checked"] == 2
    assert [Path(f["path"]).name for f in data["findings"]] == ["a.py"]


def test_python_dash_m_and_no_torch_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BUGGY)
    proc = subprocess.run(
        [sys.executable, "-m", "scaffold.check", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "zero-grad-missing" in proc.stdout
    code = "import sys, scaffold.cli.check, scaffold.check; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False).stdout.strip()
        == "False"
    )
