"""`scaffold update` on the command line: refusals (exit 2, one line, nothing touched), conflicts, answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import V2_TRAIN_LINE, Synthetic, commit, git, prepend, snapshot
from typer.testing import CliRunner

import scaffold.versioning
from scaffold.cli.app import app
from scaffold.options import AnswerError, load_questions
from scaffold.update import resolve_update_answers

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["update", *args])


def _edit_answers(dest: Path, **changes) -> None:
    path = dest / ".copier-answers.yml"
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data))
    commit(dest, "hand-edited answers")


def _dirty_modified(dest: Path) -> None:
    (dest / "train.py").write_text((dest / "train.py").read_text() + "# uncommitted\n")


def _dirty_untracked(dest: Path) -> None:
    (dest / "scratch.py").write_text("x = 1\n")


def _no_answers(dest: Path) -> None:
    (dest / ".copier-answers.yml").unlink()
    commit(dest, "drop answers")


def _no_version(dest: Path) -> None:  # e.g. a plain `copier copy templates/project`
    _edit_answers(dest, _commit=None)


def _newer(dest: Path) -> None:
    _edit_answers(dest, _commit="99.0.0")


def _unknown(dest: Path) -> None:
    _edit_answers(dest, _commit="0.0.1")


def _unknown_describe(dest: Path) -> None:  # copier's describe form for an untagged commit
    _edit_answers(dest, _commit="0.1.0-3-g1234567")


def _other_template(dest: Path) -> None:
    _edit_answers(dest, _src_path="https://example.com/other-template.git")


def _not_git(dest: Path) -> None:
    shutil.rmtree(dest / ".git")


REFUSALS = {
    "dirty-modified": (_dirty_modified, [], "uncommitted changes"),
    "dirty-untracked": (_dirty_untracked, [], "uncommitted changes"),
    "no-answers-file": (_no_answers, [], "no .copier-answers.yml"),
    "no-recorded-version": (_no_version, [], "records no template version"),
    "newer-than-tool": (_newer, [], "newer than this scaffold"),
    "unknown-version": (_unknown, [], "unknown to this scaffold"),
    "unknown-describe-version": (_unknown_describe, [], "unknown to this scaffold"),
    "other-template": (_other_template, [], "plain `copier update`"),
    "not-a-git-repo": (_not_git, [], "not in a git repository"),
    "bad-answer": (
        lambda d: None,
        ["--set", "precision=fp8"],
        "precision: 'fp8' is not one of fp32, bf16, fp16",
    ),
    "unknown-key": (lambda d: None, ["--set", "precison=bf16"], "did you mean precision"),
    "bad-pair": (
        lambda d: None,
        ["--set", "scheduler=onecycle", "--set", "scheduler_cadence=epoch"],
        "onecycle",
    ),
    "not-applicable": (lambda d: None, ["--set", "momentum=0.5"], "does not apply"),
    "malformed-set": (lambda d: None, ["--set", "precision"], "expected KEY=VALUE"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal_exits_2_with_one_line_and_touches_nothing(case: str, current_copy: Path) -> None:
    prepare, args, expected = REFUSALS[case]
    prepare(current_copy)
    before = snapshot(current_copy)
    result = _run(str(current_copy), *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(current_copy) == before


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_up_to_date_project_is_a_no_op(current_copy: Path) -> None:
    before = snapshot(current_copy)
    result = _run(str(current_copy))
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.stdout
    assert snapshot(current_copy) == before


def test_dest_defaults_to_the_current_folder(
    current_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(current_copy)
    _no_answers(current_copy)
    result = _run()
    assert result.exit_code == 2 and "no .copier-answers.yml" in result.stderr


def test_cli_conflict_lists_files_explains_and_exits_3(
    synthetic: Synthetic, v1_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scaffold.versioning, "BUNDLE_PATH", synthetic.bundle)
    prepend(v1_copy / "train.py", "# owner: my own header")
    commit(v1_copy)
    result = _run(str(v1_copy))
    assert result.exit_code == 3, result.output  # written, with conflicts: not a refusal (2)
    assert "template 0.1.0 -> 0.3.0" in result.stdout
    assert "conflicts in 1 file(s)" in result.stderr and "  train.py" in result.stderr.splitlines()
    assert "<<<<<<< before updating" in result.stderr
    # The advertised undo, run as printed, restores the committed project exactly.
    undo = result.stderr.split("undo the whole update: ", 1)[1].splitlines()[0]
    assert "-- ." in undo and "reset --hard" not in undo
    subprocess.run(undo, shell=True, check=True, capture_output=True)
    assert git(v1_copy, "status", "--porcelain") == ""
    assert not (v1_copy / "NOTES.md").exists()


def test_cli_answer_change_rerenders_keeps_edits_and_project_tests_pass(current_copy: Path) -> None:
    """`--set precision=bf16`: new code arrives, the owner's edits stay, the project's own tests pass."""
    train = current_copy / "train.py"
    train.write_text(train.read_text() + "\n# owner: keep me\n")
    (current_copy / "tests" / "test_owner.py").write_text(
        "def test_owner():\n    assert 1 + 1 == 2\n"
    )
    commit(current_copy)

    result = _run(str(current_copy), "--set", "precision=bf16")
    assert result.exit_code == 0, result.output
    assert "precision: fp32 -> bf16" in result.stdout and "diff HEAD -- ." in result.stdout
    answers = yaml.safe_load((current_copy / ".copier-answers.yml").read_text())
    assert answers["precision"] == "bf16"
    text = train.read_text()
    assert "bfloat16" in text and text.rstrip().endswith("# owner: keep me")
    assert (current_copy / "tests" / "test_owner.py").exists()

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=current_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


# Answer resolution (no copier, no git): --set is strict, recorded answers give way.


def _questions():
    return load_questions()


def test_recorded_answer_that_no_longer_applies_is_dropped() -> None:
    last = {"project_name": "demo", "scheduler": "cosine", "scheduler_cadence": "step"}
    answers = resolve_update_answers(_questions(), last, {"scheduler": "none"})
    assert answers["scheduler"] == "none" and "scheduler_cadence" not in answers


def test_recorded_answer_made_invalid_by_a_change_takes_its_default() -> None:
    last = {"project_name": "demo", "scheduler": "cosine", "scheduler_cadence": "step"}
    answers = resolve_update_answers(_questions(), last, {"scheduler": "plateau"})
    assert answers["scheduler_cadence"] == "epoch"


def test_removed_question_is_forgotten_and_set_is_strict() -> None:
    last = {"project_name": "demo", "gone_in_this_version": 3}
    assert "gone_in_this_version" not in resolve_update_answers(_questions(), last, {})
    with pytest.raises(AnswerError, match="scheduler_cadence"):
        resolve_update_answers(
            _questions(), last, {"scheduler": "plateau", "scheduler_cadence": "step"}
        )


def test_cli_update_reports_versions_and_new_answers(
    synthetic: Synthetic, v1_copy: Path, monkeypatch
) -> None:
    """Non-interactive (no terminal): the new question takes its default, nothing is committed."""
    monkeypatch.setattr(scaffold.versioning, "BUNDLE_PATH", synthetic.bundle)
    head = git(v1_copy, "rev-parse", "HEAD")
    result = _run(str(v1_copy))
    assert result.exit_code == 0, result.output
    assert (
        "template 0.1.0 -> 0.3.0" in result.stdout and "log_every: (unset) -> 10" in result.stdout
    )
    assert (v1_copy / "train.py").read_text().startswith(V2_TRAIN_LINE)
    assert git(v1_copy, "rev-parse", "HEAD") == head and git(v1_copy, "status", "--porcelain")


def test_cli_asks_only_the_new_question_at_a_terminal(
    synthetic: Synthetic, v1_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scaffold.cli.update as cli_update

    monkeypatch.setattr(scaffold.versioning, "BUNDLE_PATH", synthetic.bundle)
    monkeypatch.setattr(cli_update, "_interactive", lambda: True)
    result = runner.invoke(app, ["update", str(v1_copy)], input="0\n25\n")
    assert result.exit_code == 0, result.output
    assert "Print a progress line every N optimizer steps" in result.stdout
    assert "invalid: log_every: must be at least 1" in result.stderr  # a bad answer is asked again
    for other in ("precision", "scheduler", "optimizer"):
        assert f"{other} (" not in result.stdout and f"\n{other}:" not in result.stdout
    assert (v1_copy / "NOTES.md").read_text() == "Progress every 25 steps.\n"
    assert "log_every: (unset) -> 25" in result.stdout


def test_new_question_is_asked_once_even_when_a_recorded_answer_gives_way() -> None:
    from scaffold.options import Question

    questions = (
        Question(name="extra", type="int", help="new in this version", default=3),
        *_questions(),
    )
    asked = []

    def ask(question, default, context):
        asked.append(question.name)
        return default

    from scaffold.options import resolve_answers

    last = resolve_answers(
        {"project_name": "demo", "scheduler": "cosine", "scheduler_cadence": "step"}
    )
    answers = resolve_update_answers(questions, last, {"scheduler": "plateau"}, ask)
    assert asked == ["extra"] and answers["extra"] == 3 and answers["scheduler_cadence"] == "epoch"
