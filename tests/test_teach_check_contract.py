"""The contract between `teach` and `check` (DESIGN.md): the checker flags every teaching variant
with its own ID, and nothing in the correct loop each variant was made from."""

from __future__ import annotations

import pytest

from scaffold.catalogue import BUGS
from scaffold.check import check_source
from scaffold.teach.build import correct_for, variant_train


def finding_ids(source: str) -> set[str]:
    return {finding.id for finding in check_source(source, "train.py")}


@pytest.mark.parametrize("bug_id", [bug.id for bug in BUGS])
def test_teaching_variant_is_flagged_with_its_own_id(bug_id):
    assert finding_ids(variant_train(bug_id)) == {bug_id}
    assert finding_ids(correct_for(bug_id)) == set()
