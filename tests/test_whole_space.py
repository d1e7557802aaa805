"""The whole answer space: random answer sets over EVERY question of copier.yml, plus the edge
cases, each rendered and put through its OWN generated tests (`pytest` inside the project).

The seed rotates per run and is printed; `SCAFFOLD_SEED=N` replays a run, and every failure
prints the `scaffold new ... --set` command that renders the failing project. The default run
takes a sample sized for CI (SCAFFOLD_DRAWS, default 4: a seed-dependent share of the edge
cases, so rotating seeds cover them all); `pytest -m matrix` runs every edge case and random
draws up to 500.

Speed: projects are rendered in memory (no copier, no git) by worker processes that import torch
once and run each project's pytest in process (tests/helpers.py); a failure is confirmed in a
fresh `python -m pytest` so that nothing one project leaves behind can decide another's verdict.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import helpers
import pytest
from helpers import PYTHON, child_env, reproduce_command

from tools import matrix
from scaffold.options import load_questions, resolve_answers

DEFAULT_DRAWS = int(os.environ.get("SCAFFOLD_DRAWS", "4"))  # ~45 s a draw on 2 workers (CI)
MATRIX_DRAWS = max(500, len(matrix.edge_cases()))
DRAW_TIMEOUT_S = 600


def seed() -> int:
    """SCAFFOLD_SEED, or a new seed each run (printed, so any run can be replayed)."""
    return int(os.environ.get("SCAFFOLD_SEED") or time.time_ns() % 2**32)


def workers() -> int:
    return int(os.environ.get("SCAFFOLD_WORKERS") or max(1, min(2, os.cpu_count() or 1)))


def run_draws(root: Path, draws: list[tuple[str, dict]], progress=None) -> list[dict]:
    """Render and test every draw on a pool of in-process workers; results in draw order.

    `progress(line)` is called about every tenth of the draws (at least every 10).
    """
    jobs: queue.Queue = queue.Queue()
    for index, (name, answers) in enumerate(draws):
        jobs.put((index, name, answers))
    results: list[dict | None] = [None] * len(draws)

    def serve() -> None:
        process = None
        while True:
            try:
                index, name, answers = jobs.get_nowait()
            except queue.Empty:
                break
            if process is None:
                process = subprocess.Popen(
                    [PYTHON, helpers.__file__, "--worker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=child_env(),
                )
            dest = root / f"{index:04d}"
            job = {"dest": str(dest), "answers": answers}
            timer = threading.Timer(DRAW_TIMEOUT_S, process.kill)
            timer.start()
            try:
                process.stdin.write(json.dumps(job) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError:
                line = ""
            finally:
                timer.cancel()
            if line:
                result = json.loads(line)
            else:  # the worker died or timed out: a failed draw, and a fresh worker for the next
                result = {"code": -9, "output": "worker died or timed out", "seconds": DRAW_TIMEOUT_S}
                process.kill()
                process = None
            results[index] = {"name": name, "answers": answers, "dest": dest, **result}
        if process is not None:
            process.stdin.close()
            process.wait(timeout=60)

    threads = [threading.Thread(target=serve) for _ in range(workers())]
    for thread in threads:
        thread.start()
    reported, start, told = 0, time.perf_counter(), set()
    while any(thread.is_alive() for thread in threads):
        time.sleep(1)
        done = [r for r in results if r is not None]
        for r in done:
            if r["code"] != 0 and progress and r["name"] not in told:
                told.add(r["name"])
                progress(f"  failed: {r['name']}: {reproduce_command(r['answers'])}")
        if progress and len(done) >= reported + max(10, len(draws) // 10):
            reported = len(done)
            failed = sum(1 for r in done if r["code"] != 0)
            progress(f"  {reported}/{len(draws)} draws, {failed} failed, {time.perf_counter() - start:.0f}s")
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def confirm_in_fresh_process(dest: Path) -> str:
    """The project's tests run the way a user runs them, for a failure's report."""
    if not (dest / "train.py").exists():
        return "(not rendered)"
    done = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=DRAW_TIMEOUT_S,
    )
    tail = done.stdout.strip().splitlines()[-1:] or ["(no output)"]
    return f"exit {done.returncode}: {tail[0]}"


def check_whole_space(root: Path, count: int, capsys) -> None:
    run_seed = seed()
    draws = matrix.whole_space_sample(run_seed, count)
    start = time.perf_counter()

    def progress(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    progress(f"\nwhole space: seed {run_seed}, {len(draws)} draws on {workers()} workers")
    results = run_draws(root, draws, progress)
    wall = time.perf_counter() - start
    failed = [r for r in results if r["code"] != 0]
    slowest = sorted(results, key=lambda r: -r["seconds"])[:3]
    lines = [
        f"whole space: seed {run_seed} (replay: SCAFFOLD_SEED={run_seed}), {len(results)} draws "
        f"({sum(1 for n, _ in draws if not n.startswith('random-'))} edge cases), "
        f"{len(results) - len(failed)} passed, {len(failed)} failed, {wall:.0f}s on {workers()} workers",
        "slowest: " + ", ".join(f"{r['name']} {r['seconds']:.1f}s" for r in slowest),
    ]
    problems = []
    for r in failed:
        problems.append(
            f"{r['name']} (seed {run_seed}): {reproduce_command(r['answers'])}\n"
            f"  fresh process: {confirm_in_fresh_process(r['dest'])}\n"
            + "\n".join("  | " + line for line in r["output"].strip().splitlines()[-25:])
        )
        lines.append(f"FAILED {r['name']}: {reproduce_command(r['answers'])}")
    progress("\n".join(lines))
    assert not failed, f"{len(failed)} of {len(results)} draws failed their own tests:\n\n" + (
        "\n\n".join(problems)
    )


def test_whole_space_sample(tmp_path, capsys):
    check_whole_space(tmp_path, DEFAULT_DRAWS, capsys)


@pytest.mark.matrix
def test_whole_space_matrix(tmp_path, capsys):
    check_whole_space(tmp_path, MATRIX_DRAWS, capsys)


# --------------------------------------------------------------------------------------------
# The sampler itself (fast: no torch, no rendering)
# --------------------------------------------------------------------------------------------
def test_sample_is_valid_and_reproducible():
    first = matrix.whole_space_sample(7, 60)
    assert first == matrix.whole_space_sample(7, 60)
    assert first != matrix.whole_space_sample(8, 60)
    for _, answers in first:
        assert resolve_answers(answers) == answers


def test_matrix_sample_covers_every_question_and_edge():
    sample = matrix.whole_space_sample(0, MATRIX_DRAWS)
    names = [name for name, _ in sample]
    assert set(matrix.edge_cases()) <= set(names)
    assert not matrix.missing_values([answers for _, answers in sample])
    for question in load_questions():
        shown = Counter(repr(a[question.name]) for _, a in sample if question.name in a)
        assert len(shown) >= 2, f"{question.name} takes only {sorted(shown)}"


def test_edge_cases_hold_in_their_draws():
    for name, answers in matrix.whole_space_sample(3, MATRIX_DRAWS):
        fixed = matrix.edge_cases().get(name, {})
        for key, value in fixed.items():
            assert answers[key] == value, f"{name}: {key}"
    accums = {a["accum_steps"] for _, a in matrix.whole_space_sample(3, MATRIX_DRAWS)}
    assert {1, 2, 13, 64, 1024} <= accums


def test_ranges_come_from_the_validators():
    for name in ("accum_steps", "epochs", "batch_size", "hidden", "early_stopping", "seed"):
        low, high = matrix.valid_range(name)
        question = {q.name: q for q in load_questions()}[name]
        for value, ok in [(low, True), (high, True), (low - 1, False), (high + 1, False)]:
            assert matrix._accepts(question, value, resolve_answers({})) is ok, (name, value)
    low, high = matrix.valid_range("lr")
    assert 0 < low < 1e-30 and high == 10.0
    assert matrix.valid_range("weight_decay") == (0.0, 1.0)
