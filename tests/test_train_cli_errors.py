"""Every mistake a user can make with a generated train.py ends in one line and a documented exit
code (0 success, 1 a training failure explained in one line, 2 a bad flag, 130 Ctrl-C), and loses
nothing.

Two projects are rendered once per module (default answers, and data=csv). Most scenarios call
`train.main(argv)` in-process (the same code path as `python train.py`, minus interpreter start),
so dozens of them cost seconds; a few real subprocess runs check what only a process shows: the
stderr a user sees, and Ctrl-C. docs/errors.md holds the table of these messages; a test fails
when a scenario is missing from it or its message there differs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import json
import re
import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers import PYTHON, child_env, write_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold.options import question_map, validate

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "1", "--no-progress"]
SPIRAL = ["--samples-per-class", "40"]

# (mistake as the docs table names it, flags, the one line's fragment); all exit 2.
FLAG_CASES = [
    ("--batch-size 0", ["--batch-size", "0"], "argument --batch-size: 0 is outside [1, 65536]"),
    ("--log-every 0", ["--log-every", "0"], "argument --log-every: 0 is outside [1, 1000000]"),
    ("--batch-size -5", ["--batch-size", "-5"], "argument --batch-size: -5 is outside [1, 65536]"),
    ("--lr nan", ["--lr", "nan"], "argument --lr: nan is outside (0, 10]"),
    ("--lr -1", ["--lr", "-1"], "argument --lr: -1.0 is outside (0, 10]"),
    ("--lr inf", ["--lr", "inf"], "argument --lr: inf is outside (0, 10]"),
    ("--lr abc", ["--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
    ("--epochs 0", ["--epochs", "0"], "argument --epochs: 0 is outside [1, 100000]"),
    ("--epochs -1", ["--epochs", "-1"], "argument --epochs: -1 is outside [1, 100000]"),
    ("--epochs 1.5", ["--epochs", "1.5"], "argument --epochs: invalid int value: '1.5'"),
    (
        "--val-fraction -0.5",
        ["--val-fraction", "-0.5"],
        "argument --val-fraction: -0.5 is outside (0, 1)",
    ),
    (
        "--val-fraction 1.0",
        ["--val-fraction", "1.0"],
        "argument --val-fraction: 1.0 is outside (0, 1)",
    ),
    (
        "--val-fraction 1.5",
        ["--val-fraction", "1.5"],
        "argument --val-fraction: 1.5 is outside (0, 1)",
    ),
    (
        "--samples-per-class 0",
        ["--samples-per-class", "0"],
        "argument --samples-per-class: 0 is outside [1, 1000000]",
    ),
    ("--num-workers -1", ["--num-workers", "-1"], "argument --num-workers: -1 is outside [0, 256]"),
    ("--dropout 1.5", ["--dropout", "1.5"], "argument --dropout: 1.5 is outside [0, 1)"),
    ("--hidden 0", ["--hidden", "0"], "argument --hidden: 0 is outside [1, 65536]"),
    ("--grad-clip -1", ["--grad-clip", "-1"], "argument --grad-clip: -1.0 is outside [0, 1000]"),
    ("--seed -1", ["--seed", "-1"], "argument --seed: -1 is outside [0, 4294967295]"),
    ("--device gpu", ["--device", "gpu"], "argument --device: invalid value 'gpu'"),
    (
        "--device cuda:99",
        ["--device", "cuda:99"],
        "argument --device: cuda:99 requested but torch sees",
    ),
    ("--name ../x", ["--name", "../x"], "argument --name: invalid value '../x'"),
    (
        "--bacth-size 8 (a typo)",
        ["--bacth-size", "8"],
        "unrecognized arguments: --bacth-size 8; did you mean --batch-size?",
    ),
    ("--epoch 3 (a typo)", ["--epoch", "3"], "unrecognized arguments: --epoch 3; did you mean --epochs?"),
    ("--res (an abbreviation)", ["--res", "x"], "unrecognized arguments: --res x"),
]

# (mistake, file bytes, fragment after the file name); all exit 1. The label column is "label".
CSV_CASES = [
    ("a short row", b"a,b,label\n1,2,x\n3,y\n", " row 3: 2 cells, but the header has 3 columns"),
    (
        "a latin-1 file",
        "a,b,label\n1,2,caf\xe9\n".encode("latin-1"),
        " row 2, column 'label': byte 0xe9 is not UTF-8 text",
    ),
    ("an empty file", b"", " is empty: expected a header row naming the columns"),
    ("a header and no rows", b"a,b,label\n", ": a header row but no data rows"),
    (
        "only the label column",
        b"label\nx\ny\n",
        " row 1: only the label column 'label', no feature columns",
    ),
    ("an empty label cell", b"a,b,label\n1,2,x\n3,4,\n", " row 3, column 'label': empty label"),
    (
        "a semicolon file without the label",
        b"a;b;klass\n1;2;x\n",
        " row 1: no column named 'label' (--label-column); the header split on ';' gives 'a', 'b', 'klass'",
    ),
    (
        "a NaN cell",
        b"a,b,label\n1,nan,x\n3,4,y\n",
        " row 2, column 'b': 'nan' is not a finite number",
    ),
    (
        "an inf cell",
        b"a,b,label\n1,2,x\n-inf,4,y\n",
        " row 3, column 'a': '-inf' is not a finite number",
    ),
    (
        "a float32 overflow",
        b"a,b,label\n1,2,x\n1e39,4,y\n",
        " row 3, column 'a': the value overflows float32",
    ),
    (
        "a non-numeric cell",
        b"a,b,label\n1,2,x\n3,abc,y\n",
        " row 3, column 'b': 'abc' is not a number",
    ),
    (
        "a decimal comma",
        b"a;b;label\n1;2,5;x\n",
        " row 2, column 'b': '2,5' is not a number (a decimal comma? write 1.5)",
    ),
    ("an empty feature cell", b"a,b,label\n1,,x\n", " row 2, column 'b': empty cell"),
    ("a duplicated column", b"a,a,label\n1,2,x\n", " row 1, column 'a': the name appears twice"),
    (
        "one class only",
        b"a,label\n1,x\n2,x\n3,x\n",
        " column 'label': every row has the label 'x'; a classifier needs at least 2 classes",
    ),
    (
        "a one-row file",
        b"a,label\n1,x\n",
        ": 1 data row(s); at least 3 are needed (2 to train on, 1 to validate)",
    ),
    (
        "a continuous label column",
        b"a,label\n" + b"".join(b"%d,%d.5\n" % (i, i) for i in range(60)),
        " column 'label': 60 distinct numbers such as 0.5, 1.5, 10.5; classification needs class "
        "labels (names or a few integer codes), not a continuous target: pick another --label-column",
    ),
    ("a missing file", None, "cannot read --csv-path "),
]

# Files that must load (BOM, semicolons, blank lines, spaces after commas, quoted cells).
CSV_GOOD = [
    ("utf-8 with BOM", b"\xef\xbb\xbfa,b,label\n1,2,x\n3,4,y\n5,6,x\n"),
    ("semicolons", b"a;b;label\n1;2;x\n3;4;y\n5;6;x\n"),
    ("tabs, blank lines", b"a\tb\tlabel\n1\t2\tx\n\n3\t4\ty\n5\t6\tx\n\n"),
    ("spaces and quotes", b'a, b, label\n1, "2", x\n3, 4, y\n5, 6, "x"\n'),
]


def load_module(project: Path, file: str):
    """Import one of a project's files as a fresh module (one per test: no state is shared)."""
    # train.py imports config.py, data.py, model.py and tracking.py: those of THIS project, not of one loaded before.
    for own in ("config", "data", "model", "tracking"):
        loaded = sys.modules.get(own)
        if loaded is not None and Path(loaded.__file__).parent != project:
            del sys.modules[own]
    if str(project) in sys.path:  # first on the path: its config.py, not another project's
        sys.path.remove(str(project))
    sys.path.insert(0, str(project))
    name = f"{Path(file).stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, project / file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def load_train(project: Path):
    """Import a project's train.py as a fresh module."""
    return load_module(project, "train.py")


def config_of(train):
    """The config.py module a loaded train.py took its Config from (the project's own)."""
    return sys.modules[train.Config.__module__]


@pytest.fixture(scope="module")
def spiral(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("errors") / "spiral")


@pytest.fixture(scope="module")
def tabular(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("errors") / "tabular", data="csv")


@pytest.fixture(scope="module")
def no_last(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("errors") / "nolast", checkpoint="best")


def run_main(project: Path, argv: list[str], monkeypatch, train=None) -> tuple[int, str, str]:
    """main(argv) in `project`, as `python train.py ARGV` would run it: (exit, stdout, stderr)."""
    monkeypatch.chdir(project)
    train = train or load_train(project)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = train.main(argv)
        except SystemExit as exc:  # argparse exits from inside parse_config
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


def docs_table() -> dict[str, tuple[int, str]]:
    """The rows of docs/errors.md's train.py section: mistake -> (exit code, message)."""
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    section = text.split("## train.py (generated project)", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].isdigit():
            rows[cells[0].strip("`")] = (int(cells[1]), cells[2].strip("`"))
    return rows


def assert_documented(mistake: str, code: int, fragment: str) -> None:
    rows = docs_table()
    assert mistake in rows, f"docs/errors.md lacks a row for {mistake!r}"
    assert rows[mistake] == (code, fragment), f"docs/errors.md: {mistake!r} says {rows[mistake]}"


# ---------------------------------------------------------------------------------------------
# Flags: exit 2, one line naming the flag, nothing written
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mistake,argv,fragment", FLAG_CASES, ids=[c[0] for c in FLAG_CASES])
def test_bad_flag_is_one_line_exit_2(spiral, monkeypatch, mistake, argv, fragment):
    before = sorted(p.relative_to(spiral) for p in spiral.rglob("*"))
    code, _, err = run_main(spiral, [*FAST, *argv], monkeypatch)
    line = one_line(err)
    assert code == 2 and line.startswith("train.py: error: ") and fragment in line, line
    assert sorted(p.relative_to(spiral) for p in spiral.rglob("*")) == before, "wrote files"
    assert_documented(mistake, 2, fragment)


def test_help_shows_the_ranges_the_validation_checks(spiral, monkeypatch):
    code, out, _ = run_main(spiral, ["--help"], monkeypatch)
    assert code == 0
    flat = " ".join(out.split())
    for needle in ["in [1, 65536] (default: 64)", "in (0, 10]", "in (0, 1)", "(default: 40)"]:
        assert needle in flat, needle
    # An empty default means "not set" and is not shown; a help that explains its default keeps
    # only its own words.
    assert "(default: )" not in flat and "(default: the next runs/version_N) (default" not in flat


def test_config_ranges_agree_with_copier_validators(spiral, monkeypatch):
    """For each Config field that is also an answer, the range accepts what copier.yml accepts."""
    train = load_train(spiral)
    questions = question_map()
    checked = 0
    for f in dataclasses.fields(train.Config):
        interval = f.metadata["within"]
        if f.name not in questions or not interval:
            continue
        low, high = (float(b) for b in interval[1:-1].split(","))
        kind = int if f.type == "int" else float
        step = 1 if kind is int else 1e-9
        probes = [low - step, low, low + step, high - step, high, high + step]
        for value in (kind(v) for v in probes):
            ours = config_of(train).within(value, interval)
            try:
                validate(questions[f.name], value, {})
                theirs = True
            except ValueError:
                theirs = False
            assert ours == theirs, f"{f.name}={value}: Config says {ours}, copier.yml {theirs}"
        checked += 1
    assert checked >= 7  # hidden, dropout, epochs, batch_size, lr, weight_decay, grad_clip, seed...


def test_compile_mode_choices_are_copier_choices():
    """--compile-mode offers exactly the compile answers of copier.yml."""
    import ast

    from scaffold.options import resolve_answers
    from scaffold.render import render_in_memory

    source = render_in_memory(resolve_answers({"compile": "default"}))["config.py"]
    config = next(node for node in ast.parse(source).body if getattr(node, "name", "") == "Config")
    field_ = next(
        node
        for node in config.body
        if isinstance(node, ast.AnnAssign) and node.target.id == "compile_mode"
    )
    choices = next(kw.value for kw in field_.value.keywords if kw.arg == "choices")
    assert tuple(ast.literal_eval(choices)) == question_map()["compile"].choices


def test_out_is_a_file_or_unwritable(spiral, monkeypatch, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("mine")
    code, _, err = run_main(spiral, ["--out", str(blocker), *FAST], monkeypatch)
    line = one_line(err)
    assert code == 2 and f"argument --out: {blocker} is a file, not a folder" in line
    assert blocker.read_text() == "mine"
    assert_documented("--out pointing to a file", 2, "argument --out: FILE is a file, not a folder")
    code, _, err = run_main(spiral, ["--out", str(blocker / "sub"), *FAST], monkeypatch)
    line = one_line(err)
    assert code == 2 and f"argument --out: cannot write to {blocker / 'sub'}" in line
    assert_documented("--out that cannot be written", 2, "argument --out: cannot write to DIR")


def test_device_cuda_without_a_gpu(spiral, monkeypatch):
    train = load_train(spiral)
    monkeypatch.setattr(train.torch.cuda, "is_available", lambda: False)
    code, _, err = run_main(spiral, ["--device", "cuda", *FAST], monkeypatch, train)
    line = one_line(err)
    assert code == 2 and "argument --device: cuda requested but torch sees no CUDA device" in line
    assert_documented(
        "--device cuda on a machine without a GPU",
        2,
        "argument --device: cuda requested but torch sees no CUDA device",
    )


# ---------------------------------------------------------------------------------------------
# CSV data: exit 1, one line naming the file, the row and the column
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mistake,data,fragment", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_bad_csv_is_one_line_exit_1(tabular, monkeypatch, tmp_path, mistake, data, fragment):
    path = tmp_path / "data.csv"
    if data is not None:
        path.write_bytes(data)
    out = tmp_path / "out"
    code, _, err = run_main(
        tabular, ["--csv-path", str(path), "--out", str(out), *FAST], monkeypatch
    )
    line = one_line(err)
    assert code == 1 and line.startswith("error: ") and str(path) in line, line
    assert fragment in line, line
    assert not (out / "summary.json").exists() and not list(out.glob("*.pt"))
    if data is not None:
        assert path.read_bytes() == data  # the user's file is never touched
    assert_documented(mistake, 1, fragment.strip())


def test_many_integer_or_named_labels_are_classes(tabular, tmp_path):
    """The continuous-label refusal is for fractional numbers only: 60 integer codes, or 60
    names, are 60 classes."""
    data_py = load_module(tabular, "data.py")
    for label in ("%d", "class_%d", "%d.0"):
        path = tmp_path / "many.csv"
        rows = "".join(f"{i},{label % i}\n" for i in range(60))
        path.write_text(f"a,label\n{rows}")
        _, y, classes, _ = data_py.load_csv(str(path), "label")
        assert len(classes) == 60 and len(set(y.tolist())) == 60


def test_a_spiral_project_trains_on_a_csv_from_the_command_line(spiral, monkeypatch, tmp_path):
    """Every tabular render has --csv-path and --label-column: the demo project switches to the
    user's file without an update, and their data reaches the model (2 features, 3 classes)."""
    path = tmp_path / "mine.csv"
    rows = [f"{k * 3 + 0.1 * i},{0.1 * i},{name}" for i in range(20) for k, name in enumerate("xyz")]
    path.write_text("f0,f1,kind\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    argv = ["--csv-path", str(path), "--label-column", "kind", "--out", str(out), *FAST]
    code, _, err = run_main(spiral, argv, monkeypatch)
    assert code == 0, err
    train = load_train(spiral)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["csv_path"] == str(path) and cfg["label_column"] == "kind"
    best = train.torch.load(out / "best.pt", weights_only=True)
    assert best["info"]["inference"]["labels"] == ["x", "y", "z"], best.keys()
    assert best["info"]["inference"]["features"] == ["f0", "f1"]


@pytest.mark.parametrize("name,data", CSV_GOOD, ids=[c[0] for c in CSV_GOOD])
def test_csv_dialects_load(tabular, tmp_path, name, data):
    data_py = load_module(tabular, "data.py")
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    x, y, _, _ = data_py.load_csv(str(path), "label")
    assert x.shape == (3, 2) and y.tolist() == [0, 1, 0]


# ---------------------------------------------------------------------------------------------
# Run folders
# ---------------------------------------------------------------------------------------------
def test_run_folders(spiral, monkeypatch, tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    for name in ("train.py", "config.py", "data.py", "model.py"):
        (project / name).write_text((spiral / name).read_text())
    train = load_train(project)
    small = [*SPIRAL, "--epochs", "2", "--no-progress"]
    for expected in ["version_0", "version_1"]:
        code, out, err = run_main(project, small, monkeypatch, train)
        assert code == 0, err
        assert json.loads(out.splitlines()[-1])["run_dir"] == f"runs/{expected}"
    summary = json.loads((project / "runs" / "version_1" / "summary.json").read_text())
    assert summary["torch_version"] == train.torch.__version__
    assert summary["git_commit"] is None  # not a git checkout: recorded as None, no failure

    code, _, err = run_main(project, [*small, "--name", "base"], monkeypatch, train)
    assert code == 0 and (project / "runs" / "base" / "last.pt").is_file()
    metrics = (project / "runs" / "base" / "metrics.csv").read_text()
    code, _, err = run_main(project, [*small, "--name", "base"], monkeypatch, train)
    assert code == 2 and "argument --name: runs/base already holds a run" in one_line(err)
    assert_documented(
        "--name of a folder that holds a run", 2, "argument --name: runs/NAME already holds a run"
    )
    code, _, err = run_main(project, ["--dry-run", "--name", "base"], monkeypatch, train)
    assert code == 2 and "a --dry-run never writes over one" in one_line(err)
    assert_documented(
        "--dry-run aimed at a real run's folder",
        2,
        "argument --name: runs/NAME holds a real run; a --dry-run never writes over one",
    )
    assert (project / "runs" / "base" / "metrics.csv").read_text() == metrics  # nothing lost

    code, out, err = run_main(project, [*SPIRAL, "--dry-run", "--no-progress"], monkeypatch, train)
    assert code == 0 and json.loads(out.splitlines()[-1])["run_dir"] == "runs/dry_run"
    assert not list((project / "runs" / "dry_run").glob("*.pt"))

    code, out, err = run_main(
        project,
        [*small, "--resume", "runs/base"],  # the run's own flags: it finished, nothing to do
        monkeypatch,
        train,
    )
    assert code == 0 and "nothing to do" in out, (out, err)
    assert json.loads((project / "runs" / "base" / "summary.json").read_text())["epochs_run"] == 2


def _git(folder: Path, *args: str) -> str:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(folder)]
    return subprocess.run([*git, *args], check=True, capture_output=True, text=True).stdout.strip()


def _copy_project(spiral: Path, project: Path) -> None:
    project.mkdir(parents=True)
    for path in spiral.iterdir():
        if path.suffix == ".py" or path.name == ".gitignore":
            (project / path.name).write_text(path.read_text())


def _summary(project: Path, monkeypatch) -> dict:
    code, out, err = run_main(project, [*SPIRAL, *FAST, "--dry-run"], monkeypatch)
    assert code == 0, err
    return json.loads(out.splitlines()[-1])


def test_summary_records_the_git_commit(spiral, monkeypatch, tmp_path):
    project = tmp_path / "g"
    _copy_project(spiral, project)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "x")
    summary = _summary(project, monkeypatch)  # runs/ is ignored: the run does not dirty it
    assert summary["git_commit"] == _git(project, "rev-parse", "HEAD")
    assert summary["git_dirty"] is False
    (project / "notes.py").write_text("# not committed\n")  # an untracked file is not in the commit
    assert _summary(project, monkeypatch)["git_dirty"] is True


def test_a_project_untracked_inside_another_repository_records_no_commit(spiral, monkeypatch, tmp_path):
    """The README's Quick Start creates the project inside the scaffold checkout: that
    repository's commit does not describe the project's files."""
    outer = tmp_path / "outer"
    outer.mkdir()
    _git(outer, "init", "-q")
    _git(outer, "commit", "-q", "--allow-empty", "-m", "root")
    project = outer / "demo"
    _copy_project(spiral, project)
    summary = _summary(project, monkeypatch)
    assert summary["git_commit"] is None and summary["git_dirty"] is None
    _git(project, "init", "-q")  # now a repository of its own, with GIT_DIR set (as in a hook)
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "x")
    monkeypatch.setenv("GIT_DIR", str(outer / ".git"))
    summary = _summary(project, monkeypatch)
    assert summary["git_commit"] == _git(project, "--git-dir", str(project / ".git"), "rev-parse", "HEAD")
    assert summary["git_dirty"] is False


# ---------------------------------------------------------------------------------------------
# Training failures and Ctrl-C
# ---------------------------------------------------------------------------------------------
def test_nan_loss_is_one_line_exit_1(spiral, monkeypatch, tmp_path):
    train = load_train(spiral)
    monkeypatch.setattr(train, "train_one_epoch", lambda *args, **kwargs: float("nan"))
    code, _, err = run_main(spiral, [*SPIRAL, *FAST, "--out", str(tmp_path)], monkeypatch, train)
    assert code == 1 and one_line(err).startswith("error: loss became nan (train)")
    assert_documented("a NaN loss", 1, "error: loss became nan (train)")


def test_too_few_rows_for_the_split(spiral, monkeypatch, tmp_path):
    argv = [*FAST, "--samples-per-class", "1", "--val-fraction", "0.9", "--out", str(tmp_path)]
    code, _, err = run_main(spiral, argv, monkeypatch)
    fragment = "--samples-per-class 1 gives 3 rows: --val-fraction 0.9 leaves 1 to train on"
    assert code == 1 and fragment in one_line(err)
    assert_documented("too few rows for --val-fraction", 1, fragment)


def test_batchnorm_batch_of_one(spiral, monkeypatch, tmp_path):
    """--batch-size 1 under --batchnorm: every batch is one sample, which BatchNorm cannot
    normalise. (A last batch of one is merged into the batch before it, so only size 1 fails.)"""
    argv = [*FAST, *SPIRAL, "--batchnorm", "--batch-size", "1", "--out", str(tmp_path)]
    code, _, err = run_main(spiral, argv, monkeypatch)
    fragment = "--batchnorm needs --batch-size >= 2 and at least 2 training samples"
    assert code == 1 and fragment in one_line(err)
    assert_documented("--batchnorm with --batch-size 1", 1, fragment)


def test_out_of_memory_is_one_line_exit_1(spiral, monkeypatch, tmp_path):
    train = load_train(spiral)

    detail = "CUDA out of memory. Tried to allocate 2.00 GiB"

    def oom(*args, **kwargs):
        raise train.torch.cuda.OutOfMemoryError(detail + ". GPU 0 has a total capacity of 8 GiB")

    monkeypatch.setattr(train, "train_one_epoch", oom)
    code, _, err = run_main(spiral, [*FAST, *SPIRAL, "--out", str(tmp_path)], monkeypatch, train)
    assert code == 1 and one_line(err) == f"error: out of GPU memory, lower --batch-size ({detail})"
    assert_documented("out of GPU memory", 1, "error: out of GPU memory, lower --batch-size")


def test_missing_checkpoint_is_one_line_exit_1(spiral, monkeypatch, tmp_path):
    """A run folder without last.pt: the loader's TrainingError becomes main()'s one line."""
    (tmp_path / "empty").mkdir()
    argv = [*SPIRAL, *FAST, "--resume", str(tmp_path / "empty")]
    code, _, err = run_main(spiral, argv, monkeypatch)
    line = one_line(err)
    assert code == 1 and line.startswith(f"error: cannot load checkpoint {tmp_path}/empty/last.pt")
    assert_documented("--resume of a folder without last.pt", 1, "error: cannot load checkpoint")


def test_ctrl_c_without_last_pt(no_last, monkeypatch, tmp_path):
    train = load_train(no_last)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train_one_epoch", interrupt)
    code, _, err = run_main(no_last, [*SPIRAL, *FAST, "--out", str(tmp_path)], monkeypatch, train)
    line = one_line(err)
    assert code == 130 and "this project keeps no last.pt (checkpoint=best)" in line
    assert_documented(
        "Ctrl-C (checkpoint without last)", 130, "interrupted: this project keeps no last.pt"
    )


def test_ctrl_c_prints_where_last_pt_is_and_how_to_resume(spiral, monkeypatch):
    """A real process and a real SIGINT after the second epoch: one line, exit 130, and the
    printed command (run in-process, with fewer epochs) continues the run from its last.pt."""
    args = [*SPIRAL, "--epochs", "100000", "--no-progress", "--name", "long"]
    proc = subprocess.Popen(
        [PYTHON, "train.py", *args],
        cwd=spiral,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        while line and not line.startswith("epoch   2/"):
            line = proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130
    line = one_line(err)
    expected = "python train.py " + " ".join(args) + " --resume runs/long"
    assert line.startswith("interrupted: runs/long/last.pt holds the last finished epoch")
    assert line.endswith(f"resume with: {expected}"), line
    assert_documented(
        "Ctrl-C",
        130,
        "interrupted: RUN/last.pt holds the last finished epoch; resume with: COMMAND",
    )
    command = shlex.split(line.split("resume with: ")[1])[2:]
    assert command[-2:] == ["--resume", "runs/long"] and "100000" in command
    # The default cosine schedule is laid out over --epochs: the printed command keeps them, and
    # a resume with other epochs is refused by name (tests/test_resume_semantics.py resumes).
    command[command.index("100000")] = "12"
    code, out, err = run_main(spiral, command, monkeypatch)
    assert code == 1 and "with --epochs 12" in one_line(err), err


def test_real_process_bad_flag_and_bad_csv(tabular, tmp_path):
    """What a user sees from a real process: one stderr line for a flag and for a data error."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b,label\n1,2\n")
    runs = [
        ["--batch-size", "0"],
        ["--csv-path", str(bad), "--out", str(tmp_path / "o")],
    ]
    procs = [  # side by side: each pays the interpreter's and torch's start-up
        subprocess.Popen(
            [PYTHON, "train.py", *argv],
            cwd=tabular,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in runs
    ]
    (_, flag_err), (_, data_err) = (proc.communicate(timeout=300) for proc in procs)
    assert procs[0].returncode == 2 and one_line(flag_err).startswith("train.py: error: argument")
    assert procs[1].returncode == 1 and one_line(data_err).startswith(f"error: {bad} row 2:")


# ---------------------------------------------------------------------------------------------
# Fuzz: flags and CSV files (a few examples here; -m fuzz runs many)
# ---------------------------------------------------------------------------------------------
FUZZ_EXAMPLES = 400 if "fuzz" in " ".join(sys.argv) else 25
NUMBERS = st.one_of(
    st.integers(-(2**40), 2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-inf", "1e999", "0x10", "", " ", "1_000", "--", "-0"]),
    st.text(max_size=8),
)
FLAGS = [
    "--batch-size",
    "--lr",
    "--epochs",
    "--val-fraction",
    "--samples-per-class",
    "--num-workers",
    "--dropout",
    "--hidden",
    "--grad-clip",
    "--seed",
    "--device",
    "--name",
    "--noise",
    "--weight-decay",
    "--early-stopping",
]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs=st.lists(st.tuples(st.sampled_from(FLAGS), NUMBERS), max_size=4))
def test_fuzz_flags(spiral, pairs):
    """Any flag values: a Config inside every range, or exit 2 with one line naming a flag."""
    train = load_train_cached(spiral)
    argv = [f"{flag}={value}" for flag, value in pairs]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            cfg = train.parse_config(argv)
        except SystemExit as exc:
            assert exc.code == 2
            assert re.fullmatch(r"train\.py: error: .+ \(see --help\)", one_line(err.getvalue()))
            return
    config_of(train).validate_config(cfg)  # raises if parse_config let anything out of range through


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 5).map(str),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6),
    st.sampled_from(["", "nan", "1e39", "x", '"', ";", "\n"]),
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=4), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
)
def test_fuzz_csv(tabular, tmp_path_factory, rows, delimiter, encoding):
    """Any CSV: finite features and integer labels, or one DataError naming the file."""
    import csv

    data_py = load_data_cached(tabular)
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows([["a", "b", "label"], *rows])
    try:
        path.write_bytes(text.getvalue().encode(encoding))
    except UnicodeEncodeError:
        return
    try:
        x, y, _, _ = data_py.load_csv(str(path), "label")
    except data_py.DataError as exc:
        message = str(exc)
        assert "\n" not in message.strip() and str(path) in message, message
        return
    assert data_py.torch.isfinite(x).all() and x.shape == (len(y), 2) and y.min() >= 0


_LOADED: dict[Path, object] = {}


def load_train_cached(project: Path):
    if project not in _LOADED:
        _LOADED[project] = load_train(project)
    return _LOADED[project]


def load_data_cached(project: Path):
    key = project / "data.py"
    if key not in _LOADED:
        _LOADED[key] = load_module(project, "data.py")
    return _LOADED[key]
