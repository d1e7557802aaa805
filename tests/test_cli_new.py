"""CLI tests for `scaffold --version`, `scaffold options` and `scaffold new` (Typer's CliRunner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scaffold import __version__
from scaffold.cli.app import app
from scaffold.options import load_questions

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def answers_of(dest: Path) -> dict:
    return yaml.safe_load((dest / ".copier-answers.yml").read_text())


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith(f"scaffold {__version__} (template ")


def test_cli_never_imports_torch():
    code = (
        "import sys; from scaffold.cli.app import app; from typer.testing import CliRunner;"
        "CliRunner().invoke(app, ['new', '--help']); CliRunner().invoke(app, ['options']);"
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_options_lists_every_question_and_choice():
    result = invoke("options")
    assert result.exit_code == 0
    for q in load_questions():
        assert q.name in result.output
        for choice in q.choices or ():
            assert str(choice) in result.output


def test_options_json_and_docs_in_step():
    rows = json.loads(invoke("options", "--format", "json").output)
    assert [r["key"] for r in rows] == [q.name for q in load_questions()]
    table = invoke("options", "--format", "markdown").output.strip()
    docs = (ROOT / "docs" / "options.md").read_text()
    assert table in docs, "docs/options.md is stale: run `python -m scaffold.docs`"


def test_options_bad_format_exits_2():
    result = invoke("options", "--format", "xml")
    assert result.exit_code == 2 and "error:" in result.output


def test_new_help_lists_every_question_with_choices():
    result = invoke("new", "--help")
    assert result.exit_code == 0
    for q in load_questions():
        assert "--" + q.name.replace("_", "-") in result.output
        for choice in q.choices or ():
            assert str(choice) in result.output


def test_new_defaults_writes_and_commits(tmp_path):
    dest = tmp_path / "my-proj"
    result = invoke("new", dest, "--defaults")
    assert result.exit_code == 0, result.output
    for name in [
        "README.md",
        "pyproject.toml",
        "train.py",
        "tests/test_train.py",
        ".copier-answers.yml",
    ]:
        assert (dest / name).is_file(), name
    answers = answers_of(dest)
    assert answers["project_name"] == "my_proj"  # derived from DEST
    assert answers["precision"] == "fp32"
    log = subprocess.run(["git", "log", "--oneline"], cwd=dest, capture_output=True, text=True)
    assert log.returncode == 0 and log.stdout.count("\n") == 1
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=dest, capture_output=True, text=True
    )
    assert status.stdout == ""


def test_new_no_git(tmp_path):
    dest = tmp_path / "p"
    assert invoke("new", dest, "--defaults", "--no-git").exit_code == 0
    assert not (dest / ".git").exists()


def test_typed_flags_set_and_answers_file_precedence(tmp_path):
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text("precision: fp16\naccum_steps: 2\noptimizer: sgd\n")
    dest = tmp_path / "p"
    result = invoke(
        "new",
        dest,
        "--defaults",
        "--no-git",
        "--answers",
        answers_file,
        "--set",
        "accum_steps=4",
        "--set",
        "precision=bf16",
        "--precision",
        "fp16",
        "--scheduler",
        "onecycle",
        "--no-batchnorm",
        "--deterministic",
    )
    assert result.exit_code == 0, result.output
    answers = answers_of(dest)
    assert answers["precision"] == "fp16"  # flag beats --set beats file
    assert answers["accum_steps"] == 4  # --set beats file
    assert answers["optimizer"] == "sgd" and answers["lr"] == 0.1  # file; dependent default
    assert answers["scheduler_cadence"] == "step" and answers["deterministic"] is True
    train = (dest / "train.py").read_text()
    assert "GradScaler" in train and "OneCycleLR" in train and "window_targets" in train


BAD_INPUTS = [
    (["--precision", "fp8"], "precision"),
    (["--accum-steps", "0"], "accum_steps"),
    (["--set", "accum_steps=many"], "accum_steps"),
    (["--scheduler", "plateau", "--scheduler-cadence", "step"], "scheduler_cadence"),
    (["--scheduler", "onecycle", "--scheduler-cadence", "epoch"], "scheduler_cadence"),
    (["--set", "lr=-1"], "lr"),
    (["--set", "lr=inf"], "lr"),
    (["--set", "epochs=0"], "epochs"),
    (["--set", "batch_size=1e9"], "batch_size"),
    (["--set", "dropout=1.5"], "dropout"),
    (["--set", "grad_clip=-1"], "grad_clip"),
    (["--set", "seed=-3"], "seed"),
    (["--set", "early_stopping=-1"], "early_stopping"),
    (["--set", "momentum=0.5"], "momentum"),
    (["--set", "nope=1"], "nope"),
    (["--set", "novalue"], "--set"),
    (["--set", "project_name=bad name"], "project_name"),
    (["--set", 'project_name=x"""; import os'], "project_name"),
    (["--data", "csv", "--set", "csv_path=a'); import os; ('"], "csv_path"),
    (["--data", "csv", "--set", "label_column=a\nb"], "label_column"),
    (["--compile", "fast"], "compile"),
    (["--checkpoint", "all"], "checkpoint"),
    (["--monitor", "val_f1"], "monitor"),
    (["--annotations", "loud"], "annotations"),
    (["--val-mode", "off"], "val_mode"),
    (["--set", "deterministic=perhaps"], "deterministic"),
]


@pytest.mark.parametrize(
    "args, key", BAD_INPUTS, ids=[k + str(i) for i, (_, k) in enumerate(BAD_INPUTS)]
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, key):
    dest = tmp_path / "p"
    result = invoke("new", dest, "--defaults", "--no-git", *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {key}"), result.output
    assert "Traceback" not in result.output
    assert not dest.exists()


@pytest.mark.parametrize(
    "content, message",
    [(None, "cannot read"), ("a: [1, 2\n", "not valid YAML"), ("- a\n- b\n", "mapping")],
)
def test_bad_answers_file(tmp_path, content, message):
    path = tmp_path / "answers.yml"
    if content is not None:
        path.write_text(content)
    result = invoke("new", tmp_path / "p", "--defaults", "--answers", path)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "p").exists()


def test_non_empty_dest_is_refused_and_untouched(tmp_path):
    dest = tmp_path / "p"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")
    result = invoke("new", dest, "--defaults", "--no-git")
    assert result.exit_code == 2 and "--force" in result.output
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]
    forced = invoke("new", dest, "--defaults", "--no-git", "--force")
    assert forced.exit_code == 0 and (dest / "train.py").exists() and (dest / "mine.txt").exists()


def test_dest_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    result = invoke("new", path, "--defaults")
    assert result.exit_code == 2 and "not a folder" in result.output


def test_interactive_headline_questions_then_customise_no(tmp_path):
    dest = tmp_path / "p"
    # task, data, precision, accum_steps, scheduler, compile, checkpoint, customise more? (onecycle:
    # no cadence)
    result = invoke("new", dest, "--no-git", input="\n\nbf16\n2\nonecycle\noff\nlast\nn\n")
    assert result.exit_code == 0, result.output
    assert "Customise more" in result.output
    assert "Numeric precision" in result.output  # help text shown
    answers = answers_of(dest)
    assert (answers["precision"], answers["accum_steps"], answers["scheduler"]) == (
        "bf16",
        2,
        "onecycle",
    )
    assert answers["scheduler_cadence"] == "step"  # the only value for onecycle, taken unasked
    assert answers["checkpoint"] == "last" and answers["optimizer"] == "adamw"


def test_interactive_bad_answer_is_asked_again(tmp_path):
    dest = tmp_path / "p"
    answers = "\n\nfp8\nfp16\n0\n1\nplateau\noff\nbest\nn\n"  # task, data defaults; plateau: no cadence
    result = invoke("new", dest, "--no-git", input=answers)
    assert result.exit_code == 0, result.output
    assert result.output.count("invalid:") == 2  # fp8 and 0 were refused
    got = answers_of(dest)
    assert (got["precision"], got["accum_steps"], got["scheduler_cadence"]) == ("fp16", 1, "epoch")


def test_interactive_customise_yes_asks_the_rest(tmp_path):
    dest = tmp_path / "p"
    headline = "\n" * 8  # defaults for the eight headline prompts (task, data, ...)
    more = "y\n\nsgd\n0.05\n"  # customise: yes; monitor default, optimizer sgd, lr 0.05
    rest = "\n" * 40
    result = invoke(
        "new", dest, "--no-git", "--set", "project_name=demo", input=headline + more + rest
    )
    assert result.exit_code == 0, result.output
    got = answers_of(dest)
    assert got["optimizer"] == "sgd" and got["lr"] == 0.05 and got["momentum"] == 0.9


def test_flags_given_are_not_asked(tmp_path):
    dest = tmp_path / "p"
    result = invoke("new", dest, "--no-git", "--precision", "bf16", input="\n" * 7 + "n\n")
    assert result.exit_code == 0, result.output
    assert "Numeric precision" not in result.output and answers_of(dest)["precision"] == "bf16"


def test_end_of_input_exits_2(tmp_path):
    result = invoke("new", tmp_path / "p", "--no-git", input="")
    assert result.exit_code == 2 and "--defaults" in result.output
    assert not (tmp_path / "p").exists()
