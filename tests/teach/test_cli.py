"""`scaffold teach`: list, one lesson, the course, and the usage errors."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from scaffold.catalogue import BUGS
from scaffold.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["teach", *map(str, args)])


def test_list_shows_every_id():
    result = invoke("--list")
    assert result.exit_code == 0
    for bug in BUGS:
        assert bug.id in result.output


def test_one_lesson(tmp_path):
    dest = tmp_path / "lesson"
    result = invoke("zero-grad-missing", dest)
    assert result.exit_code == 0, result.output
    assert {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} == {
        "train.py",
        "correct_train.py",
        "config.py",
        "data.py",
        "model.py",
        "tracking.py",
        "LESSON.md",
        "tests/test_symptom.py",
    }
    assert "# BUG(zero-grad-missing)" in (dest / "train.py").read_text()
    assert "```diff" in (dest / "LESSON.md").read_text()


def test_all_writes_the_course_in_seconds(tmp_path):
    dest = tmp_path / "course"
    start = time.perf_counter()
    result = invoke("--all", dest)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    assert (dest / "README.md").is_file()
    for bug in BUGS:
        assert (dest / bug.id / "LESSON.md").is_file()
        assert f"({bug.id}/LESSON.md)" in (dest / "README.md").read_text()
    assert elapsed < 60


@pytest.mark.parametrize(
    "args, message",
    [
        (["zero-grad-mising", "X"], "did you mean zero-grad-missing"),
        (["zero-grad-missing"], "missing DEST"),
        ([], "missing BUG_ID"),
        (["--all"], "missing DEST"),
        (["--list", "zero-grad-missing"], "--list takes no other arguments"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, args, message):
    args = [a if a != "X" else str(tmp_path / "x") for a in args]
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_non_empty_dest_needs_force(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = invoke("log-loss-tensor", tmp_path)
    assert result.exit_code == 2 and "not empty" in result.output
    assert invoke("log-loss-tensor", tmp_path, "--force").exit_code == 0
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_plot_draws_both_curves(tmp_path):
    pytest.importorskip("matplotlib")
    result = invoke("scheduler-in-batch-loop", tmp_path / "l", "--plot")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "l" / "symptom.png").stat().st_size > 1000


def test_the_cli_never_imports_torch(tmp_path):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from scaffold.cli.app import app\n"
        f"r = CliRunner().invoke(app, ['teach', 'clip-without-unscale', {str(tmp_path / 'l')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
