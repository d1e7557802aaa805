"""Experiment tracking for train.py: one small logger interface, one class per backend.

train.py writes metrics.csv itself (one row per epoch: the record plot.py reads and --resume
trims). This module adds the step stream (steps.csv) and the optional tracker of --tracking.

    --tracking csv          steps.csv only (always written, whatever the choice)
    --tracking tensorboard  + event files in RUN/tensorboard      tensorboard --logdir runs
    --tracking mlflow       + a run in the SQLite file runs/mlflow.db
                              mlflow ui --backend-store-uri sqlite:///runs/mlflow.db
    --tracking wandb        + an offline run in RUN/wandb          wandb sync RUN/wandb/offline-run-*

steps.csv holds, every --log-every optimizer steps (the first step included), the mean train
loss of the samples since the previous row, the learning rate and the global gradient norm. The
trackers get the same values as `step/loss`, `step/lr`, `step/grad_norm`, and each metrics.csv
row as `epoch/<column>`, all at x = optimizer steps. Nothing here leaves the machine: TensorBoard
and MLflow write local files, and wandb runs offline until you `wandb sync`.

The optional packages are checked when train.py starts (missing_dependency), before anything is
written, so a missing one costs a line, not a run.
"""

from __future__ import annotations

import atexit
import csv
import importlib
import json
import os
import time
from pathlib import Path
from typing import Protocol

import torch

from config import BACKENDS  # the --tracking choices and what each needs

PROJECT = "lesson"  # the MLflow experiment and the wandb project
STEP_COLUMNS = ["step", "epoch", "loss", "lr", "grad_norm"]  # the columns of steps.csv


def missing_dependency(backend: str) -> str:
    """'' when `backend` can be used, else one line saying what to install."""
    if BACKENDS[backend] is None:
        return ""
    module, package = BACKENDS[backend]
    try:
        importlib.import_module(module)
    except Exception as exc:  # not installed, or installed but broken (an old protobuf, ...)
        reason = " ".join(str(exc).split())[:120]
        return (
            f"{backend} needs the {package} package: pip install {package} "
            f'(or pip install -e ".[{backend}]"); importing {module} failed: {reason}'
        )
    return ""


class MetricLogger(Protocol):
    """What every backend implements (torchtune's MetricLogger, without per-name logging)."""

    def log_config(self, config: dict) -> None:
        """Record the run's settings once, at the start."""

    def log_scalars(self, metrics: dict[str, float], step: int) -> None:
        """Record named floats at x = `step` (optimizer steps)."""

    def close(self, finished: bool = True) -> None:
        """Flush and release files; the logger is not used afterwards.

        `finished` is False when the run stopped early (an error, Ctrl-C): a resume continues it.
        """


class CSVLogger:
    """steps.csv: one row per logged step. A resumed run drops the rows past its checkpoint."""

    def __init__(self, path: Path, start_step: int = 0) -> None:
        self.path = path
        kept = []
        if start_step and path.exists():  # a crash may have logged steps the checkpoint lacks
            with path.open(newline="") as handle:
                kept = [row for row in csv.DictReader(handle) if int(row["step"]) <= start_step]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, STEP_COLUMNS)
            writer.writeheader()
            writer.writerows(kept)

    def log_config(self, config: dict) -> None:
        pass  # config.json, written by train.py, is the CSV side's record of the settings

    def log_scalars(self, metrics: dict[str, float], step: int) -> None:
        row = {"step": step, **{k[5:]: v for k, v in metrics.items() if k.startswith("step/")}}
        with self.path.open("a", newline="") as handle:  # one open per row: nothing buffered
            csv.DictWriter(handle, STEP_COLUMNS).writerow(row)

    def close(self, finished: bool = True) -> None:
        pass


class TensorBoardLogger:
    """Event files in RUN/tensorboard, read by `tensorboard --logdir runs` (offline)."""

    def __init__(self, out: Path, start_step: int = 0) -> None:
        from torch.utils.tensorboard import SummaryWriter

        # purge_step: on resume, events a crash left past the checkpoint are hidden.
        purge = start_step + 1 if start_step else None
        self.writer = SummaryWriter(str(out / "tensorboard"), purge_step=purge)

    def log_config(self, config: dict) -> None:
        self.writer.add_text("config", "```\n" + json.dumps(config, indent=2) + "\n```")

    def log_scalars(self, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def close(self, finished: bool = True) -> None:
        self.writer.close()


class MLflowLogger:
    """A run in a local SQLite database (MLflow's file store is deprecated).

    The database is RUN/../mlflow.db (runs/mlflow.db), shared by the runs beside this one so
    `mlflow ui` compares them; MLFLOW_TRACKING_URI, when set, points elsewhere instead. A
    resumed run continues the same MLflow run (its id is kept in RUN/mlflow_run_id).
    """

    def __init__(self, out: Path, start_step: int = 0) -> None:
        from mlflow.tracking import MlflowClient

        root = out.resolve().parent
        uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=uri)
        experiment = self.client.get_experiment_by_name(PROJECT)
        if experiment is None:  # artifacts (none are logged) would go beside the database
            artifacts = (root / "mlflow-artifacts").as_uri()
            experiment_id = self.client.create_experiment(PROJECT, artifact_location=artifacts)
        else:
            experiment_id = experiment.experiment_id
        id_file = out / "mlflow_run_id"
        self.resumed = bool(start_step) and id_file.exists()
        if self.resumed:
            self.run_id = id_file.read_text().strip()
            self.client.update_run(self.run_id, status="RUNNING")
        else:
            self.run_id = self.client.create_run(experiment_id, run_name=out.name).info.run_id
            id_file.write_text(self.run_id + "\n")

    def log_config(self, config: dict) -> None:
        from mlflow.entities import Param, RunTag

        values = {key: str(value) for key, value in config.items()}
        logged = self.client.get_run(self.run_id).data.params if self.resumed else {}
        # MLflow params never change, and a resume changes some flags (--resume, --out,
        # --device...): those go to `resumed.<flag>` tags; the first run's params stay.
        params = [Param(key, value) for key, value in values.items() if key not in logged]
        tags = [
            RunTag(f"resumed.{key}", value)
            for key, value in values.items()
            if key in logged and logged[key] != value
        ]
        self.client.log_batch(self.run_id, params=params, tags=tags)

    def log_scalars(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        rows = [Metric(key, value, now, step) for key, value in metrics.items()]
        self.client.log_batch(self.run_id, metrics=rows)

    def close(self, finished: bool = True) -> None:
        # KILLED, not FINISHED, for a run that stopped early: `mlflow ui` shows it unfinished
        self.client.set_terminated(self.run_id, status="FINISHED" if finished else "KILLED")


class WandbLogger:
    """An offline wandb run in RUN/wandb: nothing is sent; `wandb sync` uploads it later.

    A resumed run continues the same wandb run: its id is kept in RUN/wandb_run_id, and each
    process writes its part into its own RUN/wandb/offline-run-*-ID folder, synced into that run.
    """

    def __init__(self, out: Path, start_step: int = 0) -> None:
        import wandb

        id_file = out / "wandb_run_id"
        run_id = id_file.read_text().strip() if start_step and id_file.exists() else None
        settings = wandb.Settings(console="off", silent=True)  # train.py keeps its own output
        self.run = wandb.init(
            project=PROJECT,
            name=out.name,
            dir=str(out),
            mode="offline",
            id=run_id,  # None: wandb draws a new one
            resume="allow" if run_id else None,
            settings=settings,
        )
        id_file.write_text(self.run.id + "\n")

    def log_config(self, config: dict) -> None:
        self.run.config.update(config, allow_val_change=True)

    def log_scalars(self, metrics: dict[str, float], step: int) -> None:
        self.run.log(metrics, step=step)

    def close(self, finished: bool = True) -> None:
        self.run.finish(exit_code=0 if finished else 1)


LOGGERS = {"tensorboard": TensorBoardLogger, "mlflow": MLflowLogger, "wandb": WandbLogger}


class Tracker:
    """What train.py talks to: the step stream's running sums, its interval, and the loggers.

    The loss is summed on the device (add_loss), so the training step never waits for the GPU;
    log_step() reads the values back, in one transfer, only every `every` optimizer steps.
    A Tracker() with no loggers and every=0 records nothing (what tests and notebooks get).
    """

    def __init__(
        self,
        steps: MetricLogger | None = None,
        trackers: list[MetricLogger] | None = None,
        every: int = 0,
    ) -> None:
        self.steps = steps  # steps.csv: the step stream only (metrics.csv is the epoch stream)
        self.trackers = list(trackers or [])  # the optional backends: both streams
        self.every = every
        self.loss_sum: torch.Tensor | float = 0.0  # a device tensor after the first add_loss
        self.count = 0
        self.last_step = -1

    def add_loss(self, loss: torch.Tensor, count: int) -> None:
        """Add a detached mean loss over `count` targets; it stays on the device (no sync)."""
        self.loss_sum = self.loss_sum + loss * count
        self.count += count

    def due(self, step: int) -> bool:
        """Whether optimizer step `step` is logged: steps 1, 1 + every, 1 + 2 * every, ..."""
        return self.every > 0 and step != self.last_step and (step - 1) % self.every == 0

    def log_step(
        self,
        step: int,
        epoch: int,
        optimizer: torch.optim.Optimizer,
        model: torch.nn.Module,
        grad_norm: torch.Tensor | None = None,
    ) -> None:
        """Log the interval's mean loss, the lr and the gradient norm (measured now if None)."""
        mean = torch.as_tensor(self.loss_sum / max(self.count, 1)).float()
        if grad_norm is None:  # no clipping measured it: the norm of the gradients just used
            norms = [
                torch.linalg.vector_norm(p.grad.detach().float())
                for p in model.parameters()
                if p.grad is not None
            ]
            grad_norm = torch.linalg.vector_norm(torch.stack(norms)) if norms else mean * 0
        loss, norm = torch.stack([mean, grad_norm.to(mean.device).float()]).tolist()  # one sync
        lr = float(optimizer.param_groups[0]["lr"])
        scalars = {"step/epoch": epoch, "step/loss": loss, "step/lr": lr, "step/grad_norm": norm}
        for logger in ([self.steps] if self.steps else []) + self.trackers:
            logger.log_scalars(scalars, step)
        self.loss_sum, self.count, self.last_step = 0.0, 0, step

    def log_epoch(self, row: dict[str, float], step: int) -> None:
        """Mirror one metrics.csv row to the trackers as epoch/<column> (CSV has it already)."""
        scalars = {f"epoch/{name}": float(value) for name, value in row.items()}
        for logger in self.trackers:
            logger.log_scalars(scalars, step)

    def close(self, finished: bool = True) -> None:
        """Close every logger once; later calls (atexit after a normal end) do nothing."""
        loggers = ([self.steps] if self.steps else []) + self.trackers
        self.steps, self.trackers = None, []
        for logger in loggers:
            logger.close(finished)


def eta_text(elapsed: float, done: int, remaining: int) -> str:
    """'  eta 3m05s': the time the remaining epochs take at this process's pace so far."""
    if done < 1 or remaining < 1:
        return ""
    return f"  eta {clock(elapsed / done * remaining)}"


def run_seconds(metrics_path: Path) -> float:
    """The seconds of every epoch metrics.csv records: the whole run, resumed or not."""
    try:
        with metrics_path.open(newline="") as handle:
            return sum(float(row["seconds"]) for row in csv.DictReader(handle))
    except (OSError, KeyError, TypeError, ValueError):
        return 0.0  # a hand-edited or missing file costs only the pace in summary.json


def clock(seconds: float) -> str:
    """'1h02m', '3m05s' or '42s': a duration for the epoch line."""
    whole = round(seconds)
    hours, minutes, secs = whole // 3600, whole // 60 % 60, whole % 60
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class PipeSafeStdout:
    """stdout that goes quiet, instead of raising, once its reader has gone (`| head -1`).

    The run's results are in its files; stdout is only a view of them, so a closed pipe must
    neither stop training nor print a traceback. On the first BrokenPipeError the descriptor is
    pointed at os.devnull, so later writes and Python's own flush at exit succeed silently.
    """

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self.silence()
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            self.silence()

    def silence(self) -> None:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass  # not a real file (a test's StringIO): nothing left to protect

    def __getattr__(self, name: str):
        return getattr(self.stream, name)  # isatty, fileno, encoding, ...


def open_tracker(backend: str, every: int, out: Path, config: dict, start_step: int = 0) -> Tracker:
    """The Tracker of one run: steps.csv plus the `backend` tracker, closed at exit at the latest.

    `start_step` is the resumed run's optimizer step (0 for a fresh run).
    """
    steps = CSVLogger(out / "steps.csv", start_step)
    trackers = [LOGGERS[backend](out, start_step)] if backend in LOGGERS else []
    for logger in trackers:
        logger.log_config(config)
    tracker = Tracker(steps, trackers, every)
    # A run that stops early (an error, Ctrl-C) still flushes its trackers, marked unfinished;
    # fit() closes a finished run first, so this call then does nothing.
    atexit.register(tracker.close, finished=False)
    return tracker
