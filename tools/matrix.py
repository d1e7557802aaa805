"""The option space the verification suite covers: the headline matrix and a pairwise cover.

Everything is derived from copier.yml (through `scaffold.options`): the headline questions, their
choices, and which scheduler/cadence pairs are valid (the ones `resolve_answers` accepts). Only the
values tried for free-form answers (numbers, names, paths) are chosen here, in `SAMPLE_VALUES`.

The enumeration is deterministic, so a failing combination is reproducible by its index.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from scaffold.options import AnswerError, Question, is_asked, load_questions, resolve_answers

#: accum_steps values of the headline matrix (off, and on with a window of 4).
HEADLINE_ACCUM = (1, 4)

#: Values tried for questions without a list of choices (the default is always tried as well).
SAMPLE_VALUES: dict[str, tuple[Any, ...]] = {
    "project_name": ("Odd_Name_2",),
    "accum_steps": (3, 4),
    "lr": (0.003,),
    "momentum": (0.0, 0.9),
    "weight_decay": (0.0, 0.1),
    "grad_clip": (0.0, 1.0),
    "epochs": (1, 7),
    "batch_size": (33, 128),
    "seed": (1234,),
    "hidden": (16,),
    "dropout": (0.0,),
    "early_stopping": (3,),
    "csv_path": ("/abs/data/my-set.v2.csv",),
    "label_column": ("my label-2",),
    "image_folder": ("/abs/data/pets.v2",),
    "text_path": ("/abs/corpus/my-book.v2.txt",),
}

_NO_CADENCE = None  # scheduler_cadence does not apply when scheduler == none


def questions() -> dict[str, Question]:
    """Questions of copier.yml by key, in order."""
    return {q.name: q for q in load_questions()}


def headline_keys() -> list[str]:
    """The headline questions, in copier.yml order."""
    return [q.name for q in load_questions() if q.headline]


def scheduler_pairs() -> list[tuple[str, str | None]]:
    """Every (scheduler, cadence) pair that resolve_answers accepts; cadence None = not asked."""
    qs = questions()
    pairs: list[tuple[str, str | None]] = []
    for scheduler in qs["scheduler"].choices or ():
        if not is_asked(qs["scheduler_cadence"], {"scheduler": scheduler}):
            pairs.append((scheduler, _NO_CADENCE))
            continue
        for cadence in qs["scheduler_cadence"].choices or ():
            try:
                resolve_answers({"scheduler": scheduler, "scheduler_cadence": cadence})
            except AnswerError:
                continue
            pairs.append((scheduler, cadence))
    return pairs


def invalid_scheduler_pairs() -> list[tuple[str, str]]:
    """(scheduler, cadence) pairs that must be refused."""
    qs = questions()
    valid = set(scheduler_pairs())
    return [
        (s, c)
        for s in qs["scheduler"].choices or ()
        for c in qs["scheduler_cadence"].choices or ()
        if (s, c) not in valid
    ]


def _given(combo: Mapping[str, Any]) -> dict[str, Any]:
    given = {k: v for k, v in combo.items() if k != "scheduler_pair"}
    if "scheduler_pair" in combo:
        scheduler, cadence = combo["scheduler_pair"]
        given["scheduler"] = scheduler
        if cadence is not _NO_CADENCE:
            given["scheduler_cadence"] = cadence
    return given


def headline_matrix(base: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every combination of the headline answers, as complete validated answer sets.

    precision x accum_steps in HEADLINE_ACCUM x each valid scheduler/cadence pair x compile x
    checkpoint; the other answers take their defaults (or `base`). The task rotates through the
    combinations instead of multiplying them: each task meets every value of every headline loop
    answer, and data.py and model.py do not depend on loop answers (tests/test_tasks_layout.py).
    """
    qs = questions()
    factors = {
        "precision": qs["precision"].choices,
        "accum_steps": HEADLINE_ACCUM,
        "scheduler_pair": scheduler_pairs(),
        "compile": qs["compile"].choices,
        "checkpoint": qs["checkpoint"].choices,
    }
    covered = {
        "task",
        "precision",
        "accum_steps",
        "scheduler",
        "scheduler_cadence",
        "compile",
        "checkpoint",
    }
    # data and its path questions change data.py and config.py's defaults, never the loop: the
    # headline matrix keeps each task's demo (it trains offline), and the pairwise cover, the
    # task tests and the new-user tests render and train the user's data.
    covered |= {"data", "csv_path", "label_column", "image_folder", "text_path"}
    assert covered >= set(headline_keys()), "a new headline question is missing from the matrix"
    out = []
    tasks = qs["task"].choices or ("tabular",)
    for index, values in enumerate(itertools.product(*factors.values())):
        combo = dict(zip(factors, values, strict=True))
        given = {"task": tasks[index % len(tasks)], **(base or {}), **_given(combo)}
        out.append(resolve_answers(given))
    return out


def variant_name(answers: Mapping[str, Any]) -> str:
    """A short folder-safe name for a headline combination: fp16-a4-onecycle_step-c_off-k_last."""
    sched = answers["scheduler"]
    if "scheduler_cadence" in answers and sched != "none":
        sched += "_" + answers["scheduler_cadence"]
    return (
        f"{answers['precision']}-a{answers['accum_steps']}-{sched}"
        f"-c_{answers['compile']}-k_{answers['checkpoint']}"
    )


# --------------------------------------------------------------------------------------------
# Pairwise cover of every answer
# --------------------------------------------------------------------------------------------
def task_choices() -> tuple[str, ...]:
    """The tasks of copier.yml, default first."""
    return tuple(questions()["task"].choices or ("tabular",))


def _task_accepts(task: str, key: str, value: Any) -> bool:
    """Whether `key=value` is a valid answer for `task` (data and monitor follow the task)."""
    try:
        resolve_answers({"task": task, key: value})
    except AnswerError as exc:
        return exc.key != key
    return True


def _applies_to_task(name: str, task: str) -> bool:
    """Whether conditional question `name` can apply in a project of `task` (hidden: tabular)."""
    return all(
        value == task if key == "task" else _task_accepts(task, key, value)
        for key, value in _enablers().get(name, {}).items()
    )


def pairwise_factors(task: str | None = None) -> dict[str, list[Any]]:
    """Each answer's values to combine pairwise for one task: choices, both booleans, or sample
    values (default: the default task).

    scheduler and scheduler_cadence form one factor (`scheduler_pair`) so only valid pairs occur.
    The task is fixed, and the values it refuses (another task's data or metric) and questions
    that never apply to it (the MLP's width for an image model) are left out: a cover per task.
    """
    task = task or task_choices()[0]
    factors: dict[str, list[Any]] = {}
    for q in load_questions():
        if q.name == "task":
            factors["task"] = [task]
            continue
        if (
            q.is_conditional
            and q.name != "scheduler_cadence"
            and not _applies_to_task(q.name, task)
        ):
            continue
        if q.name == "scheduler":
            factors["scheduler_pair"] = list(scheduler_pairs())
            continue
        if q.name == "scheduler_cadence":
            continue
        if q.choices is not None:
            values = list(q.choices)
        elif q.type == "bool":
            values = [False, True]
        else:
            values = [None, *SAMPLE_VALUES.get(q.name, ())]  # None = the (dynamic) default
        if q.choices is not None and not q.is_conditional:
            values = [value for value in values if _task_accepts(task, q.name, value)]
        factors[q.name] = list(dict.fromkeys(values))
    return factors


@functools.lru_cache(maxsize=1)
def _enablers() -> dict[str, dict[str, Any]]:
    """For each conditional question, an earlier answer that makes it apply (data=csv, ...)."""
    qs = list(load_questions())
    found: dict[str, dict[str, Any]] = {}
    for index, q in enumerate(qs):
        if not q.is_conditional or q.name == "scheduler_cadence":
            continue
        for earlier in qs[:index]:
            for value in earlier.choices or ():
                if is_asked(q, {earlier.name: value}):
                    found[q.name] = {earlier.name: value}
                    break
            if q.name in found:
                break
        if q.name not in found:
            raise ValueError(f"no single earlier answer enables {q.name}")
    return found


def _row_answers(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """Resolve a (partial) pairwise row: None for values meaning 'default', skip n/a keys."""
    enable = _enablers()
    given = {}
    for key, value in _given(row).items():
        if value is None:
            continue
        if key in enable and any(row.get(k) != v for k, v in enable[key].items()):
            continue  # the question does not apply to this row
        given[key] = value
    try:
        return resolve_answers(given)
    except AnswerError:
        return None


def _pair_applies(row: Mapping[str, Any], key: str) -> bool:
    enable = _enablers()
    return key not in enable or all(row.get(k) == v for k, v in enable[key].items())


def feasible_pairs(factors: Mapping[str, list[Any]] | None = None) -> set[tuple]:
    """Every pair of (key, value) that can occur together with both questions applying.

    A pair with a conditional question (csv_path, momentum) is feasible only together with the
    answer that enables it (data=csv, optimizer=sgd). Pairs are (key_a, repr_a, key_b, repr_b) in
    factor order.
    """
    factors = dict(factors or pairwise_factors())
    keys = list(factors)
    enable = _enablers()
    pairs = set()
    for a, b in itertools.combinations(keys, 2):
        for va in factors[a]:
            for vb in factors[b]:
                row = {a: va, b: vb}
                ok = True
                for cond in (a, b):
                    for k, v in enable.get(cond, {}).items():
                        if k in row and row[k] != v:
                            ok = False
                if ok:
                    pairs.add((a, _h(va), b, _h(vb)))
    return pairs


def pairwise_rows(factors: Mapping[str, list[Any]] | None = None) -> list[dict[str, Any]]:
    """A deterministic greedy all-pairs cover of `factors` (default: one cover per task, joined).

    A pair that involves a conditional question counts only in rows where that question applies
    (csv_path only with data=csv). Each row is checked with resolve_answers.
    """
    if factors is None:
        return [row for task in task_choices() for row in pairwise_rows(pairwise_factors(task))]
    factors = dict(factors)
    keys = list(factors)
    enable = _enablers()
    uncovered = feasible_pairs(factors)
    rows: list[dict[str, Any]] = []
    while uncovered:
        seed = min(uncovered, key=repr)
        a, va, b, vb = seed
        row: dict[str, Any] = {a: _unh(factors[a], va), b: _unh(factors[b], vb)}
        for cond in (a, b):
            row.update(enable.get(cond, {}))
        for key in keys:
            if key in row:
                continue
            best, best_gain = factors[key][0], -1
            for value in factors[key]:
                trial = {**row, key: value}
                gain = sum(1 for pair in _pairs_of(trial, key) if pair in uncovered)
                if gain > best_gain:
                    best, best_gain = value, gain
            row[key] = best
        newly = _all_pairs(row, keys) & uncovered
        if seed not in newly:  # pragma: no cover - the enablers were set above
            raise RuntimeError(f"pairwise: the row for {seed} does not cover it")
        if _row_answers(row) is None:
            raise RuntimeError(f"pairwise: row {row} is refused by resolve_answers")
        uncovered -= newly
        rows.append(row)
    return rows


def _h(value: Any) -> str:
    return repr(value)


def _unh(values: Iterable[Any], token: str) -> Any:
    for value in values:
        if repr(value) == token:
            return value
    raise KeyError(token)


def _pairs_of(row: Mapping[str, Any], key: str) -> Iterable[tuple]:
    for other in row:
        if other == key or not _pair_applies(row, other) or not _pair_applies(row, key):
            continue
        a, b = sorted([other, key], key=_KEY_ORDER.get)
        yield (a, _h(row[a]), b, _h(row[b]))


def _all_pairs(row: Mapping[str, Any], keys: list[str]) -> set[tuple]:
    pairs = set()
    present = [k for k in keys if k in row and _pair_applies(row, k)]
    for a, b in itertools.combinations(present, 2):
        pairs.add((a, _h(row[a]), b, _h(row[b])))
    return pairs


_KEY_ORDER = {
    key: index for index, key in enumerate(["scheduler_pair", *[q.name for q in load_questions()]])
}
_KEY_ORDER["scheduler_pair"] = _KEY_ORDER["scheduler"]


def pairwise_answers() -> list[dict[str, Any]]:
    """The pairwise cover as complete, validated answer sets."""
    out = []
    for row in pairwise_rows():
        answers = _row_answers(row)
        assert answers is not None
        out.append(answers)
    return out


# --------------------------------------------------------------------------------------------
# Checking renders (used by tests/test_render_matrix.py; black is imported lazily)
# --------------------------------------------------------------------------------------------
def render_raw(answers: Mapping[str, Any]) -> dict[str, str]:
    """Render without black, so a check can tell whether black would change anything."""
    from scaffold.render import render_in_memory

    return render_in_memory(answers, black_check=False)


def black_diff(text: str, name: str = "train.py") -> str | None:
    """None when black leaves `text` unchanged, else a unified diff (or the parse error)."""
    import difflib

    import black

    from scaffold.formatting import BLACK_LINE_LENGTH

    try:
        formatted = black.format_str(text, mode=black.Mode(line_length=BLACK_LINE_LENGTH))
    except black.InvalidInput as exc:
        return f"{name}: does not parse: {exc}"
    if formatted == text:
        return None
    lines = difflib.unified_diff(
        text.splitlines(keepends=True),
        formatted.splitlines(keepends=True),
        f"{name} (rendered)",
        f"{name} (black)",
    )
    return "".join(lines)


def compile_error(text: str, name: str = "train.py") -> str | None:
    """None when `text` compiles, else the SyntaxError as one line."""
    try:
        compile(text, name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{name}:{exc.lineno}: {exc.msg}"
    return None


def _render_many(chunk: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [render_raw(answers) for answers in chunk]


def _check_text(item: tuple[str, str]) -> tuple[str | None, str | None]:
    name, text = item
    return black_diff(text, name), compile_error(text, name)


def parallel_map(fn, items: list, workers: int | None = None, chunk: int = 1) -> list:
    """`map` over a process pool (fork) when there is more than one CPU; order is kept."""
    import os

    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(items) < 2 * chunk:
        return [fn(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(fn, items, chunksize=chunk))


def render_all(
    answer_sets: list[dict[str, Any]], workers: int | None = None
) -> list[dict[str, str]]:
    """Raw renders (no black) of every answer set, in parallel."""
    size = 24
    chunks = [answer_sets[i : i + size] for i in range(0, len(answer_sets), size)]
    return [files for batch in parallel_map(_render_many, chunks, workers) for files in batch]


@dataclass
class Analysed:
    """One raw render with, per Python file, its black windows and compile error."""

    files: dict[str, str]
    windows: dict[str, list[str] | None]
    compile_errors: dict[str, str]


def _analyse_many(chunk: list[dict[str, Any]]) -> list[Analysed]:
    out = []
    for answers in chunk:
        files = render_raw(answers)
        windows, errors = {}, {}
        for path, text in files.items():
            if path.endswith(".py"):
                windows[path] = black_windows(text)
                error = compile_error(text, path)
                if error:
                    errors[path] = error
        out.append(Analysed(files, windows, errors))
    return out


def analyse_all(answer_sets: list[dict[str, Any]], workers: int | None = None) -> list[Analysed]:
    """Render every answer set raw, compile each Python file and split it into black windows."""
    size = 16
    chunks = [answer_sets[i : i + size] for i in range(0, len(answer_sets), size)]
    return [item for batch in parallel_map(_analyse_many, chunks, workers) for item in batch]


def check_texts(
    texts: dict[str, str], workers: int | None = None
) -> dict[str, tuple[str | None, str | None]]:
    """{key: (black diff or None, compile error or None)} for python texts keyed by anything.

    `texts` maps a key (e.g. a hash) to (a display name, text) joined as `name\\0text`.
    """
    keys = list(texts)
    items = [tuple(texts[k].split("\0", 1)) for k in keys]
    results = parallel_map(_check_text, items, workers, chunk=8)
    return dict(zip(keys, results, strict=True))


# --------------------------------------------------------------------------------------------
# Black stability by windows of top-level statements (fast, cached across variants)
# --------------------------------------------------------------------------------------------
def black_windows(text: str) -> list[str] | None:
    """Split a module into overlapping windows of two adjacent top-level statements.

    Black decides a statement's layout from the statement itself, and the blank lines before a
    top-level statement from the statement before it. So a module is black-stable when every
    window (statement i-1 with the comments and blank lines up to the end of statement i) is,
    and windows repeat across variants, so each distinct one is checked once. The test suite
    cross-checks this against whole-file black (tests/test_render_matrix.py) and runs the
    whole-file check on every variant under `-m slow`.

    Returns:
        The windows, or None when the module does not parse or has a bare string statement
        after the first (black would read it as a docstring in a window): check the whole file.
    """
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.splitlines(keepends=True)
    ends = []
    for index, node in enumerate(tree.body):
        if (
            index
            and isinstance(node, ast.Expr)
            and isinstance(getattr(node, "value", None), ast.Constant)
        ):
            if isinstance(node.value.value, str):
                return None
        ends.append(node.end_lineno or node.lineno)
    if not ends:
        return None
    ends[-1] = len(lines)  # trailing comments and blank lines belong to the last statement
    chunks, start = [], 0
    for end in ends:
        chunks.append("".join(lines[start:end]))
        start = end
    windows = [chunks[0]]
    for before, current in itertools.pairwise(chunks):
        windows.append((before + current).lstrip("\n"))
    return windows


def windowed_black_check(texts: Iterable[str], workers: int | None = None) -> dict[str, str | None]:
    """{window text: black diff or None} for every distinct window of `texts` (whole files
    that cannot be windowed are checked whole)."""
    windows: dict[str, None] = {}
    for text in texts:
        for window in black_windows(text) or [text]:
            windows.setdefault(window, None)
    keys = list(windows)
    results = parallel_map(_black_only, keys, workers, chunk=16)
    return dict(zip(keys, results, strict=True))


def _black_only(text: str) -> str | None:
    return black_diff(text, "window")


def file_black_verdict(text: str, window_results: Mapping[str, str | None]) -> list[str]:
    """The black diffs of a file's windows (empty when black-stable), from precomputed results."""
    return [d for w in (black_windows(text) or [text]) if (d := window_results[w]) is not None]


def missing_values(answer_sets: Iterable[Mapping[str, Any]]) -> list[str]:
    """`key=value` for every choice or bool value that no answer set in `answer_sets` shows."""
    shown: dict[str, set] = {}
    for answers in answer_sets:
        for key, value in answers.items():
            shown.setdefault(key, set()).add(value)
    missing = []
    for q in load_questions():
        values = q.choices if q.choices is not None else ((False, True) if q.type == "bool" else ())
        missing += [f"{q.name}={v}" for v in values if v not in shown.get(q.name, set())]
    return missing


# --------------------------------------------------------------------------------------------
# Random draws over the whole answer space (tests/test_whole_space.py)
# --------------------------------------------------------------------------------------------
#: The spiral demo's training split with Config's defaults (3 x 1000 points, 20% held out):
#: a batch size of 2399 leaves a last batch of 1 sample.
SPIRAL_TRAIN_SAMPLES = 2400


def _accepts(question: Question, value: Any, context: Mapping[str, Any]) -> bool:
    from scaffold.options import validate

    try:
        validate(question, value, context)
    except AnswerError:
        return False
    return True


def _edge_of_range(question: Question, context: Mapping[str, Any], start: Any, up: bool) -> Any:
    """The last value the validator accepts going up (or down) from the accepted `start`."""
    sign = 1 if up else -1
    good, bad, step = start, None, 1
    while bad is None:  # gallop until refused; a range open to 1e15 counts as unbounded
        trial = start + sign * step
        if abs(trial) > 1e15:
            return good
        if _accepts(question, question_cast(question, trial), context):
            good, step = trial, step * 2
        else:
            bad = trial
    for _ in range(200):  # bisect to the boundary
        if question.type == "int" and abs(bad - good) <= 1:
            break
        middle = (good + bad) // 2 if question.type == "int" else (good + bad) / 2
        if middle in (good, bad):
            break
        if _accepts(question, question_cast(question, middle), context):
            good = middle
        else:
            bad = middle
    rounded = round(good, 9)  # a closed bound (weight_decay >= 0) comes out as itself
    if _accepts(question, question_cast(question, rounded), context):
        good = rounded
    return question_cast(question, good)


def question_cast(question: Question, value: Any) -> Any:
    return int(value) if question.type == "int" else float(value)


@functools.lru_cache(maxsize=64)
def valid_range(name: str) -> tuple[Any, Any]:
    """(lowest, highest) value that the copier.yml validator of numeric question `name` accepts.

    Found by probing the validator from the default outwards, so the ranges are written only
    in copier.yml. Exclusive bounds come out as the nearest accepted value (lr > 0 gives a tiny
    positive lr; dropout < 1 gives 0.999...).
    """
    from scaffold.options import evaluate_default

    qs = list(load_questions())
    context: dict[str, Any] = {}
    for q in qs:
        if q.name == name:
            start = evaluate_default(q, context)
            return _edge_of_range(q, context, start, up=False), _edge_of_range(
                q, context, start, up=True
            )
        context[q.name] = evaluate_default(q, context)
    raise KeyError(name)


def _draw_number(question: Question, rng: Any, context: Mapping[str, Any]) -> Any:
    import math

    from scaffold.options import evaluate_default

    low, high = valid_range(question.name)
    roll = rng.random()
    if roll < 0.25:
        return rng.choice([low, high, evaluate_default(question, context)])
    if question.type == "int":
        # Half the draws near the low end (accum 1-17, patience 0-16: where off-by-one bugs
        # live), the rest log-uniform over the whole range.
        top = min(high, low + 16) if roll < 0.75 else high
        value = math.exp(rng.uniform(math.log(low + 1), math.log(top + 1))) - 1
        return max(low, min(high, int(round(value))))
    if low > 0:
        return math.exp(rng.uniform(math.log(max(low, 1e-6)), math.log(high)))
    if high < 1:
        return rng.uniform(low, high)
    return rng.choice([0.0, math.exp(rng.uniform(math.log(1e-6), math.log(high)))])


def _draw_value(question: Question, rng: Any, context: Mapping[str, Any]) -> Any:
    from scaffold.options import evaluate_default

    if question.choices is not None:
        return rng.choice(list(question.choices))
    if question.type == "bool":
        return rng.choice([False, True])
    if question.type in ("int", "float"):
        return _draw_number(question, rng, context)
    samples = [evaluate_default(question, context), *SAMPLE_VALUES.get(question.name, ())]
    return rng.choice(samples)


def random_answers(rng: Any, fixed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One complete, valid answer set drawn at random over every question of copier.yml.

    Args:
        rng: A `random.Random`.
        fixed: Answers to keep (an edge case); the rest is drawn around them, redrawing until
            every fixed answer applies and is accepted (scheduler_cadence=epoch needs a
            scheduler that has a cadence and allows it).

    Each question is drawn in copier's order, given the answers before it; a value its
    validator refuses there (plateau with step cadence) is redrawn.
    """
    fixed = dict(fixed or {})
    for _ in range(1000):
        answers = _draw_around(rng, fixed)
        if all(answers.get(key, _MISSING) == value for key, value in fixed.items()):
            return answers
    raise ValueError(f"no valid answer set holds {fixed}")


_MISSING = object()


def _draw_around(rng: Any, fixed: Mapping[str, Any]) -> dict[str, Any]:
    from scaffold.options import evaluate_default

    given: dict[str, Any] = {}
    context: dict[str, Any] = {}
    for question in load_questions():
        if not is_asked(question, context):
            context[question.name] = evaluate_default(question, context)
            continue
        if question.name in fixed and _accepts(question, fixed[question.name], context):
            value = fixed[question.name]
        else:
            for _ in range(100):
                value = _draw_value(question, rng, context)
                if _accepts(question, value, context):
                    break
            else:  # pragma: no cover - every question has an accepted default
                value = evaluate_default(question, context)
        given[question.name] = value
        context[question.name] = value
    return resolve_answers(given)


def edge_cases() -> dict[str, dict[str, Any]]:
    """Named partial answer sets that a whole-space sample must contain, each drawn around.

    Every choice of every question, both booleans, both ends of every numeric range, and the
    cases that broke before: accumulation 1, 2, 13 (more micro-batches than the tests' 12-batch
    loader), 64; a last batch of 1 sample (with and without batchnorm); fp16 with and without
    clipping; batchnorm with accumulation; each class of early-stopping patience.
    """
    edges: dict[str, dict[str, Any]] = {}
    for q in load_questions():
        if q.choices is not None:
            for choice in q.choices:
                edges[f"{q.name}={choice}"] = {q.name: choice}
        elif q.type == "bool":
            for value in (False, True):
                edges[f"{q.name}={value}"] = {q.name: value}
        elif q.type in ("int", "float"):
            low, high = valid_range(q.name)
            edges[f"{q.name}=min"] = {q.name: low}
            edges[f"{q.name}=max"] = {q.name: high}
    for accum in (1, 2, 13, 64):
        edges[f"accum_steps={accum}"] = {"accum_steps": accum}
    tail_of_one = SPIRAL_TRAIN_SAMPLES - 1
    edges["tail-of-1"] = {"data": "spiral", "batch_size": tail_of_one, "batchnorm": False}
    edges["tail-of-1-batchnorm"] = {"data": "spiral", "batch_size": tail_of_one, "batchnorm": True}
    edges["fp16-clip"] = {"precision": "fp16", "grad_clip": 1.0}
    edges["fp16-no-clip"] = {"precision": "fp16", "grad_clip": 0.0}
    edges["fp16-step-cadence"] = {"precision": "fp16", "scheduler": "onecycle"}
    edges["batchnorm-accum"] = {"batchnorm": True, "accum_steps": 4}
    edges["batchnorm-accum-13"] = {"batchnorm": True, "accum_steps": 13}
    for patience in (0, 1, 3):
        edges[f"early_stopping={patience}"] = {"early_stopping": patience}
    edges["plateau-val_acc"] = {"scheduler": "plateau", "monitor": "val_acc"}
    edges["resume-sgd-step"] = {
        "checkpoint": "best_and_last",
        "optimizer": "sgd",
        "scheduler": "step",
    }
    return edges


def whole_space_sample(seed: int, draws: int) -> list[tuple[str, dict[str, Any]]]:
    """`draws` named answer sets: every edge case once (drawn around), then random ones.

    Deterministic for a seed. When `draws` is smaller than the number of edge cases, a
    seed-dependent subset of them is taken, so rotating seeds cover them all over runs.
    """
    import random

    rng = random.Random(seed)
    edges = list(edge_cases().items())
    if draws < len(edges):
        edges = rng.sample(edges, draws)
    sample = [(name, random_answers(rng, fixed)) for name, fixed in edges]
    while len(sample) < draws:
        sample.append((f"random-{len(sample)}", random_answers(rng)))
    return sample
