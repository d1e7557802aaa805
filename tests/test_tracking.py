"""The generated tracking.py and its hooks in train.py: what each backend logs, read back.

csv (steps.csv, always written) is checked here on every run. TensorBoard, MLflow and wandb are
optional extras of the generated project; their tests need the packages (`pytest -m tracking`,
see docs/tracking.md) and are skipped without them. A missing package is simulated by blocking
its import, so that test runs everywhere.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import math
import shutil
import sqlite3
import struct
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import PYTHON, child_env, write_project

from scaffold.options import resolve_answers
from scaffold.render import render_in_memory

K = 7  # --log-every of the runs below: 38 optimizer steps per epoch, not a multiple of 7


def run(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, *args], cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=timeout
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def train(project: Path, name: str, *flags: str) -> Path:
    """Train 2 short epochs into runs/NAME; returns the run folder."""
    done = run(project, "train.py", "--epochs", "2", "--log-every", str(K), "--out", f"runs/{name}", *flags)
    assert done.returncode == 0, done.stderr
    return project / "runs" / name


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("tracking") / "p")


@pytest.fixture(scope="module")
def bare_project(tmp_path_factory) -> Path:
    """A project that never trains: the refused runs below must leave it without runs/."""
    return write_project(tmp_path_factory.mktemp("tracking") / "bare")


@pytest.fixture(scope="module")
def csv_run(project) -> Path:
    return train(project, "csv")


def expected_steps(total: int, every: int) -> list[int]:
    return list(range(1, total + 1, every))  # the first step, then every `every`-th


# --------------------------------------------------------------------------------------------
# csv: steps.csv and the step column of metrics.csv
# --------------------------------------------------------------------------------------------
def test_steps_csv_has_one_row_per_interval(csv_run):
    total = json.loads((csv_run / "summary.json").read_text())["optimizer_steps"]
    rows = read_csv(csv_run / "steps.csv")
    assert len(rows) == math.ceil(total / K)
    assert [int(r["step"]) for r in rows] == expected_steps(total, K)
    per_epoch = total // 2
    assert [int(r["epoch"]) for r in rows] == [(int(r["step"]) - 1) // per_epoch + 1 for r in rows]
    assert all(math.isfinite(float(r[c])) for r in rows for c in ("loss", "lr", "grad_norm"))


def test_metrics_csv_step_column_counts_optimizer_steps(csv_run):
    total = json.loads((csv_run / "summary.json").read_text())["optimizer_steps"]
    rows = read_csv(csv_run / "metrics.csv")
    assert [int(r["step"]) for r in rows] == [total // 2, total]


def test_every_step_logged_averages_to_the_epoch_loss(project):
    """--log-every 1: the rows' sample-weighted mean is metrics.csv's train_loss of the epoch."""
    out = project / "runs" / "every"
    done = run(project, "train.py", "--epochs", "1", "--log-every", "1", "--out", "runs/every")
    assert done.returncode == 0, done.stderr
    rows = read_csv(out / "steps.csv")
    samples = 2400  # 3000 spiral points, 20 % held out; batches of 64, the last one of 32
    sizes = [64] * (samples // 64) + ([samples % 64] if samples % 64 else [])
    assert len(rows) == len(sizes)
    mean = sum(float(r["loss"]) * n for r, n in zip(rows, sizes)) / samples
    epoch_loss = float(read_csv(out / "metrics.csv")[0]["train_loss"])
    assert mean == pytest.approx(epoch_loss, abs=2e-6)
    # The lr of each row is the optimizer's after that step (cosine per epoch: constant here).
    assert {float(r["lr"]) for r in rows} == {0.01}


def test_grad_norm_is_the_pre_clip_norm_and_is_measured_without_clipping(project):
    clipped = train(project, "clip", "--grad-clip", "1e-3")
    unclipped = train(project, "noclip", "--grad-clip", "0")
    # Clipping to 1e-3 does not cap the logged norm: clip_grad_norm_ returns the norm before.
    assert min(float(r["grad_norm"]) for r in read_csv(clipped / "steps.csv")) > 1e-2
    assert all(float(r["grad_norm"]) > 0 for r in read_csv(unclipped / "steps.csv"))


# --------------------------------------------------------------------------------------------
# No host sync per step: counted in process, and checked in the source of every loop variant
# --------------------------------------------------------------------------------------------
def load_project(project: Path):
    """Import the project's train.py (and its tracking.py) as fresh modules."""
    if str(project) in sys.path:  # first on the path: its config.py, not another project's
        sys.path.remove(str(project))
    sys.path.insert(0, str(project))
    for module in ("config", "data", "model", "tracking"):  # this project's copies, not another one's
        sys.modules.pop(module, None)
    name = f"train_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, project / "train.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("every", [1, 5, 1000])
def test_host_syncs_happen_only_at_the_log_interval(project, tmp_path, monkeypatch, every):
    """Count the tensor-to-Python reads that train.py and tracking.py make during one epoch:
    one per logged step plus the epoch's mean loss. A `.item()` (or float(), .tolist()) per
    step makes this fail. (torch's own reads, e.g. the CPU optimizer's step counter, are not
    the loop's and are not counted.)"""
    train_mod = load_project(project)
    torch = train_mod.torch
    cfg = train_mod.Config(out=str(tmp_path / "r"), device="cpu", progress=False, samples_per_class=100)
    device = torch.device("cpu")
    train_loader, _, info = train_mod.build_loaders(cfg, device)
    steps = len(train_loader)
    c = train_mod.build_components(cfg, info, steps, device)
    tracker = train_mod.Tracker(every=every)
    reads = []
    for method in ("item", "tolist", "__float__", "__int__", "__bool__"):
        original = getattr(torch.Tensor, method)

        def counted(self, *args, _original=original, _name=method, **kwargs):
            if Path(sys._getframe(1).f_code.co_filename).parent == project:
                reads.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counted)
    train_mod.train_one_epoch(c, train_loader, cfg, train_mod.Progress(), 0, tracker)
    monkeypatch.undo()
    logged = len(expected_steps(steps, every))
    assert reads.count("tolist") == logged, reads
    assert reads.count("item") == 1, reads  # the epoch's mean loss, after the loop
    assert len(reads) == logged + 1, reads


class _PerStepReads(ast.NodeVisitor):
    """Calls inside train_one_epoch's batch loop that read a tensor back to the host."""

    SYNCS = {"item", "tolist", "cpu", "numpy"}

    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in self.SYNCS:
            self.found.append(ast.unparse(node))
        if isinstance(func, ast.Name) and func.id in {"float", "int", "bool"}:
            self.found.append(ast.unparse(node))
        self.generic_visit(node)


ANSWER_SETS = [
    {},
    {"precision": "bf16", "accum_steps": 3, "scheduler": "onecycle"},
    {"precision": "fp16", "grad_clip": 0.0, "scheduler": "warmup_cosine"},
    {"accum_steps": 2, "grad_clip": 0.0, "scheduler": "none", "annotations": "none"},
]


@pytest.mark.parametrize("given", ANSWER_SETS, ids=lambda g: ",".join(map(str, g.values())) or "defaults")
def test_the_batch_loop_reads_nothing_back_outside_the_interval(given):
    """Statically: in every loop variant, the only host reads in the batch loop sit under
    `if tracker.due(...)` (fp16's scaler.get_scale() is the scaler's own, and named here)."""
    source = render_in_memory(resolve_answers(given))["train.py"]
    func = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name == "train_one_epoch"
    )
    loop = next(node for node in ast.walk(func) if isinstance(node, ast.For))
    visitor = _PerStepReads()
    for statement in loop.body:
        is_interval = isinstance(statement, ast.If) and "tracker.due" in ast.unparse(statement.test)
        if not is_interval:
            visitor.visit(statement)
    found = [call for call in visitor.found if "get_scale" not in call and "int(stepped)" not in call]
    assert found == [], f"per-step host reads in train_one_epoch: {found}"
    assert "tracker.due(progress.step)" in ast.unparse(loop)


def test_resumed_steps_csv_keeps_only_rows_the_checkpoint_covers(project, tmp_path):
    load_project(project)
    tracking = sys.modules["tracking"]  # the project's own tracking.py, imported by train.py
    path = tmp_path / "steps.csv"
    logger = tracking.CSVLogger(path)
    for step in (1, 8, 15, 22):
        logger.log_scalars({"step/epoch": 1, "step/loss": 1.0, "step/lr": 0.1, "step/grad_norm": 2.0}, step)
    tracking.CSVLogger(path, start_step=15)  # a crash after step 22, last.pt at step 15
    assert [r["step"] for r in read_csv(path)] == ["1", "8", "15"]
    tracking.CSVLogger(path)  # a fresh run starts the file again
    assert read_csv(path) == []


# --------------------------------------------------------------------------------------------
# A missing optional package: one line, exit 2, nothing written
# --------------------------------------------------------------------------------------------
BLOCK = (
    "import runpy, sys\n"
    "sys.modules[{module!r}] = None  # as if it were not installed\n"
    "sys.argv = ['train.py', *sys.argv[1:]]\n"
    "runpy.run_path('train.py', run_name='__main__')\n"
)


@pytest.mark.parametrize(
    "backend, module", [("tensorboard", "tensorboard"), ("mlflow", "mlflow"), ("wandb", "wandb")]
)
def test_a_missing_tracker_package_is_one_line_and_writes_nothing(bare_project, backend, module):
    project = bare_project
    code = BLOCK.format(module=module)
    done = run(project, "-c", code, "--tracking", backend, "--epochs", "1")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("train.py: error: argument --tracking: ")
    assert f"pip install {backend}" in lines[0] and f'".[{backend}]"' in lines[0]
    assert not (project / "runs").exists()
    if backend == "tensorboard":  # docs/errors.md holds the line (its row names this backend)
        from test_train_cli_errors import assert_documented

        mistake = "--tracking tensorboard without the tensorboard package"
        fragment = "argument --tracking: tensorboard needs the tensorboard package: pip install tensorboard"
        assert fragment in lines[0]
        assert_documented(mistake, 2, fragment)


def test_the_generated_pyproject_offers_each_backend_as_an_extra(project):
    text = (project / "pyproject.toml").read_text()
    for extra in ("tensorboard", "mlflow", "wandb"):
        assert f"\n{extra} = [" in text
    assert '"tracking"' in text  # py-modules: the module ships with the project


def test_the_answer_sets_the_default_backend(tmp_path):
    project = write_project(tmp_path / "p", tracking="tensorboard")
    assert 'tracking: str = option(\n        "tensorboard"' in (project / "config.py").read_text()


# --------------------------------------------------------------------------------------------
# The optional backends: what they stored equals steps.csv and metrics.csv
# --------------------------------------------------------------------------------------------
def step_series(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """steps.csv and metrics.csv as the series the trackers should hold: tag -> [(step, value)]."""
    series: dict[str, list[tuple[int, float]]] = {}
    for row in read_csv(run_dir / "steps.csv"):
        for column in ("epoch", "loss", "lr", "grad_norm"):
            series.setdefault(f"step/{column}", []).append((int(row["step"]), float(row[column])))
    for row in read_csv(run_dir / "metrics.csv"):
        for column in ("epoch", "train_loss", "val_loss", "val_acc", "lr", "seconds"):
            series.setdefault(f"epoch/{column}", []).append((int(row["step"]), float(row[column])))
    return series


def assert_same_series(logged: dict[str, list[tuple[int, float]]], expected) -> None:
    assert set(expected) <= set(logged), sorted(set(expected) - set(logged))
    for tag, points in expected.items():
        got = sorted(logged[tag])
        assert [s for s, _ in got] == [s for s, _ in points], tag
        for (_, value), (_, want) in zip(got, points):
            # metrics.csv rounds to 6 decimals (lr to 6 digits, seconds to 3); TensorBoard
            # stores float32
            slack = 6e-4 if tag == "epoch/seconds" else 2e-6
            assert value == pytest.approx(want, rel=1e-5, abs=slack), tag


@pytest.mark.tracking
def test_tensorboard_event_files_hold_the_logged_values(project):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = train(project, "tb", "--tracking", "tensorboard")
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    logged = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    assert_same_series(logged, step_series(run_dir))


@pytest.mark.tracking
def test_mlflow_sqlite_rows_hold_the_logged_values(project):
    pytest.importorskip("mlflow")
    run_dir = train(project, "mlf", "--tracking", "mlflow")
    database = project / "runs" / "mlflow.db"  # beside the run folders, one for all runs
    run_id = (run_dir / "mlflow_run_id").read_text().strip()
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT key, step, value FROM metrics WHERE run_uuid = ?", (run_id,))
        logged: dict[str, list[tuple[int, float]]] = {}
        for key, step, value in rows:
            logged.setdefault(key, []).append((step, value))
        params = dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)))
        status, name = db.execute("SELECT status, name FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
    assert_same_series(logged, step_series(run_dir))
    assert params["log_every"] == str(K) and params["tracking"] == "mlflow"
    assert (status, name) == ("FINISHED", "mlf")
    assert not (project / "mlruns").exists()  # nothing in the file store's default folder


def wandb_records(path: Path):
    """The protobuf records of an offline run's .wandb file.

    The file is wandb's datastore: a 7-byte header (":W&B", 0xBEE1, version 0), then LevelDB-log
    chunks (crc32, little-endian length, type: 1 full, 2 first, 3 middle, 4 last) in 32 KiB
    blocks whose tails shorter than a chunk header are padding. Read here by hand: wandb no
    longer ships a Python reader (its core is a Go binary).
    """
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:7] == b":W&B\xe1\xbe\x00", data[:7]
    pos, block, chunk = 7, 32768, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunk)
            yield record
            chunk = b""


def wandb_run(folder: Path) -> tuple[dict[str, list[tuple[int, float]]], dict, list]:
    """One offline-run-* folder: its history as tag -> [(step, value)], its config, its run records."""
    (records,) = folder.glob("run-*.wandb")
    logged: dict[str, list[tuple[int, float]]] = {}
    config, runs = {}, []
    for record in wandb_records(records):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            items = {
                item.key or "/".join(item.nested_key): json.loads(item.value_json)
                for item in record.history.item
            }
            step = int(items["_step"])
            for key, value in items.items():
                if not key.startswith("_"):
                    logged.setdefault(key, []).append((step, float(value)))
        elif kind == "config":
            config.update({item.key: json.loads(item.value_json) for item in record.config.update})
        elif kind == "run":
            runs.append(record.run)
    return logged, config, runs


@pytest.mark.tracking
def test_wandb_offline_run_holds_the_logged_values(project):
    pytest.importorskip("wandb")
    run_dir = train(project, "wb", "--tracking", "wandb")
    folders = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(folders) == 1, folders
    logged, config, _ = wandb_run(folders[0])
    assert_same_series(logged, step_series(run_dir))
    assert config["log_every"] == K and config["tracking"] == "wandb"


# --------------------------------------------------------------------------------------------
# Resume: an interrupted run resumed with --resume continues the SAME tracker run
# --------------------------------------------------------------------------------------------
# The run is stopped as by Ctrl-C in the middle of epoch 2 (last.pt holds epoch 1: step 38),
# after steps 43, 50 and 57 were logged: what the resume must neither lose nor log twice.
CHECKPOINT_STEP = 38
STOP_AFTER = 58  # micro-batches before the interrupt
LOGGED_PAST_CHECKPOINT = [43, 50, 57]
INTERRUPT = '''\
"""Test-only launcher (not part of the template): train.main() interrupted as by Ctrl-C after
STOP_AFTER micro-batches, in the middle of an epoch; trackers close at exit, as after a real one."""
import os
import sys

import tracking
import train

STOP_AFTER = int(os.environ["STOP_AFTER"])
calls = 0
real_add_loss = tracking.Tracker.add_loss


def add_loss(self, loss, count):
    global calls
    calls += 1
    if calls > STOP_AFTER:
        raise KeyboardInterrupt
    real_add_loss(self, loss, count)


tracking.Tracker.add_loss = add_loss
sys.exit(train.main())
'''


@dataclass(frozen=True)
class Resumed:
    run_dir: Path  # after the resume
    crashed: Path  # a copy of the run folder (and runs/mlflow.db) as the interrupt left it


def interrupt_and_resume(project: Path, name: str, *flags: str) -> Resumed:
    """Train 2 epochs into runs/NAME, interrupted mid-epoch 2, then `--resume runs/NAME`."""
    (project / "interrupt.py").write_text(INTERRUPT)
    flags = ("--epochs", "2", "--log-every", str(K), *flags)
    first = subprocess.run(
        [PYTHON, "interrupt.py", *flags, "--out", f"runs/{name}"],
        cwd=project,
        env=child_env(STOP_AFTER=str(STOP_AFTER)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 130 and "interrupted:" in first.stderr, first.stderr
    run_dir = project / "runs" / name
    crashed = project / "interrupted" / name
    shutil.copytree(run_dir, crashed)
    if (project / "runs" / "mlflow.db").exists():
        shutil.copy2(project / "runs" / "mlflow.db", crashed / "mlflow.db")
    done = run(project, "train.py", *flags, "--resume", f"runs/{name}")
    assert done.returncode == 0, done.stderr
    assert f"resumed from runs/{name}/last.pt after epoch 1" in done.stdout, done.stdout
    return Resumed(run_dir, crashed)


@pytest.fixture(scope="module")
def csv_resumed(project) -> Resumed:
    return interrupt_and_resume(project, "csv-resumed")


def test_the_interrupted_run_logged_steps_past_its_checkpoint(csv_resumed):
    """The premise of the resume tests: there is something to trim."""
    steps = [int(row["step"]) for row in read_csv(csv_resumed.crashed / "steps.csv")]
    assert steps == expected_steps(LOGGED_PAST_CHECKPOINT[-1], K)
    assert [s for s in steps if s > CHECKPOINT_STEP] == LOGGED_PAST_CHECKPOINT


def test_resumed_steps_csv_equals_the_uninterrupted_run(csv_resumed, csv_run):
    """One header, each step once, the rows of an uninterrupted run; only the loss of the first
    row after the resume differs: it averages the steps since the resume (docs/tracking.md)."""
    lines = (csv_resumed.run_dir / "steps.csv").read_text().splitlines()
    assert lines[0] == ",".join(STEP_COLUMNS_OF_DOCS) and lines.count(lines[0]) == 1
    resumed, reference = read_csv(csv_resumed.run_dir / "steps.csv"), read_csv(csv_run / "steps.csv")
    assert [r["step"] for r in resumed] == [r["step"] for r in reference]
    first_after = next(int(r["step"]) for r in resumed if int(r["step"]) > CHECKPOINT_STEP)
    for got, want in zip(resumed, reference, strict=True):
        if int(got["step"]) == first_after:
            got, want = {**got, "loss": ""}, {**want, "loss": ""}
        assert got == want


def test_resumed_metrics_csv_equals_the_uninterrupted_run(csv_resumed, csv_run):
    def rows(path: Path) -> list[dict[str, str]]:  # seconds is wall time
        return [{k: v for k, v in row.items() if k != "seconds"} for row in read_csv(path)]

    assert rows(csv_resumed.run_dir / "metrics.csv") == rows(csv_run / "metrics.csv")


STEP_COLUMNS_OF_DOCS = ["step", "epoch", "loss", "lr", "grad_norm"]  # docs/tracking.md's table


def tensorboard_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@pytest.mark.tracking
def test_tensorboard_resume_continues_the_events_without_doubled_steps(project):
    pytest.importorskip("tensorboard")
    resumed = interrupt_and_resume(project, "tb-resumed", "--tracking", "tensorboard")
    before = tensorboard_scalars(resumed.crashed / "tensorboard")
    assert [s for s, _ in before["step/loss"] if s > CHECKPOINT_STEP] == LOGGED_PAST_CHECKPOINT
    logged = tensorboard_scalars(resumed.run_dir / "tensorboard")
    assert_same_series(logged, step_series(resumed.run_dir))  # each step once: purge_step


def mlflow_rows(database: Path, run_id: str) -> list[tuple[str, int, float, int]]:
    with sqlite3.connect(database) as db:
        query = "SELECT key, step, value, timestamp FROM metrics WHERE run_uuid = ?"
        return list(db.execute(query, (run_id,)))


def mlflow_status(database: Path, run_id: str) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT status FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()[0]


@pytest.mark.tracking
def test_mlflow_resume_reopens_the_same_run(project):
    pytest.importorskip("mlflow")
    resumed = interrupt_and_resume(project, "mlf-resumed", "--tracking", "mlflow")
    run_id = (resumed.crashed / "mlflow_run_id").read_text().strip()
    assert (resumed.run_dir / "mlflow_run_id").read_text().strip() == run_id
    assert mlflow_status(resumed.crashed / "mlflow.db", run_id) == "KILLED"  # the interrupt
    database = project / "runs" / "mlflow.db"
    assert mlflow_status(database, run_id) == "FINISHED"
    with sqlite3.connect(database) as db:
        named = db.execute("SELECT COUNT(*) FROM runs WHERE name = 'mlf-resumed'").fetchone()[0]
    assert named == 1, "the resume opened a second MLflow run"
    rows = mlflow_rows(database, run_id)
    latest: dict[tuple[str, int], tuple[int, float]] = {}
    counts: dict[tuple[str, int], int] = {}
    for key, step, value, stamp in rows:
        counts[key, step] = counts.get((key, step), 0) + 1
        if (key, step) not in latest or stamp >= latest[key, step][0]:
            latest[key, step] = (stamp, value)
    logged: dict[str, list[tuple[int, float]]] = {}
    for (key, step), (_, value) in latest.items():
        logged.setdefault(key, []).append((step, value))
    assert_same_series(logged, step_series(resumed.run_dir))
    with sqlite3.connect(database) as db:  # params are the first run's; what changed is a tag
        params = dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)))
        tags = dict(db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)))
    assert params["resume"] == "" and tags["resumed.resume"] == "runs/mlf-resumed/last.pt"
    # MLflow cannot delete metric values: the steps the interrupted process logged past the
    # checkpoint hold its value and, later, the resumed one (docs/tracking.md); no other step.
    doubled = sorted({step for (key, step), n in counts.items() if n > 1})
    assert doubled == LOGGED_PAST_CHECKPOINT, doubled
    assert max(counts.values()) == 2


@pytest.mark.tracking
def test_wandb_resume_continues_the_same_offline_run(project):
    pytest.importorskip("wandb")
    resumed = interrupt_and_resume(project, "wb-resumed", "--tracking", "wandb")
    run_id = (resumed.run_dir / "wandb_run_id").read_text().strip()
    assert (resumed.crashed / "wandb_run_id").read_text().strip() == run_id
    folders = sorted((resumed.run_dir / "wandb").glob("offline-run-*"))  # named by start time
    assert [f.name.rsplit("-", 1)[1] for f in folders] == [run_id, run_id], folders
    (first, _, first_runs), (second, _, second_runs) = map(wandb_run, folders)
    assert {r.run_id for r in first_runs + second_runs} == {run_id}
    assert max(s for s, _ in first["step/loss"]) == LOGGED_PAST_CHECKPOINT[-1]
    assert min(s for s, _ in second["step/loss"]) > CHECKPOINT_STEP  # starts after last.pt
    merged: dict[str, list[tuple[int, float]]] = {}
    for tag in set(first) | set(second):
        points = dict(p for p in first.get(tag, []) if p[0] <= CHECKPOINT_STEP)
        points.update(second.get(tag, []))
        merged[tag] = sorted(points.items())
    assert_same_series(merged, step_series(resumed.run_dir))
