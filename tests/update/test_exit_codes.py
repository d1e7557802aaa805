"""docs/errors.md, section "scaffold new / update": every row is run here, and nothing else is there.

Each scenario sets up the mistake, runs the command through Typer's CliRunner and must end with the
documented exit code and, for an error, exactly one `error:` line containing the documented text
(for a success, the text is in the output). The exit-code table must equal `scaffold.cli.errors`.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import Synthetic, commit, git, prepend
from typer.testing import CliRunner

import scaffold.versioning
from scaffold.cli.app import app
from scaffold.cli.errors import EXIT_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
runner = CliRunner()


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## scaffold new / update")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def table_rows(heading: str) -> list[list[str]]:
    part = section().split(heading, 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in part.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows[1:]  # the header


def _unquote(cell: str) -> str:
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell


DOCUMENTED = {row[0]: (int(row[1]), _unquote(row[2])) for row in table_rows("### Scenarios")}


def test_exit_code_table_is_the_one_in_the_code() -> None:
    documented = {
        int(code): meaning for code, meaning in table_rows("### Exit codes of `scaffold`")
    }
    assert documented == EXIT_CODES


def new(*args: object):
    return runner.invoke(app, ["new", *(str(a) for a in args)])


def update(*args: object):
    return runner.invoke(app, ["update", *(str(a) for a in args)])


def _answers(tmp: Path, content: bytes):
    (tmp / "a.yml").write_bytes(content)
    return new(tmp / "p", "--defaults", "--answers", tmp / "a.yml")


BOMB = b'a: &a ["x","x","x","x","x","x","x","x"]\n' + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 8)}]\n".encode()
    for i in range(8)
)


def _user_files(dest: Path) -> Path:
    (dest / "tests").mkdir(parents=True)
    for rel in ("train.py", "README.md", "tests/test_train.py", ".env", "utils.py"):
        (dest / rel).write_text("mine\n")
    return dest


def _readonly(tmp: Path, monkeypatch: pytest.MonkeyPatch):
    mount = tmp / "ro"
    mount.mkdir()
    mounted = (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)]).returncode
        == 0
    )
    if not mounted:  # no permission to mount: the same refusal, through the same check
        import os

        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == mount else real(p, m))
    try:
        return new(mount / "proj", "--defaults")
    finally:
        if mounted:
            subprocess.run(["umount", str(mount)], check=True)


def _interrupted(tmp: Path, monkeypatch: pytest.MonkeyPatch):
    import copier

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(copier, "run_copy", interrupt)
    return new(tmp / "p", "--defaults")


def _mono(tmp: Path):
    mono = tmp / "mono"
    mono.mkdir()
    git(mono, "init", "-q", "-b", "main")
    return mono


def _edit_answers(project: Path, **changes) -> None:
    path = project / ".copier-answers.yml"
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))
    commit(project, "hand edit")


def _in_mono(tmp: Path, monkeypatch: pytest.MonkeyPatch):
    mono = _mono(tmp)
    new(mono / "proj", "--defaults")
    (mono / "other.txt").write_text("x\n")
    commit(mono, "mono")
    (mono / "other.txt").write_text("x\nedited\n")
    monkeypatch.chdir(mono)
    return update("proj", "--set", "precision=bf16")


def _git_mv(project: Path):
    git(project, "mv", "train.py", "main.py")
    commit(project, "rename")
    return update(project, "--set", "precision=bf16")


def _git_rm(project: Path):
    git(project, "rm", "-q", "train.py")
    commit(project, "delete")
    return update(project, "--set", "precision=bf16")


def _binary_answers(project: Path):
    (project / ".copier-answers.yml").write_bytes(bytes(range(256)))
    commit(project, "broken")
    return update(project)


def _dirty(project: Path):
    (project / "train.py").write_text("changed\n")
    return update(project)


def _edited_data_py(project: Path):
    prepend(project / "data.py", "# owner: my own loader tweak")
    commit(project)
    return update(project, "--set", "data=csv")


def _not_git(project: Path):
    import shutil

    shutil.rmtree(project / ".git")
    return update(project)


def _no_answers_up_to_top(tmp: Path):
    mono = _mono(tmp)
    (mono / "sub").mkdir()
    return update(mono / "sub")


def _conflict(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    synthetic: Synthetic = request.getfixturevalue("synthetic")
    project: Path = request.getfixturevalue("v1_copy")
    monkeypatch.setattr(scaffold.versioning, "BUNDLE_PATH", synthetic.bundle)
    prepend(project / "train.py", "# owner: my own header")
    commit(project)
    return update(project)


def _from_tests(project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project / "tests")
    return update("--set", "precision=bf16")


Scenario = Callable[[Path, pytest.MonkeyPatch, pytest.FixtureRequest], object]


def _project(run: Callable[[Path], object]) -> Scenario:
    return lambda tmp, mp, request: run(request.getfixturevalue("current_copy"))


SCENARIOS: dict[str, Scenario] = {
    "`new --answers` a binary file": lambda t, mp, r: _answers(t, bytes(range(256)) * 4),
    "`new --answers` a latin-1 file": lambda t, mp, r: _answers(
        t, "project_name: caf\xe9\n".encode("latin-1")
    ),
    "`new --answers` a file with NUL bytes": lambda t, mp, r: _answers(t, b"precision: fp32\x00\n"),
    "`new --answers` 5,000 levels of nesting": lambda t, mp, r: _answers(
        t, b"[" * 5000 + b"]" * 5000
    ),
    "`new --answers` a YAML alias bomb": lambda t, mp, r: _answers(t, BOMB),
    "`new --answers` a file over 64 KB": lambda t, mp, r: _answers(t, b"#" * 70_000),
    "`new --answers` a file that is not YAML": lambda t, mp, r: _answers(
        t, b"a: 1\nprecision: [fp32\n"
    ),
    "`new --answers` a YAML list": lambda t, mp, r: _answers(t, b"- precision\n"),
    "`new --answers` a missing file": lambda t, mp, r: new(
        t / "p", "--defaults", "--answers", t / "no.yml"
    ),
    "`new --set accum_steps=$'4\\n'`": lambda t, mp, r: new(
        t / "p", "--defaults", "--set", "accum_steps=4\n"
    ),
    "`new --precision fp8`": lambda t, mp, r: new(t / "p", "--defaults", "--precision", "fp8"),
    "`new --set precison=bf16`": lambda t, mp, r: new(
        t / "p", "--defaults", "--set", "precison=bf16"
    ),
    "`new DEST` with DEST not empty": lambda t, mp, r: new(_user_files(t / "p"), "--defaults"),
    "`new FILE/proj` (DEST under a file)": lambda t, mp, r: (
        (t / "f").write_text("x"),
        new(t / "f" / "proj", "--defaults"),
    )[1],
    "`new LINK` (a dangling symbolic link)": lambda t, mp, r: (
        (t / "link").symlink_to(t / "gone"),
        new(t / "link", "--defaults"),
    )[1],
    "`new` with a 300-character name": lambda t, mp, r: new(t / ("x" * 300), "--defaults"),
    "`new` on a read-only filesystem": lambda t, mp, r: _readonly(t, mp),
    "`new DEST --force` with a folder where the project writes a file": lambda t, mp, r: (
        (t / "p" / "README.md").mkdir(parents=True),
        new(t / "p", "--defaults", "--force"),
    )[1],
    "`new` interrupted by Ctrl-C while rendering": lambda t, mp, r: _interrupted(t, mp),
    "`new café`": lambda t, mp, r: new(t / "café", "--defaults"),
    "`new DEST --force` over the user's files": lambda t, mp, r: new(
        _user_files(t / "p"), "--defaults", "--force"
    ),
    "`new DEST --force --pretend`": lambda t, mp, r: new(
        _user_files(t / "p"), "--defaults", "--force", "--pretend"
    ),
    "`new mono/proj` inside a repository": lambda t, mp, r: new(_mono(t) / "proj", "--defaults"),
    "`update` with uncommitted changes in the project": _project(_dirty),
    "`update` with a hand-edited `accum_steps: 0`": _project(
        lambda p: (_edit_answers(p, accum_steps=0), update(p))[1]
    ),
    "`update` with a binary answers file": _project(_binary_answers),
    "`update --set precision=bf16` after `git mv train.py main.py`": _project(_git_mv),
    "`update --set precision=bf16` after `git rm train.py`": _project(_git_rm),
    "`update --set precision=fp8`": _project(lambda p: update(p, "--set", "precision=fp8")),
    "`update --set task=lm`": _project(lambda p: update(p, "--set", "task=lm")),
    "`update --set data=csv` after editing `data.py`": _project(_edited_data_py),
    "`update --set data=csv` with `data.py` as generated": _project(
        lambda p: update(p, "--set", "data=csv")
    ),
    "`update` in a folder with no answers file up to the repository's top": lambda t, mp, r: _no_answers_up_to_top(
        t
    ),
    "`update` outside a git repository": _project(_not_git),
    "`update` of a project newer than this scaffold": _project(
        lambda p: (_edit_answers(p, _commit="99.0.0"), update(p))[1]
    ),
    "`update` where the owner and the template changed the same lines": lambda t, mp, r: _conflict(
        r, mp
    ),
    "`update` run from the project's `tests/` folder": lambda t, mp, r: _from_tests(
        r.getfixturevalue("current_copy"), mp
    ),
    "`update` of a project inside a larger repository": lambda t, mp, r: _in_mono(t, mp),
}


def test_every_documented_scenario_is_run_and_every_run_is_documented() -> None:
    assert sorted(DOCUMENTED) == sorted(SCENARIOS)


@pytest.mark.parametrize("mistake", list(SCENARIOS))
def test_scenario_ends_as_documented(
    mistake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    code, text = DOCUMENTED[mistake]
    result = SCENARIOS[mistake](tmp_path, monkeypatch, request)
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    if code in (0, 3):
        assert text in result.output, result.output
        return
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and text in errors[0], result.stderr
    assert not re.search(r"^(?!error: |replacing |  ).+", result.stderr, re.M), result.stderr
    if mistake.startswith("`new"):  # nothing written: no project, no temporary folder
        written = [p.name for p in tmp_path.rglob("*") if p.name.startswith(".scaffold-new-")]
        written += [
            p.name for p in tmp_path.rglob(".copier-answers.yml")
        ]  # only scaffold writes it
        assert written == [], written
