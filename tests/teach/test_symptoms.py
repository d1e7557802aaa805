"""Each symptom test passes on its variant and fails on the correct loop, and the numbers the
lessons quote are the ones the tests measure today.

One pytest subprocess runs every shipped tests/test_symptom.py (CPU, one thread); a second one
points test_symptom at correct_train.py and expects every one of them to fail.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from scaffold.catalogue import BUGS
from scaffold.teach.course import measured
from tools.teach_measure import collect, run_symptom_tests, write_test_course

IDS = [bug.id for bug in BUGS if not bug.id.startswith("ddp-")]  # DDP lessons: tests/test_ddp.py, -m slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("teach")
    write_test_course(root / "course", IDS)
    return root


@pytest.fixture(scope="module")
def variant_run(course):
    report = course / "report"
    report.mkdir()
    result = run_symptom_tests(course / "course", report)
    return result, collect(report, IDS)


def test_symptom_tests_pass_on_variants_and_correct_loop_fails_their_check(variant_run):
    result, _ = variant_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    # two tests per ID: test_symptom on train.py, and the check failing on correct_train.py
    assert re.search(rf"\b{2 * len(IDS) + 3} passed", result.stdout), result.stdout[-1500:]


def test_pointed_at_the_correct_loop_every_symptom_test_fails(course):
    report = course / "report-correct"
    report.mkdir()
    result = run_symptom_tests(
        course / "course", report, target="correct_train.py", extra=["-k", "test_symptom"]
    )
    failed = set(
        re.findall(r"FAILED \S*?([a-z0-9-]+)/tests/test_symptom\.py::test_symptom", result.stdout)
    )
    assert failed == set(IDS), result.stdout[-3000:]


def _close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-6)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("bug_id", IDS)
def test_stored_numbers_reproduce(variant_run, bug_id):
    _, numbers = variant_run
    stored = measured()[bug_id]
    for which in ("variant", "correct"):
        fresh = numbers[bug_id][which]
        for key, value in stored[which].items():
            assert _close(fresh[key], value), (
                f"{bug_id} {which} {key}: stored {json.dumps(value)[:200]}, measured {json.dumps(fresh[key])[:200]}; "
                "rerun python -m tools.teach_measure && python -m tools.teach_regen"
            )


@pytest.mark.slow
@pytest.mark.parametrize("bug_id", ["zero-grad-missing", "log-loss-tensor"])
def test_stored_project_test_results_reproduce(bug_id):
    """The 'caught by the generated project's tests' line of each lesson is measured, not guessed."""
    from tools.teach_measure import project_tests_failing

    assert project_tests_failing(bug_id) == measured()[bug_id]["project_tests_failing"]
