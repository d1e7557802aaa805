"""The black worker beside copier (scaffold.format_worker): same bytes as formatting in process, never stale."""

from __future__ import annotations

import os

import pytest

from scaffold import format_worker
from scaffold.options import default_answers
from scaffold.format_worker import BlackAhead
from scaffold.render import (
    RenderError,
    format_python,
    format_tree,
    owned_files,
    python_files_largest_first,
    render_in_memory,
)


@pytest.fixture
def worker_forced(monkeypatch):
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "1")  # a worker even on a busy machine


def _render(answers):
    """What `scaffold new` hands the worker: the in-memory render of `answers`, unformatted."""
    return lambda: render_in_memory(answers, black_check=False)


def _order(answers):
    return python_files_largest_first(owned_files(answers))


def test_files_are_handed_out_largest_template_first():
    order = _order(default_answers())
    # the two largest outputs go first, whichever of their templates is the longer one
    assert set(order[:2]) == {"train.py", "tests/test_train.py"}
    assert all(rel.endswith(".py") for rel in order)
    assert sorted(order) == sorted(rel for rel in owned_files() if rel.endswith(".py"))


def test_the_worker_alone_formats_exactly_what_render_in_memory_gives(worker_forced):
    answers = default_answers()
    ahead = BlackAhead(_render(answers), _order(answers))
    assert ahead.running
    got = ahead.result()  # no read_here: this process only waits
    raw = render_in_memory(answers, black_check=False)
    py = sorted(rel for rel in raw if rel.endswith(".py"))
    assert sorted(got) == py
    for rel in py:
        assert got[rel] == (raw[rel], format_python(raw[rel], rel))


def test_both_processes_share_the_files_and_each_result_matches_its_input(worker_forced):
    answers = default_answers()
    order = _order(answers)
    raw = render_in_memory(answers, black_check=False)
    here = []

    def read_here(rel):  # this process's copy differs, so its results are told apart
        here.append(rel)
        return raw[rel] + "# formatted here\n"

    got = BlackAhead(_render(answers), order).result(read_here)
    assert sorted(got) == sorted(order)  # every file exactly once, by one process or the other
    # this process starts taking files at once, while the worker still renders: it gets some
    assert here, "this process took no file: the shared counter is not shared"
    for rel in order:
        text = raw[rel] + "# formatted here\n" if rel in here else raw[rel]
        assert got[rel] == (text, format_python(text, rel))


def test_a_file_that_does_not_parse_in_this_process_fails_loudly(worker_forced):
    answers = default_answers()
    with pytest.raises(RenderError, match="does not parse"):
        BlackAhead(_render(answers), ["nosuch.py"] * 50).result(lambda rel: "def (:\n")


def test_format_tree_uses_a_known_result_only_for_the_same_text(tmp_path):
    (tmp_path / "a.py").write_text("x = (1)\n")
    (tmp_path / "b.py").write_text("y  =  2\n")
    known = {
        "a.py": ("x = (1)\n", "x = 'from the worker'\n"),  # same text: taken as black's output
        "b.py": ("something else\n", "WRONG\n"),  # text differs: black runs in process
    }
    changed = format_tree(tmp_path, ["a.py", "b.py"], known)
    assert (tmp_path / "a.py").read_text() == "x = 'from the worker'\n"
    assert (tmp_path / "b.py").read_text() == "y = 2\n"
    assert changed == ["a.py", "b.py"]


def test_a_failing_worker_leaves_every_file_to_this_process(worker_forced):
    ahead = BlackAhead(
        _render({"not": "an answer set"}), ["train.py"]
    )  # render_in_memory raises there
    assert ahead.result() == {}
    ahead = BlackAhead(_render({"not": "an answer set"}), ["a.py", "b.py"])
    got = ahead.result(lambda rel: "x  =  1\n")
    assert got == {"a.py": ("x  =  1\n", "x = 1\n"), "b.py": ("x  =  1\n", "x = 1\n")}


def test_a_worker_with_a_second_core_unless_told(monkeypatch):
    monkeypatch.delenv("SCAFFOLD_BLACK_AHEAD", raising=False)
    monkeypatch.setattr(format_worker, "usable_cores", lambda: 1)
    assert (
        not format_worker._worth_a_worker()
    )  # one core: the worker would only compete with copier
    monkeypatch.setattr(format_worker, "usable_cores", lambda: 2)
    assert format_worker._worth_a_worker()
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "0")
    assert not format_worker._worth_a_worker()
    ahead = BlackAhead(_render(default_answers()), ["train.py"])
    assert not ahead.running and ahead.result() == {}  # the caller then formats in process
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "1")
    monkeypatch.setattr(format_worker, "usable_cores", lambda: 1)
    assert format_worker._worth_a_worker()


def test_usable_cores_is_at_least_one():
    assert 1 <= format_worker.usable_cores() <= (os.cpu_count() or 1)
