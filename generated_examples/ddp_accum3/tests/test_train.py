"""Tests that prove this project's training loop correct (CPU, seconds): run `pytest`.

Each test would fail on a loop with the matching classic mistake: steps out of order, an
accumulation that is not the large batch, a resume that drifts, or validation that trains.

They prove the loop, not the hyperparameters in Config: make_config() runs a narrow model at a
learning rate known to be stable, so the tests pass in seconds for any valid answers, while every
code path the answers chose stays on (precision, accumulation, clipping, dropout, batchnorm,
weight decay, the scheduler and its cadence).
"""

from __future__ import annotations

import io
import json
import math
import pickle
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import torch

import config
import data
import train

# The task's small model for the tests; the answers' code paths (dropout, batchnorm) stay on.
TASK_SETTINGS = dict(hidden=32, dropout=0.1)
NO_NOISE = dict(dropout=0.0, batchnorm=False)  # a train-mode forward that is exact per sample
SHAPE_FIELD = "hidden"  # a Config field that changes the model's shape (resume must refuse it)
LEARN_SETTINGS = dict(hidden=64)  # test_learns: a wider model, on 150 samples per class
LEARN_STEPS = 120  # test_learns trains this many optimizer steps, whatever accum_steps is


def task_data(tmp_path: Path, per_class: int) -> dict:
    """Config fields for 3 x `per_class` samples of the built-in demo data (20% validate).

    The synthetic spiral, `per_class` points per arm.
    """
    return dict(samples_per_class=per_class)


def assert_learned(summary: dict) -> None:
    """test_learns' bar: three classes, so chance is ln 3 in loss and 1/3 in accuracy."""
    assert summary["best_val_loss"] < 0.5 * math.log(3)
    assert summary["best_val_acc"] >= 0.8


# Stable settings for the tests (see the module docstring); the answers' code paths stay on.
TEST_SETTINGS = dict(
    TASK_SETTINGS,
    lr=0.01,
    weight_decay=0.01,
    grad_clip=1.0,
    early_stopping=0,  # tests that stop early say so
    tracking="csv",  # a tracker backend is an optional install: tested on its own, below
)


class Crash(Exception):
    """Stands in for a process killed mid-run."""


def make_config(tmp_path: Path, per_class: int = 50, **overrides) -> train.Config:
    """A small, fast, CPU-only config on the task's demo data; fields this project does not have
    are ignored.

    `per_class` sizes the data as 3 x per_class samples, 20% held out: 50 give 4 training
    batches of 32 (the last one short), 150 give 12.
    """
    values = dict(
        TEST_SETTINGS,
        out=str(tmp_path / "runs"),
        epochs=4,
        batch_size=32,
        device="cpu",
        progress=False,
        **task_data(tmp_path, per_class),
    )
    values.update(overrides)
    names = {f.name for f in fields(train.Config)}
    return train.Config(**{k: v for k, v in values.items() if k in names})


def build(cfg: train.Config):
    """Seed, then build loaders and components as fit() does (fit's own horizon is tested apart)."""
    train.seed_everything(cfg.seed, cfg.deterministic)
    device = torch.device("cpu")
    train_loader, val_loader, info = train.build_loaders(cfg, device)
    steps_per_epoch = math.ceil(len(train_loader) / getattr(cfg, "accum_steps", 1))
    c = train.build_components(cfg, info, steps_per_epoch, device)
    return c, train_loader, val_loader


def first_samples(dataset, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `n` samples of a dataset (data.py's own), stacked into one batch (x, y)."""
    xs, ys = zip(*(dataset[i] for i in range(n)))
    return torch.stack(xs), torch.stack(ys)


def record(calls: list[str], name: str, fn):
    """Wrap `fn` so each call appends `name` to `calls` first."""

    def wrapper(*args, **kwargs):
        calls.append(name)
        return fn(*args, **kwargs)

    return wrapper


# The task metric's direction: val_acc, higher is better.
METRIC_WORSENS_BY = -0.1


def improves_once(epochs: int) -> list[tuple[float, float]]:
    """Scripted (val_loss, task metric) per epoch: both at their best in epoch 1, worse after."""
    return [(1.0 + 0.1 * e, 0.9 + METRIC_WORSENS_BY * e) for e in range(epochs)]


def scripted_evaluate(values):
    """A stand-in for train.evaluate that returns the next scripted (val_loss, task metric)."""
    script = iter(values)

    def evaluate(c, loader, *args, **kwargs):
        return next(script)

    return evaluate


def assert_same(got, want, where: str = "state") -> None:
    """Bitwise equality of nested checkpoint state: dicts, lists, tensors and numbers."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for key in want:
            assert_same(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), where
        for index, (a, b) in enumerate(zip(got, want)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(want, torch.Tensor):
        assert isinstance(got, torch.Tensor) and torch.equal(got, want), where
    elif isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got), where
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def test_order_contract(tmp_path, monkeypatch):
    """One optimizer step calls its parts in the canonical order for this project's options.

    The step covers one window: accum_steps micro-batches, or all 12 of the test loader's when
    accum_steps is larger (then the window is the epoch's short tail, which steps the same way;
    the accumulation test checks where full windows end).
    """
    cfg = make_config(tmp_path, per_class=150)
    c, loader, _ = build(cfg)
    window = min(getattr(cfg, "accum_steps", 1), len(loader))
    calls: list[str] = []
    c.optimizer.zero_grad = record(calls, "zero_grad", c.optimizer.zero_grad)
    c.model.register_forward_pre_hook(lambda module, args: calls.append("forward"))
    c.criterion.register_forward_hook(lambda module, args, out: calls.append("loss"))
    first_param = next(c.model.parameters())  # the input layer: its gradient arrives last
    first_param.register_hook(lambda grad: calls.append("backward"))
    clip = record(calls, "clip", torch.nn.utils.clip_grad_norm_)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
    c.optimizer.register_step_pre_hook(lambda optimizer, args, kwargs: calls.append("step"))
    c.scheduler.step = record(calls, "scheduler", c.scheduler.step)

    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=window)

    expected = ["zero_grad"] + ["forward", "loss", "backward"] * window
    expected += ["clip"]
    expected += ["step"]
    assert calls == expected


def test_loss_takes_raw_logits(tmp_path):
    """The loss receives the model's output itself: CrossEntropyLoss applies log-softmax."""
    cfg = make_config(tmp_path)
    c, loader, _ = build(cfg)
    outputs, loss_inputs = [], []
    c.model.register_forward_hook(lambda module, args, out: outputs.append(out))
    c.criterion.register_forward_pre_hook(lambda module, args: loss_inputs.append(args[0]))
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=1)
    assert loss_inputs and loss_inputs[0] is outputs[0], "no softmax (or anything) in between"


def count_steps(c: train.Components, scheduler: bool = True) -> dict:
    """Count optimizer steps tried (windows) and taken, and scheduler steps, as the loop runs.

    scheduler=False leaves the scheduler unwrapped (a wrapper would end up in its state_dict).
    """
    counts = {"windows": 0, "taken": 0, "scheduler": 0}
    scheduler_step = c.scheduler.step

    def count_scheduler(*args, **kwargs):
        counts["scheduler"] += 1
        return scheduler_step(*args, **kwargs)

    def count_taken(optimizer, args, kwargs):
        counts["taken"] += 1  # a post hook: runs only for steps really taken

    if scheduler:
        c.scheduler.step = count_scheduler
    c.optimizer.register_step_post_hook(count_taken)

    def count_window(optimizer, args, kwargs):
        counts["windows"] += 1

    c.optimizer.register_step_pre_hook(count_window)
    return counts


def test_scheduler_cadence(tmp_path):
    """The scheduler steps once per epoch, never inside the batch loop."""
    cfg = make_config(tmp_path, per_class=150)
    c, loader, _ = build(cfg)
    counts = count_steps(c)
    train.train_one_epoch(c, loader, cfg, train.Progress())
    accum = getattr(cfg, "accum_steps", 1)
    assert counts["windows"] == math.ceil(len(loader) / accum)
    assert counts["taken"] == counts["windows"]
    assert counts["scheduler"] == 0


def test_schedule_spans_the_run(tmp_path, monkeypatch):
    """fit() sizes the schedule in epochs: it ends exactly when training does."""
    cfg = make_config(tmp_path, epochs=3)
    built, used = [], []
    real_build = train.build_components

    def spy(*args, **kwargs):
        c = real_build(*args, **kwargs)
        built.append((c, count_steps(c, scheduler=False)))
        c.optimizer.register_step_pre_hook(
            lambda optimizer, args, kwargs: used.append(optimizer.param_groups[0]["lr"])
        )
        return c

    monkeypatch.setattr(train, "build_components", spy)
    assert train.fit(cfg)["epochs_run"] == cfg.epochs
    ((c, counts),) = built
    lr = c.optimizer.param_groups[0]["lr"]  # after the schedule's last step
    assert lr < 1e-6 * cfg.lr, f"the cosine ends at zero, not at {lr / cfg.lr:.3g} x lr"


def test_accumulation_equals_large_batch(tmp_path, monkeypatch):
    """Each window's accumulated float64 gradient equals one large batch's, the short tail included."""
    cfg = make_config(tmp_path, batch_size=8, accum_steps=4, **NO_NOISE, grad_clip=0.0)
    c, train_loader, _ = build(cfg)
    c.model.double()  # converts parameters in place: the optimizer still holds the same objects
    x, y = first_samples(train_loader.dataset, 70)  # data.py's samples: 9 batches, 8 x 8 + 6
    x = x.double() if x.is_floating_point() else x  # token ids stay integers
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)

    windows = iter([(0, 32), (32, 64), (64, 70)])  # 4 + 4 + 1 batches: the last window is short
    checked = []

    def compare_with_large_batch(optimizer, args, kwargs):
        # Runs just before each real optimizer step, at exactly the parameters it will update.
        start, stop = next(windows)
        params = list(c.model.parameters())
        loss = c.criterion(c.model(x[start:stop]), y[start:stop])
        for param, want in zip(params, torch.autograd.grad(loss, params)):
            torch.testing.assert_close(param.grad, want, rtol=1e-12, atol=1e-12)
        checked.append(stop - start)

    c.optimizer.register_step_pre_hook(compare_with_large_batch)
    train.train_one_epoch(c, loader, cfg, train.Progress())
    assert checked == [32, 32, 6]


def test_accumulation_is_exact_per_target(tmp_path, monkeypatch):
    """With several targets per sample (a language model's tokens), each window's gradient is
    the mean over the window's targets, the short tail window (fewer targets) included.

    A stand-in model and data with 5 targets per sample: a share of the window counted in
    samples, not targets, scales every gradient by 5 and fails here, whatever the task.
    """
    per_sample = 5
    info = train.DataInfo((per_sample, 2), 3, "val_acc", "max", targets_per_sample=per_sample)
    monkeypatch.setattr(train, "build_model", lambda cfg, info: torch.nn.Linear(2, 3))
    cfg = make_config(tmp_path, batch_size=8, accum_steps=4, **NO_NOISE, grad_clip=0.0)
    c = train.build_components(cfg, info, 3, torch.device("cpu"))
    c.model.double()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(70, per_sample, 2, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 3, (70, per_sample), generator=generator)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    windows = iter([(0, 32), (32, 64), (64, 70)])  # the tail window: 6 samples, 30 targets
    checked = []

    def compare_with_large_batch(optimizer, args, kwargs):
        start, stop = next(windows)
        params = list(c.model.parameters())
        loss = c.criterion(c.model(x[start:stop]), y[start:stop])  # mean over every target
        for param, want in zip(params, torch.autograd.grad(loss, params)):
            torch.testing.assert_close(param.grad, want, rtol=1e-12, atol=1e-12)
        checked.append(y[start:stop].numel())

    c.optimizer.register_step_pre_hook(compare_with_large_batch)
    train.train_one_epoch(c, loader, cfg, train.Progress())
    assert checked == [160, 160, 30]


def run_with_crash(cfg: train.Config, monkeypatch, after_epochs: int, evaluate=None):
    """Run fit(cfg), kill it after `after_epochs` epochs, resume from last.pt; returns (summary, last.pt)."""
    real_epoch, done = train.train_one_epoch, []

    def crash_after(*args, **kwargs):
        if len(done) == after_epochs:
            raise Crash()
        done.append(1)
        return real_epoch(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(train, "train_one_epoch", crash_after)
        if evaluate is not None:
            patch.setattr(train, "evaluate", evaluate)
        with pytest.raises(Crash):
            train.fit(cfg)
    cfg.resume = str(Path(cfg.out) / "last.pt")
    with monkeypatch.context() as patch:
        if evaluate is not None:
            patch.setattr(train, "evaluate", evaluate)
        summary = train.fit(cfg)
    return summary, torch.load(Path(cfg.out) / "last.pt", weights_only=True)


def last_state(cfg: train.Config, monkeypatch, evaluate=None):
    """Run fit(cfg) without interruption; returns (summary, last.pt)."""
    with monkeypatch.context() as patch:
        if evaluate is not None:
            patch.setattr(train, "evaluate", evaluate)
        summary = train.fit(cfg)
    return summary, torch.load(Path(cfg.out) / "last.pt", weights_only=True)


def without_paths(state: dict) -> dict:
    """A last.pt minus its saved config (which names the run folder and the resume path)."""
    return {key: value for key, value in state.items() if key != "config"}


def test_resume_matches_uninterrupted(tmp_path, monkeypatch):
    """Crash after 2 of 4 epochs, resume from last.pt: every saved state is bitwise equal.

    Model, optimizer, scheduler, counters and RNG streams: a resume that drops any of them drifts.
    """
    _, want = last_state(make_config(tmp_path / "full"), monkeypatch)
    _, got = run_with_crash(make_config(tmp_path / "part"), monkeypatch, after_epochs=2)
    assert_same(without_paths(got), without_paths(want), "last.pt")


def test_resume_keeps_the_monitor_state(tmp_path, monkeypatch):
    """The best metric, its epoch and the epochs without improvement survive a resume.

    The monitor improves once, then never: with patience 3 the run stops after epoch 4, resumed
    or not (a resume that forgot the bad epochs would train on).
    """
    values = improves_once(6)
    settings = dict(epochs=6, early_stopping=3, plateau_patience=1)
    full = make_config(tmp_path / "full", **settings)
    want_summary, want = last_state(full, monkeypatch, scripted_evaluate(values))
    part = make_config(tmp_path / "part", **settings)
    got_summary, got = run_with_crash(part, monkeypatch, 2, scripted_evaluate(values))
    assert want_summary["epochs_run"] == 4 and want_summary["best_epoch"] == 1
    assert got_summary["epochs_run"] == 4 and got_summary["best_epoch"] == 1
    assert_same(without_paths(got), without_paths(want), "last.pt")


def test_checkpoints_hold_plain_module_keys(tmp_path):
    """Checkpoints load with weights_only=True and hold the uncompiled module's keys."""
    cfg = make_config(tmp_path, epochs=1)
    train.fit(cfg)
    c, _, _ = build(cfg)
    for name in ["best.pt", "last.pt"]:
        state = torch.load(Path(cfg.out) / name, weights_only=True)
        assert set(state["model"]) == set(c.model.state_dict())
        assert not any(key.startswith("_orig_mod.") for key in state["model"])
        c.model.load_state_dict(state["model"])


def test_predict_rebuilds_the_trained_model(tmp_path):
    """predict.py rebuilds model.py's model from the checkpoint alone (config and DataInfo are
    in it) and runs it in eval mode: the same logits as the trained weights give."""
    import predict

    cfg = make_config(tmp_path, epochs=1)
    train.fit(cfg)
    path = predict.find_checkpoint(cfg.out)
    assert path.name == "best.pt"
    model, info = predict.load_model(path, torch.device("cpu"))
    assert not model.training
    c, _, val_loader = build(cfg)
    c.model.load_state_dict(torch.load(path, weights_only=True)["model"])
    c.model.eval()
    x, _ = next(iter(val_loader))
    with torch.no_grad():
        torch.testing.assert_close(predict.predict(model, x, 7), c.model(x).float())
    assert info.metric == c.info.metric and info.num_classes == c.info.num_classes


def test_checkpoints_survive_a_crash_mid_write(tmp_path, monkeypatch):
    """A save killed halfway leaves the previous checkpoint whole: writes are atomic."""
    cfg = make_config(tmp_path, epochs=1)
    train.fit(cfg)
    names = ["best.pt", "last.pt"]
    real_save = torch.save
    for tear_at in range(1, len(names) + 1):  # tear each save of one epoch in turn
        saves = []

        def torn_save(obj, f, *args, **kwargs):
            saves.append(1)
            if len(saves) < tear_at:
                return real_save(obj, f, *args, **kwargs)
            buffer = io.BytesIO()
            real_save(obj, buffer)
            half = buffer.getvalue()[: len(buffer.getvalue()) // 2]
            if hasattr(f, "write"):
                f.write(half)
            else:
                Path(f).write_bytes(half)
            raise Crash()

        with monkeypatch.context() as patch:
            patch.setattr(torch, "save", torn_save)
            with pytest.raises(Crash):
                train.fit(cfg)
        for name in names:
            torch.load(Path(cfg.out) / name, weights_only=True)  # whole: old or new, never torn


def test_best_checkpoint_follows_the_monitor(tmp_path, monkeypatch):
    """best.pt holds the weights of the epoch with the best val_loss, not the last epoch's."""
    cfg = make_config(tmp_path, epochs=4)
    goodness = [0.5, 0.9, 0.7, 0.6]  # of the task metric: the best epoch is epoch 2
    metric = goodness if METRIC_WORSENS_BY < 0 else [1.4 - g for g in goodness]
    scripted = iter(zip([1.0, 0.5, 0.8, 0.9], metric))  # (val_loss, task metric)
    snapshots = []

    def snapshot_then_score(c, loader, *args, **kwargs):
        snapshots.append({k: v.clone() for k, v in c.model.state_dict().items()})
        return next(scripted)  # epoch 2 is the best by either metric

    monkeypatch.setattr(train, "evaluate", snapshot_then_score)
    summary = train.fit(cfg)
    state = torch.load(Path(cfg.out) / "best.pt", weights_only=True)
    assert summary["best_epoch"] == state["epoch"] == 2
    for key, value in snapshots[1].items():
        assert torch.equal(state["model"][key], value), key


def test_early_stopping_counts_patience_exactly(tmp_path, monkeypatch):
    """With patience p, training stops after exactly p epochs without improvement; 0 = never."""
    values = improves_once(4)
    for patience, epochs_run in [(1, 2), (2, 3), (0, 4)]:
        cfg = make_config(tmp_path / f"patience-{patience}", epochs=4, early_stopping=patience)
        monkeypatch.setattr(train, "evaluate", scripted_evaluate(values))
        assert train.fit(cfg)["epochs_run"] == epochs_run, f"patience {patience}"


def test_validation_reads_the_validation_split(tmp_path, monkeypatch):
    """fit() trains on data.py's training split and validates on its validation split."""
    cfg = make_config(tmp_path, epochs=1)
    built, seen = {}, {"train": set(), "val": set()}
    real_build, real_train = train.build_loaders, train.train_one_epoch
    real_evaluate = train.evaluate

    def spy_build(*args, **kwargs):
        loaders = real_build(*args, **kwargs)
        built["train"], built["val"] = loaders[0].dataset, loaders[1].dataset
        return loaders

    def spy_train(c, loader, *args, **kwargs):
        seen["train"].add(id(loader.dataset))
        return real_train(c, loader, *args, **kwargs)

    def spy_evaluate(c, loader, *args, **kwargs):
        seen["val"].add(id(loader.dataset))
        return real_evaluate(c, loader, *args, **kwargs)

    monkeypatch.setattr(train, "build_loaders", spy_build)
    monkeypatch.setattr(train, "train_one_epoch", spy_train)
    monkeypatch.setattr(train, "evaluate", spy_evaluate)
    train.fit(cfg)
    assert built["train"] is not built["val"]
    assert seen == {"train": {id(built["train"])}, "val": {id(built["val"])}}


def test_validation_mode(tmp_path):
    """Validation runs in eval mode without autograd and restores the mode it found."""
    cfg = make_config(tmp_path)
    c, loader, val_loader = build(cfg)
    seen = []

    def spy(module, args, output):
        inference = torch.is_inference_mode_enabled()
        seen.append((module.training, torch.is_grad_enabled(), output.requires_grad, inference))

    c.model.register_forward_hook(spy)
    c.model.train()
    train.evaluate(c, val_loader)
    expected = (False, False, False, False)  # eval, no autograd
    assert seen and all(state == expected for state in seen)
    assert c.model.training, "evaluate() must restore training mode"
    c.model.eval()
    train.evaluate(c, val_loader)
    assert not c.model.training, "evaluate() must restore the mode it found, not force train()"

    seen.clear()
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=1)
    assert seen[0][:2] == (True, True), "training must run in train mode with autograd on"


def test_learns(tmp_path, monkeypatch):
    """The loop learns: LEARN_STEPS optimizer steps lower the validation loss well below chance.

    It trains on the task's built-in demo data (task_data), not on your data: it proves the
    loop's wiring, and needs data whose learnable level is known. The budget is counted in
    optimizer steps, so accumulation gets as many updates as no accumulation does; epochs follow
    from it, the project's schedule is stretched over them and early stopping is off. (When
    accum_steps spans the whole epoch, a window is the epoch either way, so it is fed as 2
    micro-batches rather than many small ones.) It proves this project's wiring (precision,
    accumulation, clipping, scheduler and cadence, optimizer, the model's dropout and
    normalisation) learns, at the stable settings of TEST_SETTINGS and LEARN_SETTINGS, not that
    Config's own lr or model size would.
    """
    cfg = make_config(tmp_path, per_class=150, **LEARN_SETTINGS)
    accum = getattr(cfg, "accum_steps", 1)
    loader = train.build_loaders(cfg, torch.device("cpu"))[0]
    if accum >= len(loader):  # a window holds the whole epoch: the same step from 2 micro-batches
        cfg.batch_size = math.ceil(len(loader.dataset) / 2)
        loader = train.build_loaders(cfg, torch.device("cpu"))[0]
    steps_per_epoch = math.ceil(len(loader) / accum)
    cfg.epochs = math.ceil(LEARN_STEPS / steps_per_epoch)
    monkeypatch.setattr(train, "save_atomic", lambda payload, path: None)  # tested on their own
    summary = train.fit(cfg)
    assert summary["epochs_run"] == cfg.epochs
    assert_learned(summary)
    assert (Path(cfg.out) / "metrics.csv").read_text().count("\n") == cfg.epochs + 1


# --- flag validation (the ranges in Config's option() fields) --------------------------------
def test_config_refuses_values_outside_its_ranges():
    """Every ranged field refuses NaN and a value just past each bound, naming its flag; the
    defaults themselves are inside (so `python train.py` with no flags always starts)."""
    defaults = train.Config()
    for f in fields(train.Config):
        interval = f.metadata.get("within")
        if not interval:
            continue
        low, high = (float(bound) for bound in interval[1:-1].split(","))
        step = 1 if f.type == "int" else 1e-6
        outside = [
            low - step if interval[0] == "[" else low,
            high + step if interval[-1] == "]" else high,
        ]
        if f.type == "float":
            outside.append(math.nan)
        flag = "--" + f.name.replace("_", "-")
        assert config.within(getattr(defaults, f.name), interval), f"default of {flag}"
        for value in outside:
            value = int(value) if f.type == "int" and math.isfinite(value) else value
            try:
                train.Config(**{f.name: value})
            except train.ConfigError as exc:
                assert str(exc).startswith(f"argument {flag}: "), exc
            else:
                raise AssertionError(f"{flag} {value} was accepted outside {interval}")


def run_without_torch(*argv: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`python train.py ARGV` in a fresh interpreter, and the heavy modules it imported.

    `python -X importtime` lists on stderr every module the process imports, one per line."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "train.py", *argv],
        cwd=Path(train.__file__).resolve().parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    timings = [line for line in run.stderr.splitlines() if line.startswith("import time:")]
    imported = {line.rsplit("|", 1)[-1].strip() for line in timings}
    assert {"config", "argparse"} <= imported, "no import list on stderr: -X importtime ignored?"
    heavy = sorted(name for name in imported if name.split(".")[0] in {"torch", "numpy", "tqdm"})
    return run, heavy


def test_help_and_a_bad_flag_answer_before_torch_is_imported():
    """`--help` shows every Config field as a flag with its default, and a bad flag gets its one
    line and exit 2, both without importing torch (seconds): train.py checks its flags with
    config.py, which imports only the standard library, before it imports torch."""
    run, heavy = run_without_torch("--help")
    assert run.returncode == 0 and not heavy, f"--help imported {heavy[:3]}: {run.stderr[-500:]}"
    shown = " ".join(run.stdout.split())
    defaults = train.Config()
    for f in fields(train.Config):
        flag = "--" + f.name.replace("_", "-")
        assert flag in shown, f"--help lacks {flag}"
    assert f"(default: {defaults.batch_size})" in shown and f"(default: {defaults.lr})" in shown
    run, heavy = run_without_torch("--lr", "-1")
    assert run.returncode == 2 and not heavy, f"a bad flag imported {heavy[:3]}"
    lines = [line for line in run.stderr.splitlines() if not line.startswith("import time:")]
    assert lines == ["train.py: error: argument --lr: -1.0 is outside (0, 10] (see --help)"]


# ---------------------------------------------------------------------------------------------
# Batching, accumulation with batchnorm, schedules, strict JSON and resume with changed flags
# ---------------------------------------------------------------------------------------------
def test_a_last_batch_of_one_joins_the_batch_before(tmp_path):
    """A tail of one sample is merged, never dropped: batchnorm trains on it without raising."""
    n = len(train.build_loaders(make_config(tmp_path), torch.device("cpu"))[0].dataset)
    cfg = make_config(tmp_path, batch_size=n - 1, batchnorm=True)  # n - 1 samples, then 1
    c, loader, _ = build(cfg)
    batches = [y.tolist() for _, y in loader]
    assert [len(b) for b in batches] == train.batch_sizes(loader) == [n]
    train.train_one_epoch(c, loader, cfg, train.Progress())  # BatchNorm raises on a batch of 1


def test_json_outputs_are_strict(tmp_path):
    """No NaN or Infinity reaches a JSON file: a run that trained no epoch writes null."""
    cfg = make_config(tmp_path)
    cfg.epochs = 0  # the flags refuse 0; set past them, fit() itself must still write strict JSON
    train.fit(cfg)
    for name in ["summary.json", "config.json"]:
        text = (Path(cfg.out) / name).read_text()
        json.loads(text, parse_constant=lambda word: pytest.fail(f"{name} holds {word}"))
    summary = json.loads((Path(cfg.out) / "summary.json").read_text())
    assert summary["best_val_loss"] is None and summary["epochs_run"] == 0


def resumed(cfg: train.Config, **changes) -> train.Config:
    """`cfg` resuming from its own last.pt, with some flags changed."""
    values = {**train.asdict(cfg), "resume": str(Path(cfg.out) / "last.pt"), **changes}
    return train.Config(**values)


def test_resume_refuses_flags_that_change_the_run(tmp_path):
    """A resume with a new lr, batch size, model or seed is refused by name; no file changes."""
    cfg = make_config(tmp_path, epochs=2)
    train.fit(cfg)
    before = {path.name: path.read_bytes() for path in Path(cfg.out).iterdir()}
    changes = dict(lr=cfg.lr * 2, batch_size=cfg.batch_size + 1)
    changes[SHAPE_FIELD] = getattr(cfg, SHAPE_FIELD) + 1  # another model shape
    changes["seed"] = cfg.seed ^ 1  # another seed inside [0, 2**32 - 1], whatever the answer
    changes["accum_steps"] = cfg.accum_steps - 1  # accumulating renders have accum_steps >= 2
    for name, value in changes.items():
        flag = "--" + name.replace("_", "-")
        with pytest.raises(train.TrainingError, match=flag) as error:
            train.fit(resumed(cfg, **{name: value}))
        assert "\n" not in str(error.value)
    assert {path.name: path.read_bytes() for path in Path(cfg.out).iterdir()} == before


def test_resume_with_more_epochs(tmp_path):
    """The cosine schedule is laid out over --epochs: a resume may not change it."""
    cfg = make_config(tmp_path / "short", epochs=2)
    train.fit(cfg)
    with pytest.raises(train.TrainingError, match="--epochs 3"):
        train.fit(resumed(cfg, epochs=3))
    with pytest.raises(train.TrainingError, match="--epochs 1"):
        train.fit(resumed(cfg, epochs=1))  # fewer epochs than it has trained: refused


def test_resuming_a_finished_run_changes_nothing(tmp_path, monkeypatch):
    """The run is over: fit() says so, trains nothing and leaves summary.json as it was."""
    cfg = make_config(tmp_path, epochs=2)
    train.fit(cfg)
    summary = Path(cfg.out) / "summary.json"
    before = summary.read_bytes()

    def must_not_train(*args, **kwargs):
        raise AssertionError("a finished run trained again")

    monkeypatch.setattr(train, "train_one_epoch", must_not_train)
    assert train.fit(resumed(cfg)) == json.loads(before)
    assert summary.read_bytes() == before


def test_an_early_stopped_run_stays_stopped(tmp_path, monkeypatch):
    """Resuming a run that early stopping ended trains no further epoch."""
    cfg = make_config(tmp_path, epochs=6, early_stopping=1)
    worse = iter(improves_once(2))  # epoch 2 is worse by either metric: stop there
    monkeypatch.setattr(train, "evaluate", lambda *args, **kwargs: next(worse))
    assert train.fit(cfg)["epochs_run"] == 2
    monkeypatch.setattr(train, "train_one_epoch", lambda *a, **k: pytest.fail("trained again"))
    assert train.fit(resumed(cfg))["epochs_run"] == 2


def test_bad_checkpoints_give_one_line_naming_the_file(tmp_path):
    """Random bytes, a pickle, a list, a truncated file or a weights-only file: one clear line."""
    cfg = make_config(tmp_path, epochs=1)
    train.fit(cfg)
    good = (Path(cfg.out) / "last.pt").read_bytes()
    bad = {
        "random.pt": bytes(range(256)) * 8,
        "pickle.pt": pickle.dumps({"model": "weights"}),
        "truncated.pt": good[: len(good) // 2],
        "empty.pt": b"",
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    torch.save([1, 2], tmp_path / "list.pt")
    torch.save({"format": 1, "model": {}}, tmp_path / "weights.pt")
    for name in [*bad, "list.pt", "weights.pt", "missing.pt"]:
        path = str(tmp_path / name)
        with pytest.raises(train.TrainingError) as error:
            train.fit(train.Config(**{**train.asdict(cfg), "resume": path}))
        assert path in str(error.value) and "\n" not in str(error.value), name


def test_a_checkpoint_of_another_shape_is_refused(tmp_path):
    """Weights that do not fit the model give one line naming the file, not torch's report."""
    cfg = make_config(tmp_path, epochs=1)
    train.fit(cfg)
    path = Path(cfg.out) / "last.pt"
    state = torch.load(path, weights_only=True)
    state["model"] = {key: torch.zeros(3, *value.shape) for key, value in state["model"].items()}
    torch.save(state, path)
    (Path(cfg.out) / "summary.json").unlink()  # else the finished run is a no-op, loading nothing
    with pytest.raises(train.TrainingError, match="does not fit this model") as error:
        train.fit(resumed(cfg))
    assert str(path) in str(error.value) and "\n" not in str(error.value)


# ---------------------------------------------------------------------------------------------
# The tabular task: data.py's split and checks, batchnorm under accumulation
# ---------------------------------------------------------------------------------------------
def test_predict_reads_csv_rows_and_prints_labels(tmp_path, capsys):
    """predict.py: CSV rows in (raw feature values, any column order), one label per row out,
    the labels the trained model gives; a missing column is one line, exit 1."""
    import predict

    cfg = make_config(tmp_path, epochs=2)
    train.fit(cfg)
    c, _, val_loader = build(cfg)
    model, info = predict.load_model(predict.find_checkpoint(cfg.out), torch.device("cpu"))
    x, _ = next(iter(val_loader))
    raw = x[:5] * info.inference["std"] + info.inference["mean"]  # back to the file's units
    names = info.inference["features"]
    rows = tmp_path / "new.csv"
    header = ["id", *reversed(names)]
    lines = [",".join(header)] + [
        ",".join([str(i), *(repr(v) for v in reversed(row))]) for i, row in enumerate(raw.tolist())
    ]
    rows.write_text("\n".join(lines) + "\n")
    capsys.readouterr()  # what fit() printed
    assert predict.main([cfg.out, str(rows)]) == 0
    printed = capsys.readouterr().out.splitlines()
    with torch.no_grad():
        want = model(x[:5]).argmax(dim=-1).tolist()
    assert [line.split("\t")[0] for line in printed] == [info.inference["labels"][i] for i in want]
    rows.write_text("id,other\n1,2\n")
    assert predict.main([cfg.out, str(rows)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"no column named {names[0]!r}" in error


def test_validation_rows_are_held_out(tmp_path):
    """data.py validates on rows it never trains on (the split is drawn once, seeded)."""
    train_set, val_set, _ = data.build_datasets(make_config(tmp_path))
    train_rows = {tuple(row.tolist()) for row in train_set.tensors[0]}
    val_rows = {tuple(row.tolist()) for row in val_set.tensors[0]}
    assert val_rows and not (train_rows & val_rows)


def test_standardised_with_training_statistics(tmp_path):
    """The training split has mean 0 and std 1 per feature; the statistics travel in DataInfo."""
    train_set, _, info = data.build_datasets(make_config(tmp_path))
    x = train_set.tensors[0]
    torch.testing.assert_close(x.mean(dim=0), torch.zeros(x.shape[1]), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=0), torch.ones(x.shape[1]), atol=1e-5, rtol=0)
    assert set(info.inference) >= {"mean", "std", "labels", "features"}


def test_batchnorm_refuses_a_batch_size_of_one(tmp_path):
    """BatchNorm cannot normalise one sample: a clear TrainingError, not torch's ValueError."""
    cfg = make_config(tmp_path, batch_size=1, batchnorm=True)
    with pytest.raises(train.TrainingError, match="--batch-size"):
        train.build_loaders(cfg, torch.device("cpu"))
    with pytest.raises(data.DataError, match="--batch-size"):
        data.build_datasets(cfg)


def test_accumulation_with_batchnorm_is_per_micro_batch(tmp_path, monkeypatch):
    """With batchnorm, accumulation is ghost batch norm: NOT the large batch, and the test says so.

    Each micro-batch is normalised by its own statistics, so a window's float64 gradient equals
    the sample-weighted sum of the micro-batches' own gradients (the short tail included) and
    differs from one large batch's; the running statistics update once per micro-batch.
    """
    import copy  # only this test needs it: the shared test module stays free of task imports

    cfg = make_config(
        tmp_path, batch_size=8, accum_steps=4, dropout=0.0, batchnorm=True, grad_clip=0.0
    )
    c, _, _ = build(cfg)
    c.model.double()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(70, 2, generator=generator, dtype=torch.float64)  # 9 batches: 8 x 8 + 6
    y = torch.randint(0, 3, (70,), generator=generator)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    windows = iter([(0, 32), (32, 64), (64, 70)])
    gaps = []

    def compare_with_micro_batches(optimizer, args, kwargs):
        start, stop = next(windows)
        twin = copy.deepcopy(c.model)  # the same parameters, its own batchnorm buffers
        params = list(twin.parameters())
        want = [torch.zeros_like(param) for param in params]
        for lo in range(start, stop, 8):
            hi = min(lo + 8, stop)
            share = c.criterion(twin(x[lo:hi]), y[lo:hi]) * (hi - lo) / (stop - start)
            for total, grad in zip(want, torch.autograd.grad(share, params)):
                total += grad
        large = torch.autograd.grad(c.criterion(twin(x[start:stop]), y[start:stop]), params)
        for param, expected in zip(c.model.parameters(), want):
            torch.testing.assert_close(param.grad, expected, rtol=1e-12, atol=1e-12)
        got = torch.cat([param.grad.flatten() for param in c.model.parameters()])
        large = torch.cat([grad.flatten() for grad in large])
        gaps.append(float((got - large).norm() / large.norm()))  # relative gap to the large batch

    c.optimizer.register_step_pre_hook(compare_with_micro_batches)
    train.train_one_epoch(c, loader, cfg, train.Progress())
    assert len(gaps) == 3
    assert min(gaps[:2]) > 1e-3, "4 micro-batches of 8 should differ from one batch of 32"
    assert gaps[2] < 1e-12, "the tail window is one micro-batch: there it IS the large batch"
    norms = [m for m in c.model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms and all(m.num_batches_tracked.item() == 9 for m in norms)


# ---------------------------------------------------------------------------------------------
# Distributed (DDP): 2 processes on gloo equal 1 process with twice the batch
# ---------------------------------------------------------------------------------------------
DDP_MICRO = 8  # per-process micro-batch of the 2-process runs; the 1-process run takes 16
DDP_EPOCHS = 3
DDP_TIMEOUT = 240  # seconds before a run counts as hung (env DDP_TEST_TIMEOUT overrides)

# Runs train.main() in one process of a job (RANK/WORLD_SIZE from the environment, as torchrun
# sets them) in float64 and without autocast, and records what the tests compare.
DDP_WORKER = r"""
import builtins, contextlib, io, json, os, sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
from torch.nn.parallel import DistributedDataParallel

import train

rank = int(os.environ.get("RANK", "0"))
record = Path(os.environ["DDP_TEST_RECORD"])
report = {"lrs": [], "scheduler_steps": 0, "orders": [], "synced_at": [], "forwards": 0, "writes": []}
holder = []


class Double(torch.utils.data.Dataset):
    def __init__(self, inner):
        self.inner = inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        x, y = self.inner[index]
        return (x.double() if x.is_floating_point() else x), y


real_datasets, real_model = train.build_datasets, train.build_model


def build_datasets(cfg):
    train_set, val_set, info = real_datasets(cfg)
    return Double(train_set), Double(val_set), info


train.build_datasets = build_datasets
train.build_model = lambda cfg, info: real_model(cfg, info).double()
torch.autocast = lambda *args, **kwargs: contextlib.nullcontext()
real_components = train.build_components


def build_components(*args, **kwargs):
    c = real_components(*args, **kwargs)
    holder.append(c)
    c.optimizer.register_step_pre_hook(
        lambda opt, a, k: report["lrs"].append(opt.param_groups[0]["lr"])
    )

    def count_forward(module, inputs):
        if module.training:
            report["forwards"] += 1

    c.model.register_forward_pre_hook(count_forward)
    if hasattr(c, "scheduler"):  # counted on the class: an instance attribute would be saved
        cls = type(c.scheduler)
        real_step = cls.step

        def step(self, *a, **k):
            report["scheduler_steps"] += 1
            return real_step(self, *a, **k)

        cls.step = step
    ddp = c.net if isinstance(c.net, DistributedDataParallel) else getattr(c.net, "_orig_mod", None)
    if isinstance(ddp, DistributedDataParallel):

        def hook(state, bucket):
            report["synced_at"].append(report["forwards"])
            return allreduce_hook(state, bucket)

        ddp.register_comm_hook(None, hook)
    return c


train.build_components = build_components
real_iter = train.ShardedBatches.__iter__


def iterate(self):
    order = []
    report["orders"].append(order)
    for batch in real_iter(self):
        order.append(list(batch))
        yield batch


train.ShardedBatches.__iter__ = iterate
real_open = builtins.open


def recording_open(file, mode="r", *args, **kwargs):
    if isinstance(file, (str, os.PathLike)) and any(m in mode for m in "wax+"):
        if os.path.abspath(file) != os.path.abspath(os.devnull):
            report["writes"].append(str(file))
    return real_open(file, mode, *args, **kwargs)


builtins.open = io.open = recording_open
real_replace = os.replace
os.replace = lambda src, dst, *a, **k: (report["writes"].append(str(dst)), real_replace(src, dst, *a, **k))[1]
if os.environ.get("DDP_TEST_STOP_AFTER"):
    real_epoch, done = train.train_one_epoch, []

    def stop_after(*args, **kwargs):
        if len(done) == int(os.environ["DDP_TEST_STOP_AFTER"]):
            raise KeyboardInterrupt  # every rank at the same point, as a Ctrl-C under torchrun
        done.append(1)
        return real_epoch(*args, **kwargs)

    train.train_one_epoch = stop_after
if os.environ.get("DDP_TEST_EVALUATE"):
    script = iter(json.loads(os.environ["DDP_TEST_EVALUATE"])[rank])
    real_evaluate = train.evaluate

    def evaluate(c, loader, *args, **kwargs):
        real_evaluate(c, loader, *args, **kwargs)  # its collectives still run on every rank
        return tuple(next(script))

    train.evaluate = evaluate
code = 1
try:
    code = train.main(sys.argv[1:])
finally:
    builtins.open = io.open = real_open  # the report itself is not one of the run's files
    if holder:
        report["params"] = {k: v.detach().clone() for k, v in holder[0].model.state_dict().items()}
    torch.save(report, record / f"rank{rank}.pt")
sys.exit(code)
"""


def ddp_flags(values: dict) -> list[str]:
    """Command-line flags for the Config fields in `values` (others are not options here)."""
    names = {f.name for f in fields(train.Config)}
    flags = []
    for key, value in values.items():
        if key not in names:
            continue
        flag = key.replace("_", "-")
        if isinstance(value, bool):
            flags.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            flags += [f"--{flag}", str(value)]
    return flags


def run_ranks(tmp_path: Path, world: int, flags: list[str], name: str, **env_extra) -> list[dict]:
    """Run DDP_WORKER as `world` processes of one job (gloo; world 1: no process group).

    Returns one dict per rank: exit code, stdout, stderr and the worker's report. A run that has
    not finished after DDP_TIMEOUT seconds is killed and fails the test: a hang never blocks.
    """
    import os
    import socket
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    script = tmp_path / "ddp_worker.py"
    script.write_text(DDP_WORKER)
    record = tmp_path / f"{name}-record"
    record.mkdir(parents=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    base.update(
        PYTHONPATH=os.pathsep.join([str(root), base.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1",
        DDP_TEST_RECORD=str(record),
        **env_extra,
    )
    procs = []
    for rank in range(world):
        env = dict(base)
        if world > 1:
            env.update(
                RANK=str(rank),
                LOCAL_RANK=str(rank),
                WORLD_SIZE=str(world),
                LOCAL_WORLD_SIZE=str(world),
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=str(port),
            )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script), *flags],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    timeout = float(os.environ.get("DDP_TEST_TIMEOUT", DDP_TIMEOUT))
    deadline = time.monotonic() + timeout
    results = []
    try:
        for rank, proc in enumerate(procs):
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append({"code": proc.returncode, "stdout": out, "stderr": err})
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
            proc.communicate()
        pytest.fail(f"{name}: {world} processes still running after {timeout:.0f}s (a hang)")
    for rank, result in enumerate(results):
        path = record / f"rank{rank}.pt"
        result["report"] = torch.load(path, weights_only=True) if path.exists() else {}
    return results


def ddp_values(tmp_path: Path) -> dict:
    """Config values of the DDP runs: no noise, float64-exact, data whose validation split is odd
    (it does not divide by 2 processes) and whose last global batch is odd (uneven shards)."""
    for per_class in range(46, 80):
        values = dict(
            TEST_SETTINGS,
            **NO_NOISE,
            **task_data(tmp_path, per_class),
            epochs=DDP_EPOCHS,
            device="cpu",
            progress=False,
            seed=0,
            compile_mode="off",
            accum_steps=3,
        )
        names = {f.name for f in fields(train.Config)}
        cfg = train.Config(**{k: v for k, v in values.items() if k in names})
        train_set, val_set, _ = data.build_datasets(cfg)
        if len(val_set) % 2 == 1 and len(train_set) % (2 * DDP_MICRO) % 2 == 1:
            return values
    raise AssertionError("no demo data size with an odd validation split and an odd last batch")


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory):
    """One process with batch 2b, and two processes with batch b each, same data and seed."""
    tmp = tmp_path_factory.mktemp("ddp")
    values = ddp_values(tmp)
    one = run_ranks(
        tmp, 1, ddp_flags(dict(values, batch_size=2 * DDP_MICRO, out=str(tmp / "one"))), "one"
    )
    two = run_ranks(
        tmp, 2, ddp_flags(dict(values, batch_size=DDP_MICRO, out=str(tmp / "two"))), "two"
    )
    for result in one + two:
        assert result["code"] == 0, result["stderr"][-2000:]
    return {"tmp": tmp, "values": values, "one": one, "two": two}


def test_ddp_two_processes_equal_one_large_batch(ddp_runs):
    """2 processes x batch b end with the float64 parameters of 1 process x batch 2b after
    several optimizer steps over windows of 3 micro-batches, the short tail window included;
    both ranks hold bitwise-equal parameters."""
    (one,), (rank0, rank1) = ddp_runs["one"], ddp_runs["two"]
    want, got = one["report"]["params"], rank0["report"]["params"]
    for key in want:
        assert torch.equal(rank0["report"]["params"][key], rank1["report"]["params"][key]), key
        torch.testing.assert_close(got[key], want[key], rtol=1e-10, atol=1e-12)
    assert len(rank0["report"]["lrs"]) == len(one["report"]["lrs"]) > DDP_EPOCHS


def test_ddp_schedule_steps_once_per_optimizer_step(ddp_runs):
    """Each rank steps the scheduler as often as the single process, with the same lr at every step."""
    (one,), two = ddp_runs["one"], ddp_runs["two"]
    for result in two:
        assert result["report"]["scheduler_steps"] == one["report"]["scheduler_steps"]
        assert result["report"]["lrs"] == one["report"]["lrs"]


def test_ddp_validation_is_exact(ddp_runs):
    """val_loss and the task metric of 2 processes equal the single process's on an odd-sized
    validation split: every sample counted once, none padded or repeated. Counts are exact; the
    loss sums are float32 (the loop's), so they agree up to float32 summation order."""
    import csv
    import json

    tmp = ddp_runs["tmp"]
    want = json.loads((tmp / "one" / "summary.json").read_text())
    got = json.loads((tmp / "two" / "summary.json").read_text())
    metric = next(key for key in want if key.startswith("final_val_") and key != "final_val_loss")
    if metric == "final_val_acc":
        assert got[metric] == want[metric]  # correct predictions over targets: exactly equal
    else:
        assert got[metric] == pytest.approx(want[metric], rel=1e-5)
    assert got["final_val_loss"] == pytest.approx(want["final_val_loss"], rel=1e-6)
    rows = []
    for run in ("one", "two"):
        with open(tmp / run / "metrics.csv", newline="") as file:
            rows.append(list(csv.DictReader(file)))  # by column name: columns may be added
    assert len(rows[0]) == len(rows[1]) == DDP_EPOCHS
    for single, double in zip(*rows):
        assert float(double["val_loss"]) == pytest.approx(float(single["val_loss"]), abs=2e-6)
        if metric == "final_val_acc":
            assert double["val_acc"] == single["val_acc"]  # every epoch


def test_ddp_reshuffles_every_epoch_and_shards_every_batch(ddp_runs):
    """Each epoch has its own order (set_epoch); rank r takes every 2nd sample of each global
    batch, so the ranks' shards together are exactly the single process's batches."""
    (one,), (rank0, rank1) = ddp_runs["one"], ddp_runs["two"]
    epochs = one["report"]["orders"]
    assert len(epochs) == DDP_EPOCHS
    assert all(epochs[e] != epochs[e + 1] for e in range(DDP_EPOCHS - 1)), "the same order twice"
    for e, batches in enumerate(epochs):
        assert rank0["report"]["orders"][e] == [batch[0::2] for batch in batches]
        assert rank1["report"]["orders"][e] == [batch[1::2] for batch in batches]


def test_batches_are_those_of_an_epoch_seeded_shuffle(tmp_path):
    """One process: epoch e's batches are randperm(n) seeded with seed + e (DistributedSampler's
    draw), cut into batch_size; the last batch may be short, never of one."""
    n = len(train.build_loaders(make_config(tmp_path), torch.device("cpu"))[0].dataset)
    size = next(b for b in range(5, 32) if n % b > 1)  # a short last batch, but not of one
    cfg = make_config(tmp_path, batch_size=size)
    sampler = train.build_loaders(cfg, torch.device("cpu"))[0].batch_sampler
    for epoch in range(2):
        sampler.set_epoch(epoch)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed + epoch))
        assert list(sampler) == [order[i : i + size].tolist() for i in range(0, n, size)]


def test_ddp_only_rank_0_writes_and_prints(ddp_runs):
    """Rank 1 writes no file and prints nothing; rank 0 prints the global batch at startup."""
    _, (rank0, rank1) = ddp_runs["one"], ddp_runs["two"]
    assert rank1["report"]["writes"] == [] and rank1["stdout"] == ""
    assert rank0["report"]["writes"], "rank 0 wrote nothing"
    accum = ddp_runs["values"].get("accum_steps", 1)
    total = DDP_MICRO * accum * 2
    assert (
        f"x accum_steps {accum} x world 2 = {total} samples per optimizer step" in rank0["stdout"]
    )


def test_ddp_no_sync_until_the_window_steps(ddp_runs):
    """Gradients are all-reduced only in the micro-step that ends a window (the tail window's
    last one included): the other micro-steps run under no_sync."""
    (one,), two = ddp_runs["one"], ddp_runs["two"]
    batches = len(one["report"]["orders"][0])
    accum = ddp_runs["values"]["accum_steps"]
    ends = [
        e * batches + i + 1
        for e in range(DDP_EPOCHS)
        for i in range(batches)
        if (i + 1) % accum == 0 or i + 1 == batches
    ]
    for result in two:
        assert sorted(set(result["report"]["synced_at"])) == ends


def test_ddp_resume_equals_uninterrupted(ddp_runs):
    """2 processes stopped after 2 epochs and resumed end with a last.pt bitwise equal to the
    uninterrupted 2-process run's: weights, optimizer, schedule, counters, every rank's RNG."""
    tmp, values = ddp_runs["tmp"], ddp_runs["values"]
    flags = ddp_flags(dict(values, batch_size=DDP_MICRO, out=str(tmp / "resumed")))
    stopped = run_ranks(tmp, 2, flags, "stopped", DDP_TEST_STOP_AFTER="2")
    assert [r["code"] for r in stopped] == [130, 130], stopped[0]["stderr"][-2000:]
    resumed = run_ranks(tmp, 2, flags + ["--resume", str(tmp / "resumed")], "resumed")
    assert [r["code"] for r in resumed] == [0, 0], resumed[0]["stderr"][-2000:]
    want = torch.load(tmp / "two" / "last.pt", weights_only=True)
    got = torch.load(tmp / "resumed" / "last.pt", weights_only=True)
    assert len(got["rng"]["ranks"]) == 2
    assert_same(without_paths(got), without_paths(want), "last.pt")


def test_ddp_early_stopping_stops_every_rank(tmp_path):
    """Rank 0 sees no improvement, rank 1 sees one every epoch: rank 0's stop is broadcast, so
    both ranks stop after epoch 2 and exit 0 (a per-rank decision leaves one rank training alone).
    """
    import json

    values = dict(ddp_values(tmp_path), epochs=4, early_stopping=1, batch_size=DDP_MICRO)
    worse = [1.0, 2.0, 3.0, 4.0] if train.MONITOR_MODE == "min" else [0.9, 0.8, 0.7, 0.6]
    better = [1.0, 0.9, 0.8, 0.7] if train.MONITOR_MODE == "min" else [0.5, 0.6, 0.7, 0.8]
    pairs = [
        [[v, v] if train.MONITOR == "val_loss" else [1.0, v] for v in seq]
        for seq in (worse, better)
    ]
    results = run_ranks(
        tmp_path,
        2,
        ddp_flags(dict(values, out=str(tmp_path / "run"))),
        "stop",
        DDP_TEST_EVALUATE=json.dumps(pairs),
    )
    assert [r["code"] for r in results] == [0, 0], results[1]["stderr"][-2000:]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs_run"] == 2
    assert "early stopping" in results[0]["stdout"]
