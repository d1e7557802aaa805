"""Measure every symptom and store the numbers the lessons quote.

    python -m tools.teach_measure            # rewrites scaffold/teach/measured.json
    python -m tools.teach_measure ID ...     # re-measures only these IDs, keeps the others

It writes each variant folder (train.py, correct_train.py, tests/test_symptom.py) to a temporary
course, runs the shipped symptom tests there with pytest (CPU, one thread), and collects the
numbers each test reports for the variant and for the correct loop. The lessons, the course and
docs/teaching.md quote these numbers. Needs torch; the CLI never runs this.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from scaffold.catalogue import BUGS
from scaffold.teach.build import (
    BESIDE,
    base_overrides,
    correct_for,
    correct_render,
    symptom_test,
    variant_train,
)
from scaffold.teach.course import MEASURED


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def write_test_course(dest: Path, ids: list[str]) -> None:
    for bug_id in ids:
        folder = dest / bug_id
        (folder / "tests").mkdir(parents=True)
        (folder / "train.py").write_text(variant_train(bug_id))
        (folder / "correct_train.py").write_text(correct_for(bug_id))
        for name in BESIDE:  # train.py imports them from its own folder
            (folder / name).write_text(correct_render(tuple(sorted(base_overrides(bug_id).items())))[name])
        (folder / "tests" / "test_symptom.py").write_text(symptom_test(bug_id))


def run_symptom_tests(
    course: Path, report: Path, *, target: str | None = None, extra: list[str] = ()
) -> subprocess.CompletedProcess:
    """Run pytest over every tests/test_symptom.py under `course` in a subprocess."""
    env = dict(os.environ, OMP_NUM_THREADS="1", SCAFFOLD_TEACH_REPORT=str(report))
    if target:
        env["SCAFFOLD_TEACH_TARGET"] = target
    else:
        env.pop("SCAFFOLD_TEACH_TARGET", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        "--rootdir",
        str(course),
        "-o",
        "addopts=",
        *extra,
        str(course),
    ]
    return subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)


def collect(report: Path, ids: list[str]) -> dict[str, dict[str, Any]]:
    numbers: dict[str, dict[str, Any]] = {}
    for bug_id in ids:
        entry = {}
        for which in ("variant", "correct"):
            path = report / f"{bug_id}.{which}.json"
            if path.is_file():
                entry[which] = _round(json.loads(path.read_text()))
        numbers[bug_id] = entry
    return numbers


def measure_all(ids: list[str] | None = None) -> dict[str, Any]:
    ids = ids or [b.id for b in BUGS]
    with tempfile.TemporaryDirectory(prefix="scaffold-teach-") as tmp:
        course, report = Path(tmp) / "course", Path(tmp) / "report"
        report.mkdir()
        write_test_course(course, ids)
        result = run_symptom_tests(course, report)
        if result.returncode != 0:
            raise RuntimeError(
                "symptom tests failed:\n" + result.stdout[-4000:] + result.stderr[-2000:]
            )
        return collect(report, ids)


def project_tests_failing(bug_id: str) -> list[str]:
    """Which of the generated project's own tests (tests/test_train.py) fail on this variant."""
    import re

    from scaffold.options import resolve_answers
    from scaffold.render import render_in_memory
    from scaffold.teach.build import PROJECT_NAME, base_overrides

    files = render_in_memory(
        resolve_answers({"project_name": PROJECT_NAME, **base_overrides(bug_id)})
    )
    with tempfile.TemporaryDirectory(prefix="scaffold-teach-project-") as tmp:
        for rel, text in files.items():
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (Path(tmp) / "train.py").write_text(variant_train(bug_id))
        env = dict(os.environ, OMP_NUM_THREADS="1")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
    return sorted(set(re.findall(r"FAILED tests/test_train\.py::(\w+)", result.stdout)))


def main(argv: list[str] | None = None) -> int:
    """`python -m tools.teach_measure [ID ...]`: every mistake, or only the IDs given (their
    entries are replaced, the others kept)."""
    import torch

    ids = list(sys.argv[1:] if argv is None else argv)
    unknown = sorted(set(ids) - {b.id for b in BUGS})
    if unknown:
        print(f"unknown mistake ID {', '.join(unknown)} (scaffold teach --list)", file=sys.stderr)
        return 2
    numbers = measure_all(ids or None)
    for bug_id, entry in numbers.items():
        entry["project_tests_failing"] = project_tests_failing(bug_id)
    kept = json.loads(MEASURED.read_text(encoding="utf-8")) if ids and MEASURED.is_file() else {}
    numbers = {**{k: v for k, v in kept.items() if k != "_measured_with"}, **numbers}
    data = {"_measured_with": f"torch {torch.__version__}, CPU, OMP_NUM_THREADS=1", **numbers}
    MEASURED.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {MEASURED} ({len(numbers)} mistakes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
