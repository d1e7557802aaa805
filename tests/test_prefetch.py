"""black ahead of copier (scaffold.prefetch): same bytes as formatting in process, never stale."""

from __future__ import annotations

import os

from scaffold import prefetch
from scaffold.options import default_answers
from scaffold.prefetch import BlackAhead
from scaffold.render import format_python, format_tree, render_in_memory


def test_the_worker_formats_exactly_what_render_in_memory_gives(monkeypatch):
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "1")  # a worker even on a busy machine
    answers = default_answers()
    ahead = BlackAhead(answers)
    got = ahead.result()
    raw = render_in_memory(answers, black_check=False)
    py = sorted(rel for rel in raw if rel.endswith(".py"))
    assert sorted(got) == py  # train.py, plot.py, tests/test_train.py
    for rel in py:
        assert got[rel] == (raw[rel], format_python(raw[rel], rel))


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


def test_a_failing_worker_means_formatting_in_process(monkeypatch):
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "1")
    ahead = BlackAhead({"not": "an answer set"})  # render_in_memory raises in the worker
    assert ahead.result() == {}


def test_no_worker_without_a_free_core_or_when_told(monkeypatch):
    monkeypatch.delenv("SCAFFOLD_BLACK_AHEAD", raising=False)
    cores = os.cpu_count() or 1
    monkeypatch.setattr(os, "getloadavg", lambda: (float(cores), 0.0, 0.0))
    assert not prefetch._worth_a_worker()  # every core busy: the worker would only compete
    monkeypatch.setattr(os, "getloadavg", lambda: (cores - 1.0, 0.0, 0.0))
    assert prefetch._worth_a_worker()
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "0")
    assert not prefetch._worth_a_worker()
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "1")
    monkeypatch.setattr(os, "getloadavg", lambda: (99.0, 0.0, 0.0))
    assert prefetch._worth_a_worker()
    monkeypatch.setenv("SCAFFOLD_BLACK_AHEAD", "0")
    ahead = BlackAhead(default_answers())
    assert ahead._pool is None and ahead.result() == {}  # the caller then formats in process
