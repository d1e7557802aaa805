"""The CLI feels native: help panels, -h, completion, prompts, summary, confirmation, lazy imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scaffold.cli import new as cli_new
from scaffold.cli.app import COMMANDS, app
from scaffold.options import load_questions

runner = CliRunner()
WIDE = {"COLUMNS": "200", "TERM": "dumb"}  # one help row per flag, no wrapping, no colour


def invoke(*args, input=None, env=None):
    return runner.invoke(app, [str(a) for a in args], input=input, env=env or WIDE)


def answers_of(dest: Path) -> dict:
    return yaml.safe_load((dest / ".copier-answers.yml").read_text())


def panels(text: str) -> list[str]:
    return re.findall(r"╭─ (.+?) ─", text)


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["new"], ["update"], ["teach"], ["check"], ["options"]])
def test_dash_h_is_help(command):
    short, long = invoke(*command, "-h"), invoke(*command, "--help")
    assert short.exit_code == long.exit_code == 0
    assert short.output == long.output and "Usage: scaffold" in short.output


def test_top_level_help_lists_commands_completion_and_examples():
    out = invoke("--help").output
    for name in COMMANDS:
        assert re.search(rf"│ {name}\s+\S", out), name
    assert "--install-completion" in out and "--show-completion" in out
    assert "Examples" in out and "scaffold new demo --defaults" in out


def test_new_help_groups_the_questions_in_panels_from_copier_yml():
    out = invoke("new", "--help").output
    titles = panels(out)
    expected = [cli_new.PANELS[g] for g in cli_new.PANELS]
    assert titles[-len(expected) :] == expected, titles
    # each flag sits in the panel of its copier.yml group
    blocks = dict(zip(titles, re.split(r"╭─ .+? ─+╮", out)[1:], strict=True))
    for q in load_questions():
        panel = cli_new.PANELS[q.group]
        assert f"--{q.name.replace('_', '-')} " in blocks[panel], (q.name, panel)


def test_new_help_shows_ranges_defaults_choices_and_examples():
    out = invoke("new", "--help").output
    assert "Valid: between 1 and 1024. Default: 1." in out  # accum_steps, from its validator
    assert "Valid: > 0 and <= 10. Default: 0.01 (depends on earlier answers)" in out  # lr
    assert "fp32|bf16|fp16" in out
    assert "One of: none, cosine, warmup_cosine, onecycle, step, plateau." in out
    assert "Default: DEST's folder name." in out and "Default: my_training_project" not in out
    assert "scaffold new demo --precision bf16 --accum-steps 4" in out


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("new", "scaffold new [OPTIONS] DEST"),
        ("update", "scaffold update [OPTIONS] [DEST]"),
        ("teach", "scaffold teach [OPTIONS] [BUG_ID] [DEST]"),
        ("check", "scaffold check [OPTIONS] PATH..."),
    ],
)
def test_usage_lines_and_rows_have_no_placeholders(command, usage):
    out = invoke(command, "--help").output
    assert f"Usage: {usage}" in out
    for junk in ("{", "[[", "<list[", "<path>", "<bool>", "<text>"):
        assert junk not in out, (command, junk)


def test_help_fits_100_columns():
    for command in ([], ["new"], ["check"]):
        out = invoke(*command, "--help", env={"COLUMNS": "100", "TERM": "dumb"}).output
        assert max(len(line) for line in out.splitlines()) <= 100


# --- completion -------------------------------------------------------------------------------


def complete(words: str) -> list[str]:
    env = {**os.environ, "_SCAFFOLD_COMPLETE": "complete_bash", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    scaffold = Path(sys.executable).with_name("scaffold")
    done = subprocess.run([str(scaffold)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_of_commands_flags_and_choices():
    assert complete("scaffold ne") == ["new"]
    assert complete("scaffold new x --accum") == ["--accum-steps"]
    assert complete("scaffold new x --precision ") == ["fp32", "bf16", "fp16"]
    assert complete("scaffold new x --scheduler w") == ["warmup_cosine"]


def test_show_completion_prints_a_script_for_the_shell():
    result = invoke("--show-completion", "bash")
    assert result.exit_code == 0 and "_SCAFFOLD_COMPLETE" in result.output


# --- scaffold options -------------------------------------------------------------------------


def test_options_text_fits_100_columns_and_json_choices_are_lists():
    text = invoke("options").output
    assert max(len(line) for line in text.splitlines()) <= 100
    rows = {r["key"]: r for r in json.loads(invoke("options", "--format", "json").output)}
    for q in load_questions():
        assert rows[q.name]["choices"] == (list(q.choices) if q.choices is not None else None)
        assert rows[q.name]["group"] == q.group
    assert rows["accum_steps"]["valid"] == "between 1 and 1024"


# --- prompts ----------------------------------------------------------------------------------


def test_choices_are_case_insensitive_and_plateau_asks_no_cadence(tmp_path):
    dest = tmp_path / "p"
    # task, data (csv: its path and label column follow), precision, accum_steps, scheduler,
    # (cadence not asked), compile, checkpoint, customise?
    answers = "Tabular\nCSV\nmine.csv\n\nBF16\n1\nPlateau\nOFF\nBest\nn\n"
    result = invoke("new", dest, "--no-git", input=answers)
    assert result.exit_code == 0, result.output
    assert "scheduler_cadence (" not in result.output
    assert "scheduler_cadence: epoch (the only value" in result.output
    got = answers_of(dest)
    assert (got["precision"], got["scheduler"], got["scheduler_cadence"]) == ("bf16", "plateau", "epoch")
    assert (got["compile"], got["checkpoint"]) == ("off", "best")
    assert (got["data"], got["csv_path"], got["label_column"]) == ("csv", "mine.csv", "label")


def test_cosine_still_asks_the_cadence(tmp_path):
    result = invoke("new", tmp_path / "p", "--no-git", input="\n\n\n\n\nstep\n\n\nn\n")
    assert result.exit_code == 0, result.output
    assert "scheduler_cadence (epoch, step)" in result.output
    assert answers_of(tmp_path / "p")["scheduler_cadence"] == "step"


def test_summary_lists_every_answer_and_marks_changes(tmp_path):
    result = invoke("new", tmp_path / "my proj", "--no-git", input="\n\nfp16\n\n\n\n\n\nn\n")
    assert result.exit_code == 0, result.output
    summary = result.output.split("will be written with")[1].split("created")[0]
    for key in answers_of(tmp_path / "my proj"):
        if not key.startswith("_"):
            assert re.search(rf"^ [ *] {key}\s", summary, re.M), key
    assert re.search(r"^ \* precision\s+fp16$", summary, re.M)
    assert re.search(r"^   project_name\s+my_proj$", summary, re.M)  # DEST's name is the default
    assert re.search(r"^   accum_steps\s+1$", summary, re.M)


def test_confirmation_on_a_terminal_no_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_new, "_interactive", lambda: True)
    dest = tmp_path / "p"
    result = invoke("new", dest, "--no-git", input="\n" * 8 + "n\nn\n")
    assert result.exit_code == 2 and "Write it?" in result.output
    assert "nothing written" in result.output and not dest.exists()


def test_confirmation_yes_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_new, "_interactive", lambda: True)
    result = invoke("new", tmp_path / "p", "--no-git", input="\n" * 8 + "n\ny\n")
    assert result.exit_code == 0 and "Write it?" in result.output
    assert (tmp_path / "p" / "train.py").is_file()


def test_yes_skips_the_confirmation(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_new, "_interactive", lambda: True)
    result = invoke("new", tmp_path / "p", "--no-git", "-y", input="\n" * 8 + "n\n")
    assert result.exit_code == 0, result.output
    assert "Write it?" not in result.output and "will be written with" in result.output


def test_a_refused_destination_is_refused_before_any_question(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = invoke("new", tmp_path, "--no-git", input="\n" * 10)
    assert result.exit_code == 2 and "not empty" in result.output
    assert "Numeric precision" not in result.output


def test_defaults_ask_nothing_and_print_no_summary(tmp_path):
    result = invoke("new", tmp_path / "p", "--defaults", "--no-git")
    assert result.exit_code == 0 and "will be written" not in result.output


def test_next_hint_quotes_a_path_with_spaces(tmp_path):
    dest = tmp_path / "with space"
    result = invoke("new", dest, "--defaults", "--no-git")
    assert result.exit_code == 0
    assert f"next: cd '{dest}' && python train.py --dry-run" in result.output


def test_next_hint_says_what_to_install_when_torch_is_missing(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    result = invoke("new", tmp_path / "p", "--defaults", "--no-git")
    assert result.exit_code == 0, result.output
    hint = [line for line in result.output.splitlines() if line.startswith("next:")]
    assert hint and 'python -m pip install -e ".[test]" && python train.py' in hint[0]
    assert "torch is not installed here" in hint[0]


# --- the real terminal ------------------------------------------------------------------------


def spawn_new(pexpect, dest):
    """`scaffold new DEST --no-git` on a real pseudo-terminal, 100 columns, no colour."""
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb"}
    return pexpect.spawn(
        sys.executable, ["-m", "scaffold", "new", str(dest), "--no-git"], env=env, encoding="utf-8",
        timeout=60,
    )


def test_real_prompts_in_a_pseudo_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    dest = tmp_path / "pty project"
    child = spawn_new(pexpect, dest)
    try:
        child.expect_exact("task (tabular, image, lm) [tabular]:")
        child.sendline("")
        child.expect_exact("data (spiral, csv) [spiral]:")  # right after task: its choices
        child.sendline("")
        child.expect_exact("precision (fp32, bf16, fp16) [fp32]:")
        child.sendline("Bf16")
        child.expect_exact("accum_steps [1]:")
        child.sendline("0")  # out of range: asked again
        child.expect("invalid: accum_steps: must be between 1 and 1024")
        child.expect_exact("accum_steps [1]:")
        child.sendline("2")
        child.expect_exact("[cosine]:")
        child.sendline("onecycle")
        child.expect_exact("scheduler_cadence: step (the only value")
        child.expect_exact("[off]:")
        child.sendline("")
        child.expect_exact("[best_and_last]:")
        child.sendline("")
        child.expect_exact("Customise more")
        child.sendline("n")
        child.expect(r"\* accum_steps\s+2")
        child.expect_exact("Write it? [Y/n]:")
        child.sendline("y")
        child.expect_exact("created")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    got = answers_of(dest)
    assert (got["precision"], got["accum_steps"], got["scheduler_cadence"]) == ("bf16", 2, "step")


@pytest.mark.parametrize("where", ["first question", "write it?"])
def test_ctrl_c_at_a_prompt_exits_130_in_one_line(tmp_path, where):
    pexpect = pytest.importorskip("pexpect")
    dest = tmp_path / "interrupted"
    child = spawn_new(pexpect, dest)
    try:
        child.expect_exact("task (tabular, image, lm) [tabular]:")
        if where == "write it?":
            for _ in range(12):  # accept every default until the confirmation
                child.sendline("")
                if child.expect_exact(["Write it? [Y/n]:", "]:", "[y/N]:"]) == 0:
                    break
            else:
                raise AssertionError("never reached the confirmation")
        child.sendintr()
        child.expect(pexpect.EOF)
        tail = child.before
    finally:
        child.close()
    assert child.exitstatus == 130, tail
    lines = [line for line in tail.splitlines() if line.strip()]
    assert lines[-1].endswith(f"error: interrupted: nothing was written to {dest}"), tail
    assert "Traceback" not in tail and "input ended" not in tail
    assert not dest.exists()


# --- speed: only what a command needs is imported -----------------------------------------------

HEAVY = ("copier", "black", "jinja2", "yaml", "plumbum", "pydantic", "torch", "scaffold.check")


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"]])
def test_top_level_help_and_version_import_no_command(argv):
    code = (
        "import sys\n"
        "from scaffold.cli.app import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith('scaffold.check')]\n"
        "commands = [m for m in sys.modules if m.startswith('scaffold.cli.') and m != 'scaffold.cli.app']\n"
        "print(sorted(heavy), sorted(commands))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[] []"


def test_new_help_imports_neither_copier_nor_black():
    code = (
        "import sys\n"
        "from scaffold.cli.app import app\n"
        "try:\n"
        "    app(['new', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('copier', 'black', 'torch', 'scaffold.check') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
