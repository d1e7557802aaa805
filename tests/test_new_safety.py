"""`scaffold new` never loses, reformats, commits or leaves behind a file it did not write.

Over a folder of the user's files (`--force`), inside an existing repository, when interrupted, and
for every destination or answers file it cannot use: one `error:` line, exit 2, nothing written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import scaffold.options
import scaffold.render
from scaffold.cli.app import app
from scaffold.render import owned_files

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
OWNED = set(owned_files())


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def git(cwd: Path, *args: str) -> str:
    ident = ["-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgsign=false"]
    proc = subprocess.run(["git", *ident, *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def files_of(root: Path) -> dict[str, bytes]:
    """Every file under root, .git included (a refused command must leave all of it as it was)."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def assert_refused(result, expected: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output


USER_FILES = {
    "train.py": "print('my own training script')\n",
    "README.md": "# my notes\n",
    "tests/test_train.py": "def test_mine():\n    assert True\n",
    "utils.py": "x = [1,2]   # not black-formatted, and must stay so\n",
    "broken.py": "def f(:\n",  # does not parse: must not matter
    ".env": "API_KEY=secret\n",
    "wip.txt": "work in progress\n",
}


def user_folder(root: Path) -> Path:
    for rel, text in USER_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_force_lists_what_it_replaces_and_touches_nothing_else(tmp_path: Path) -> None:
    dest = user_folder(tmp_path / "work")
    before = files_of(dest)

    pretend = invoke("new", dest, "--defaults", "--force", "--pretend")
    assert pretend.exit_code == 0, pretend.output
    assert files_of(dest) == before and not (dest / ".git").exists()  # --pretend writes nothing
    for rel in ("train.py", "README.md", "tests/test_train.py"):
        assert f"replace {rel}" in pretend.stdout
    assert "create  pyproject.toml" in pretend.stdout and "utils.py" not in pretend.stdout
    assert "sample.py" not in pretend.stdout  # only the lm task writes it

    result = invoke("new", dest, "--defaults", "--force")
    assert result.exit_code == 0, result.output
    listed = result.stderr.splitlines()
    assert listed[0] == f"replacing 3 existing file(s) in {dest}:"
    assert sorted(line.strip() for line in listed[1:]) == [
        "README.md",
        "tests/test_train.py",
        "train.py",
    ]
    after = files_of(dest)
    for rel in ("utils.py", "broken.py", ".env", "wip.txt"):  # the user's own files, byte for byte
        assert after[rel] == before[rel], rel
    assert "my own training script" not in (dest / "train.py").read_text()
    # A new repository whose one commit holds exactly the template's files.
    committed = set(git(dest, "ls-tree", "-r", "--name-only", "HEAD").splitlines())
    assert committed == OWNED
    untracked = set(git(dest, "ls-files", "--others").splitlines())
    assert {".env", "wip.txt", "utils.py", "broken.py"} <= untracked


def test_existing_repository_index_and_history_are_left_alone(tmp_path: Path) -> None:
    dest = user_folder(tmp_path / "repo")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "README.md")
    git(dest, "commit", "-q", "-m", "mine")
    (dest / "README.md").write_text("# my notes, edited and staged\n")
    git(dest, "add", "README.md", "utils.py")
    head, index = git(dest, "rev-parse", "HEAD"), git(dest, "ls-files", "--stage")

    result = invoke("new", dest, "--defaults", "--force")
    assert result.exit_code == 0, result.output
    assert "not committed" in result.stdout and "index scaffold leaves alone" in result.stdout
    assert git(dest, "rev-parse", "HEAD") == head
    assert git(dest, "ls-files", "--stage") == index  # the staged change and utils.py, untouched
    assert (dest / ".env").read_text() == USER_FILES[".env"]


def test_inside_a_larger_repository_no_nested_repo_and_the_hint_commits_only_the_project(
    tmp_path: Path,
) -> None:
    mono = tmp_path / "mono"
    mono.mkdir()
    git(mono, "init", "-q", "-b", "main")
    (mono / "other.txt").write_text("one\n")
    git(mono, "add", "other.txt")
    git(mono, "commit", "-q", "-m", "init")
    (mono / "other.txt").write_text("one\nstaged edit\n")
    git(mono, "add", "other.txt")

    result = invoke("new", mono / "proj", "--defaults")
    assert result.exit_code == 0, result.output
    assert not (mono / "proj" / ".git").exists()
    hint = result.stdout.split("to commit just the project's files: ", 1)[1].rsplit(")", 1)[0]
    subprocess.run(hint, shell=True, check=True, cwd=tmp_path, capture_output=True)
    committed = git(mono, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(committed) == sorted(f"proj/{rel}" for rel in OWNED)
    assert git(mono, "diff", "--cached", "--name-only").split() == ["other.txt"]  # still staged


def _interrupting_copy(*args, **kwargs):
    """copier writes part of the project, then Ctrl-C arrives."""
    stage = Path(args[1])
    (stage / "train.py").write_text("half")
    raise KeyboardInterrupt


@pytest.mark.parametrize("layout", ["missing", "missing-parents", "empty", "user-files"])
def test_ctrl_c_during_render_leaves_nothing_behind(
    tmp_path: Path, monkeypatch, layout: str
) -> None:
    import copier

    monkeypatch.setattr(copier, "run_copy", _interrupting_copy)
    dest = tmp_path / "a" / "b" / "proj" if layout == "missing-parents" else tmp_path / "proj"
    if layout == "empty":
        dest.mkdir()
    elif layout == "user-files":
        user_folder(dest)
    before = files_of(tmp_path)
    args = ["--force"] if layout == "user-files" else []
    result = invoke("new", dest, "--defaults", *args)
    assert result.exit_code == 130, result.output
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"error: interrupted: nothing was written to {dest}"
    )
    assert "Traceback" not in result.output
    assert files_of(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        [] if layout.startswith("missing") else ["proj"]
    )
    assert dest.exists() == (layout in ("empty", "user-files"))


SIGINT_CHILD = r"""
import sys, time
from pathlib import Path
import copier
real = copier.run_copy
def slow(*args, **kwargs):
    real(*args, **kwargs)          # the whole project is in the temporary folder...
    print("RENDERED", flush=True)
    time.sleep(60)                 # ...and Ctrl-C arrives before it is moved into place
copier.run_copy = slow
from scaffold.cli.app import app
sys.argv = ["scaffold", "new", sys.argv[1], "--defaults"]
app()
"""


def test_real_sigint_leaves_nothing_behind(tmp_path: Path) -> None:
    dest = tmp_path / "proj"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGINT_CHILD, str(dest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    line = ""
    while "RENDERED" not in line and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    assert "RENDERED" in line, proc.stderr.read() if proc.stderr else ""
    assert any(p.name.startswith(".scaffold-new-") for p in tmp_path.iterdir())  # really mid-way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == [f"error: interrupted: nothing was written to {dest}"]
    assert list(tmp_path.iterdir()) == []


# Destinations and answers files scaffold cannot use: one line, exit 2, nothing written.


def _answers(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "answers.yml"
    path.write_bytes(content)
    return path


ALIAS_BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
project_name: *h
"""

BAD_ANSWERS_FILES = {
    "binary": (bytes(range(256)) * 4, "not UTF-8"),
    "png-header": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
    "nul-bytes": (b"precision: fp32\x00\x00\n", "binary file"),
    "latin-1": ("precision: fp32\nproject_name: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    "deep-list": (b"[" * 5000 + b"]" * 5000, "nested deeper"),
    "deep-mapping": (b"a: " + b"{b: " * 5000 + b"1" + b"}" * 5000, "nested deeper"),
    "alias-bomb": (ALIAS_BOMB, "aliases"),
    "huge": (b"# padding\n" * 10_000, "larger than"),
    "not-yaml": (b"precision: [fp32\n", "not valid YAML"),
    "a-list": (b"- precision\n- fp32\n", "must hold a mapping"),
    "a-scalar": (b"fp32\n", "must hold a mapping"),
    "huge-int": (b"accum_steps: " + b"9" * 5000 + b"\n", "holds a value that cannot be read"),
    "mapping-value": (b"precision: {a: 1}\n", "precision"),
    "list-value": (b"accum_steps: [4]\n", "accum_steps"),
    "binary-value": (b"project_name: !!binary aGVsbG8=\n", "project_name"),
    "unknown-key": (b"precison: bf16\n", "did you mean precision"),
    "python-tag": (b"x: !!python/object/apply:os.system [echo pwned]\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS_FILES))
def test_bad_answers_file_is_one_line(tmp_path: Path, case: str) -> None:
    content, expected = BAD_ANSWERS_FILES[case]
    answers = _answers(tmp_path, content)
    dest = tmp_path / "proj"
    started = time.perf_counter()
    result = invoke("new", dest, "--defaults", "--answers", answers)
    assert time.perf_counter() - started < 5  # the bomb is stopped at the first alias past the cap
    assert_refused(result, expected)
    assert not dest.exists()


def test_answers_file_that_is_a_folder_or_missing(tmp_path: Path) -> None:
    assert_refused(
        invoke("new", tmp_path / "p", "--defaults", "--answers", tmp_path), "is a folder"
    )
    assert_refused(
        invoke("new", tmp_path / "p", "--defaults", "--answers", tmp_path / "nope.yml"),
        "cannot read",
    )
    assert not (tmp_path / "p").exists()


def test_dest_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    assert_refused(invoke("new", tmp_path / "notes.txt" / "proj", "--defaults"), "is a file")
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_dest_is_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert_refused(invoke("new", tmp_path / "link", "--defaults"), "does not exist")
    assert not (tmp_path / "nowhere").exists()


def test_dest_is_a_symlink_to_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = invoke("new", tmp_path / "link", "--defaults", "--no-git")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "train.py").is_file()


def test_dest_name_too_long(tmp_path: Path) -> None:
    dest = tmp_path / ("x" * 300)
    assert_refused(invoke("new", dest, "--defaults"), "limited to 255 bytes")
    assert list(tmp_path.iterdir()) == []


def test_dest_name_of_255_bytes_works(tmp_path: Path) -> None:
    """The temporary folder is not named after DEST, so the longest legal name still works."""
    dest = tmp_path / ("x" * 255)
    result = invoke("new", dest, "--defaults", "--no-git")
    assert result.exit_code == 0, result.output
    assert (dest / "train.py").is_file()


def test_dest_on_a_read_only_filesystem(tmp_path: Path) -> None:
    """A real read-only mount (root can write through chmod, not through `ro`)."""
    mount = tmp_path / "ro"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a read-only filesystem here: {proc.stderr.decode().strip()}")
    try:
        assert_refused(invoke("new", mount / "proj", "--defaults"), "not writable")
        assert_refused(invoke("new", mount, "--defaults"), "read-only")
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_write_failure_during_render_is_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    """Whatever the OS refuses mid-way (a full disk, a read-only remount): one line, nothing left."""
    import copier

    def failing_copy(*args, **kwargs):
        (Path(args[1]) / "train.py").write_text("half")
        raise OSError(28, "No space left on device", str(Path(args[1]) / "README.md"))

    monkeypatch.setattr(copier, "run_copy", failing_copy)
    assert_refused(invoke("new", tmp_path / "proj", "--defaults"), "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_dest_where_the_project_needs_a_file_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "p"
    (dest / "train.py").mkdir(parents=True)  # a folder where the template writes a file
    (dest / "tests").parent.mkdir(exist_ok=True)
    assert_refused(invoke("new", dest, "--defaults", "--force"), "train.py")
    assert (dest / "train.py").is_dir() and not (dest / "README.md").exists()


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("café", "cafe"),
        ("Ünïcödé-Prøject", "unicode_prject"),
        ("日本語", "project"),
        ("2024 run", "p_2024_run"),
        ("my-proj", "my_proj"),
        ("9" * 100, "p_" + "9" * 62),
    ],
)
def test_project_name_is_derived_from_any_folder_name(
    tmp_path: Path, folder: str, name: str
) -> None:
    dest = tmp_path / folder
    result = invoke("new", dest, "--defaults", "--no-git")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["project_name"] == name


@pytest.mark.parametrize(
    "assignment",
    [
        "accum_steps=4\n",
        "accum_steps=\n4",
        "precision=fp32\n",
        "lr=0.1\r",
        "deterministic=true\t",
        "seed=1\x00",
    ],
)
def test_set_with_control_characters_is_refused(tmp_path: Path, assignment: str) -> None:
    dest = tmp_path / "p"
    assert_refused(
        invoke("new", dest, "--defaults", "--set", assignment), "printable text on one line"
    )
    assert not dest.exists()


def test_owned_files_is_what_copier_writes(tmp_path: Path) -> None:
    """The one list that decides what new formats, replaces and commits matches the render."""
    result = scaffold.render.render_project(
        {**scaffold.options.default_answers(), "project_name": "p"}, tmp_path / "p", git=False
    )
    written = {
        p.relative_to(tmp_path / "p").as_posix() for p in (tmp_path / "p").rglob("*") if p.is_file()
    }
    assert written == OWNED == set(result.files)


@pytest.mark.parametrize("layout", ["empty", "user-files"])
def test_ctrl_c_while_moving_files_in_puts_everything_back(
    tmp_path: Path, monkeypatch, layout: str
) -> None:
    """Interrupted between two renames into an existing folder: the moved files are taken back."""
    dest = tmp_path / "proj"
    dest.mkdir()
    if layout == "user-files":
        user_folder(dest)
    before = files_of(tmp_path)
    real, calls = os.replace, []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(scaffold.render.os, "replace", flaky_replace)
    args = ["--force"] if layout == "user-files" else []
    result = invoke("new", dest, "--defaults", *args)
    assert result.exit_code == 130, result.output
    assert len(calls) >= 5  # it really was half-way through moving files in
    assert files_of(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


def test_new_in_the_current_empty_folder_keeps_that_folder(tmp_path: Path, monkeypatch) -> None:
    """`scaffold new .` fills the folder the shell is in; it never swaps it for another one."""
    dest = tmp_path / "here"
    dest.mkdir()
    inode = dest.stat().st_ino
    monkeypatch.chdir(dest)
    result = invoke("new", ".", "--defaults", "--no-git")
    assert result.exit_code == 0, result.output
    assert dest.stat().st_ino == inode and Path("train.py").is_file()
    assert yaml.safe_load(Path(".copier-answers.yml").read_text())["project_name"] == "here"


@pytest.mark.parametrize("task", ["tabular", "image", "lm"])
def test_pretend_lists_exactly_the_files_the_render_writes(tmp_path: Path, task: str) -> None:
    """`--pretend` plans with the given answers, not the defaults (lm adds sample.py)."""
    dest = tmp_path / task
    pretend = invoke("new", dest, "--defaults", "--no-git", "--pretend", "--set", f"task={task}")
    assert pretend.exit_code == 0, pretend.output
    listed = sorted(line.split()[-1] for line in pretend.stdout.splitlines()[1:] if line.strip())
    result = invoke("new", dest, "--defaults", "--no-git", "--set", f"task={task}")
    assert result.exit_code == 0, result.output
    assert listed == sorted(files_of(dest)), f"{task}: --pretend and the render disagree"
