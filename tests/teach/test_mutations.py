"""Every catalogue mistake is one exact, loud edit of the correct loop."""

from __future__ import annotations

import ast
from collections import Counter

import pytest

from scaffold.catalogue import BUGS
from scaffold.render import format_python
from scaffold.teach.build import SYMPTOMS, correct_for, diff, module_name, variant_train
from scaffold.teach.lessons import LESSONS
from scaffold.teach.mutations import MUTATIONS, MutationError, Source, mutate

IDS = [bug.id for bug in BUGS]


def test_every_catalogue_id_has_mutation_lesson_and_symptom():
    assert set(MUTATIONS) == set(IDS)
    assert set(LESSONS) == set(IDS)
    modules = {p.stem for p in SYMPTOMS.glob("*.py") if not p.stem.startswith("_")}
    assert modules == {module_name(i) for i in IDS}


@pytest.mark.parametrize("bug_id", IDS)
def test_variant_is_one_marked_black_clean_edit(bug_id):
    correct = correct_for(bug_id)
    variant = variant_train(bug_id)
    assert variant != correct
    assert f"# BUG({bug_id}):" in variant
    assert format_python(variant) == variant  # black-stable, hence it parses
    ast.parse(variant)

    def code(text):
        return [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]

    before, after = code(correct), code(variant)
    assert before != after
    # one minimal change: at most a few statements differ; moves and dedents change only order
    removed, added = Counter(before) - Counter(after), Counter(after) - Counter(before)
    assert sum(removed.values()) + sum(added.values()) <= 4, (removed, added)
    assert diff(bug_id, variant).startswith("--- correct_train.py")


@pytest.mark.parametrize("bug_id", IDS)
def test_mutation_fails_loudly_when_its_anchor_is_gone(bug_id):
    correct = correct_for(bug_id)
    # Hide every anchor at once by renaming the variables the statements use.
    broken = (
        correct.replace("c.optimizer", "c.opt").replace("loss", "lss").replace("c.model", "c.mdl")
    )
    broken = broken.replace("c.scheduler", "c.sch").replace("model = build_model", "net0 = build_model")
    broken = broken.replace("val_loader", "vl").replace("c.scaler", "c.sc").replace("share", "part")
    broken = broken.replace("with torch.no_grad():", "with torch.enable_grad():").replace(
        "save_atomic", "save_file"
    )
    broken = broken.replace("set_epoch", "seed_epoch").replace("range(rank()", "range(rnk()").replace("c.net", "c.nt")  # DDP
    with pytest.raises(MutationError):
        mutate(broken, bug_id)


def test_a_repeated_statement_is_refused():
    src = Source("a = 1\nc.optimizer.step()\nc.optimizer.step()\n", "demo")
    with pytest.raises(MutationError, match="found 2"):
        src.find("c.optimizer.step()")


def test_move_keeps_the_annotation_with_its_statement():
    text = "def f():\n    # note\n    a()\n    b()\n"
    src = Source(text, "demo")
    src.move(src.find("a()"), src.find("a()"), src.find("b()"), "after", "moved")
    assert src.text == "def f():\n    b()\n    # BUG(demo): moved\n    # note\n    a()\n"


def test_unwrap_with_dedents_the_body():
    text = "def f():\n    with ctx():\n        a()\n\n        b()\n    c()\n"
    src = Source(text, "demo")
    src.unwrap_with("with ctx():", "gone")
    assert (
        src.text
        == "def f():\n    # BUG(demo): gone (deleted: `with ctx():`)\n    a()\n\n    b()\n    c()\n"
    )
