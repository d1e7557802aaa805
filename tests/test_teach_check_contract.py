"""The contract between `teach` and `check` (DESIGN.md): the checker flags every teaching variant
with exactly its own ID, and nothing in the correct loop each variant was made from, for every
task the mistake applies to (scaffold.catalogue.applies).

Each pair renders a project and checks two files (a few seconds), so the default run takes one
rotating block of the (ID, task) pairs, seeded and printed at the end of the run
(tests/sampling.py); `-m slow` runs every pair.
"""

from __future__ import annotations

import pytest

import sampling
from scaffold.catalogue import BUGS, teaching_tasks
from scaffold.check import check_source
from scaffold.teach.build import correct_for, teaching_pairs, variant_train

# ID@task, sorted by ID first, so that a rotating block mixes IDs and tasks
PAIRS = {f"{bug_id}@{task}": (bug_id, task) for bug_id, task in teaching_pairs()}
BLOCKS = 8  # the default run checks about an eighth of the pairs


def finding_ids(source: str) -> set[str]:
    return {finding.id for finding in check_source(source, "train.py")}


@pytest.mark.parametrize("pair", sampling.rotating("teaching variants x tasks", PAIRS, BLOCKS))
def test_teaching_variant_is_flagged_with_exactly_its_own_id(pair):
    bug_id, task = PAIRS[pair]
    assert finding_ids(variant_train(bug_id, task)) == {bug_id}
    assert finding_ids(correct_for(bug_id, task)) == set()


def test_every_task_has_variants_and_every_id_a_task():
    assert {task for _, task in PAIRS.values()} == set(teaching_tasks())
    assert {bug_id for bug_id, _ in PAIRS.values()} == {bug.id for bug in BUGS}
