r"""Fuzzing the answers: hypothesis draws answer sets (valid, invalid and hostile values) and runs
`scaffold new DEST --defaults --no-git --set k=v ...` through typer's CliRunner.

Each run either exits 2 with one `error:` line and writes nothing, or writes a project whose
Python compiles and holds no code from the answers: its AST has exactly the node types and the
names of the same render with harmless strings, so text such as three double quotes, `{{`,
quotes, newlines or `__import__` can only ever end up inside string literals (or be refused).

The same holds for answers files (`--answers FILE`): hypothesis writes random YAML documents
(mappings of real and made-up keys to nested values), raw bytes, mutated valid files and hostile
constructs (aliases, deep nesting, tags); each run exits 0 with a project, or 2 with one line and
nothing written.

The project is written by the in-memory renderer (copier itself is exercised by the goldens test,
which shows both write the same files); 50 examples by default, 500 under `-m fuzz`.
"""

from __future__ import annotations

import ast
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scaffold.new
from scaffold.cli.app import app
from scaffold.options import AnswerError, load_answers_file, load_questions, resolve_answers
from scaffold.render import RenderedProject, render_in_memory

QUESTIONS = {q.name: q for q in load_questions()}
HOSTILE = [
    '"',
    "'",
    '"""',
    "'''",
    "{{ 7*7 }}",
    "{% raw %}",
    "\n",
    "\\",
    "__import__('os').system('echo pwned')",
    '"); import os; os.system("x"); ("',
    "x\ny = 1",
    "#",
    "${HOME}",
    "../../etc/passwd",
    "a b",
    "élan",
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "nan",
    "true",
]
BENIGN = {"project_name": "p", "csv_path": "data/train.csv", "label_column": "label"}


def _values(name: str):
    q = QUESTIONS[name]
    hostile = st.sampled_from(HOSTILE) | st.text(max_size=30)
    if q.choices is not None:
        good = st.sampled_from([str(c) for c in q.choices])
    elif q.type == "bool":
        good = st.sampled_from(["true", "false", "yes", "no", "1", "0"])
    elif name == "accum_steps":
        good = st.integers(0, 9).map(str)
    elif q.type == "int":
        good = st.integers(-1, 1100).map(str)
    elif q.type == "float":
        good = st.floats(-0.1, 1.2, allow_nan=False).map(repr)
    elif name == "project_name":
        good = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
    elif name == "csv_path":
        good = st.from_regex(r"[A-Za-z0-9_./\-]{1,40}", fullmatch=True)
    else:
        good = st.from_regex(r"[A-Za-z0-9_\- ]{1,20}", fullmatch=True)
    return st.one_of(good, good, good, good, hostile)


def _enable(answers: dict[str, str]) -> dict[str, str]:
    """Usually make conditional answers apply (csv_path needs data=csv, momentum optimizer=sgd)."""
    out = dict(answers)
    if {"csv_path", "label_column"} & set(out):
        out.setdefault("data", "csv")
    if "momentum" in out:
        out.setdefault("optimizer", "sgd")
    return out


ANSWERS = st.tuples(
    st.dictionaries(
        st.sampled_from([*sorted(QUESTIONS), *sorted(QUESTIONS), "precison"]),
        st.just(None),
        max_size=6,
    ).flatmap(
        lambda keys: st.fixed_dictionaries(
            {k: _values(k) if k in QUESTIONS else st.just("x") for k in keys}
        )
    ),
    st.integers(0, 3),
).map(lambda pair: _enable(pair[0]) if pair[1] else pair[0])


def _fast_render(
    answers, dest: Path, *, overwrite: bool = False, git: bool = True
) -> RenderedProject:
    files = render_in_memory(answers)
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return RenderedProject(dest=dest, answers=dict(answers), files=tuple(files), committed=False)


def _shape(source: str) -> tuple[Counter, set[str]]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {alias.name for alias in node.names}
    return Counter(type(node).__name__ for node in ast.walk(tree)), names


def check_one(answers: dict[str, str], monkeypatch) -> str:
    monkeypatch.setattr(scaffold.new, "render_project", _fast_render)
    args = []
    for key, value in answers.items():
        args += ["--set", f"{key}={value}"]
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "proj"
        result = CliRunner().invoke(app, ["new", str(dest), "--defaults", "--no-git", *args])
        if result.exit_code != 0:
            assert result.exit_code == 2, (
                answers,
                result.exit_code,
                result.output,
                result.exception,
            )
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (answers, result.stderr)
            assert "Traceback" not in result.output
            assert not dest.exists(), f"{answers}: wrote files although it failed"
            return "rejected"
        project = {p.relative_to(dest).as_posix(): p.read_text() for p in dest.rglob("*.py")}
        typed = resolve_answers({"project_name": "proj", **answers})
        benign = render_in_memory({**typed, **{k: v for k, v in BENIGN.items() if k in typed}})
        # The same Python files as the benign render of the same task (data.py, model.py, ...).
        assert set(project) == {rel for rel in benign if rel.endswith(".py")}, project.keys()
        for rel, source in project.items():
            compile(source, rel, "exec")
            shape, names = _shape(source)
            want_shape, want_names = _shape(benign[rel])
            assert (
                shape == want_shape
            ), f"{answers}: {rel} has a different AST than the benign render"
            assert names <= want_names | {typed["project_name"]}, (answers, names - want_names)
        return "rendered"


SEEN: Counter = Counter()


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(answers=ANSWERS)
def test_fuzz_answers(answers, monkeypatch):
    SEEN[check_one(answers, monkeypatch)] += 1


@pytest.mark.fuzz
@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(answers=ANSWERS)
def test_fuzz_answers_long(answers, monkeypatch):
    SEEN[check_one(answers, monkeypatch)] += 1


def test_fuzz_saw_both_outcomes(capsys):
    """Runs after the fuzz tests (file order): both outcomes must have occurred."""
    with capsys.disabled():
        print(f"\nfuzz outcomes: {dict(SEEN)}")
    if SEEN:
        assert SEEN["rejected"] > 0 and SEEN["rendered"] > 0, SEEN


@pytest.mark.parametrize("key", ["project_name", "csv_path", "label_column"])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_never_reach_code(key, hostile, monkeypatch):
    extra = {"data": "csv"} if key != "project_name" else {}
    check_one({**extra, key: hostile}, monkeypatch)


# Answers files: random YAML documents and bytes through `new --answers FILE`.

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(HOSTILE),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)
GOOD_ANSWERS = st.dictionaries(
    st.sampled_from(sorted(QUESTIONS)), st.just(None), max_size=5
).flatmap(lambda keys: st.fixed_dictionaries({k: _values(k) for k in keys}))
MAPPINGS = st.dictionaries(
    st.sampled_from(sorted(QUESTIONS)) | st.text(max_size=10), VALUES, max_size=6
) | GOOD_ANSWERS.map(_enable)
HOSTILE_FILES = [
    "a: &x [1, 2]\nb: *x\n",
    "a: &x [1]\n" + "".join(f"k{i}: *x\n" for i in range(60)),
    "precision: !!binary aGk=\n",
    "precision: !!python/name:os.system\n",
    "? [1, 2]\n: 3\n",
    "precision: fp32\nprecision: bf16\n",
    "[" * 200 + "]" * 200,
    "--- a\n--- b\n",
    "%YAML 1.1\n---\nseed: 0x1F\n",
    "seed: 1_000\nlr: 1e-3\nepochs: 0o17\n",
    "\ufeffprecision: bf16\n",
    "accum_steps: 2024-01-01\n",
    "project_name: 9" + "9" * 5000 + "\n",
]
CONSTRUCTS = st.sampled_from(HOSTILE_FILES).map(str.encode)


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for position, value in edits:
        if buf:
            buf[position % len(buf)] = value
    return bytes(buf)


DOCUMENTS = st.one_of(
    MAPPINGS.map(lambda m: yaml.safe_dump(m, allow_unicode=True).encode("utf-8")),
    VALUES.map(lambda v: yaml.safe_dump(v).encode("utf-8")),
    st.binary(max_size=300),
    st.tuples(
        GOOD_ANSWERS.map(lambda m: yaml.safe_dump(m).encode()),
        st.lists(st.tuples(st.integers(0, 10**4), st.integers(0, 255)), min_size=1, max_size=4),
    ).map(lambda pair: _mutate(*pair)),
    CONSTRUCTS,
)


def check_answers_file(content: bytes, monkeypatch) -> str:
    monkeypatch.setattr(scaffold.new, "render_project", _fast_render)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.yml"
        path.write_bytes(content)
        dest = Path(tmp) / "proj"
        result = CliRunner().invoke(
            app, ["new", str(dest), "--defaults", "--no-git", "--answers", str(path)]
        )
        assert result.exit_code in (0, 2), (content[:200], result.exit_code, result.exception)
        assert "Traceback" not in result.output, (content[:200], result.output)
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (
                content[:200],
                result.stderr,
            )
            assert not dest.exists(), f"{content[:200]!r}: wrote files although it failed"
            return "rejected"
        try:
            given = load_answers_file(path)
            typed = resolve_answers({"project_name": "proj", **given})
        except AnswerError as exc:  # the CLI accepted what the library refuses: a bug
            raise AssertionError((content[:200], str(exc))) from None
        for rel in ("train.py", "tests/test_train.py"):
            compile((dest / rel).read_text(), rel, "exec")
        benign = render_in_memory({**typed, **{k: v for k, v in BENIGN.items() if k in typed}})
        assert _shape((dest / "train.py").read_text())[0] == _shape(benign["train.py"])[0], content
        return "rendered"


FILE_SEEN: Counter = Counter()


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(content=DOCUMENTS)
def test_fuzz_answers_files(content, monkeypatch):
    FILE_SEEN[check_answers_file(content, monkeypatch)] += 1


@pytest.mark.fuzz
@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=DOCUMENTS)
def test_fuzz_answers_files_long(content, monkeypatch):
    FILE_SEEN[check_answers_file(content, monkeypatch)] += 1


def test_fuzz_answers_files_saw_both_outcomes(capsys):
    """Runs after the answers-file fuzz tests (file order): both outcomes must have occurred."""
    with capsys.disabled():
        print(f"\nanswers-file fuzz outcomes: {dict(FILE_SEEN)}")
    if FILE_SEEN:
        assert FILE_SEEN["rejected"] > 0 and FILE_SEEN["rendered"] > 0, FILE_SEEN


@pytest.mark.parametrize("text", HOSTILE_FILES, ids=range(len(HOSTILE_FILES)))
def test_hostile_answers_file_constructs(text, monkeypatch):
    check_answers_file(text.encode(), monkeypatch)
