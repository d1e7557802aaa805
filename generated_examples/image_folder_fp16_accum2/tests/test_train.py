"""Tests that prove this project's training loop correct (CPU, seconds): run `pytest`.

Each test would fail on a loop with the matching classic mistake: steps out of order, an
accumulation that is not the large batch, a resume that drifts, or validation that trains.

They prove the loop, not the hyperparameters in Config: make_config() runs a narrow model at a
learning rate known to be stable, so the tests pass in seconds for any valid answers, while every
code path the answers chose stays on (precision, accumulation, clipping, dropout, batchnorm,
weight decay, the scheduler and its cadence).
"""

from __future__ import annotations

import contextlib
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

# The task's small CNN for the tests, on small images; dropout and batchnorm stay on.
TASK_SETTINGS = dict(width=8, image_size=12, dropout=0.1)
# A train-mode forward that is exact per sample: no dropout, no batch statistics, no augmentation.
NO_NOISE = dict(dropout=0.0, batchnorm=False, crop_padding=0, flip=False)
SHAPE_FIELD = "width"  # a Config field that changes the model's shape (resume must refuse it)
LEARN_SETTINGS = dict()  # test_learns: the test-scale CNN, at the tests' stable settings
# test_learns trains this many optimizer steps, whatever accum_steps is: a CNN needs more than
# the other tasks' 120 (at 120, bf16 with Adam and no clipping reached only val_acc 0.46).
LEARN_STEPS = 200


def task_data(tmp_path: Path, per_class: int) -> dict:
    """Config fields for about 3 x `per_class` demo images (six shapes, per_class // 2 each).

    A folder project's tests do not read your images: they write the demo shapes as PNG files
    in the layout load_folder expects (one sub-folder per class).
    """
    per_shape = max(1, per_class // 2)
    folder = tmp_path / f"images-{per_class}"
    if not folder.exists():
        data.write_demo_folder(str(folder), per_shape, TASK_SETTINGS["image_size"])
    return dict(image_folder=str(folder))


def assert_learned(summary: dict) -> None:
    """test_learns' bar: six shapes, so chance is ln 6 in loss and 1/6 in accuracy."""
    assert summary["best_val_loss"] < 0.7 * math.log(6)
    assert summary["best_val_acc"] >= 0.5


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
    # scaler.step() unscales by itself when the loop has not: only the loop's own calls count.
    inside_step = []
    real_unscale, real_step = c.scaler.unscale_, c.scaler.step

    def unscale(*args, **kwargs):
        if not inside_step:
            calls.append("unscale")
        return real_unscale(*args, **kwargs)

    def step(*args, **kwargs):
        calls.append("step")
        inside_step.append(True)
        try:
            return real_step(*args, **kwargs)
        finally:
            inside_step.pop()

    c.scaler.unscale_, c.scaler.step = unscale, step
    c.scaler.update = record(calls, "scaler_update", c.scaler.update)
    c.scheduler.step = record(calls, "scheduler", c.scheduler.step)

    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=window)

    expected = ["zero_grad"] + ["forward", "loss", "backward"] * window
    expected += ["unscale"]  # before clipping: the threshold applies to true gradients
    expected += ["clip"]
    expected += ["step"]
    expected += ["scaler_update"]
    expected += ["scheduler"]  # once per optimizer step
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


def skipped_by_scaler(optimizer: torch.optim.Optimizer) -> bool:
    """Whether GradScaler gave this step() inf gradients, from inside a step hook.

    GradScaler skips an unfused optimizer's step() outright, but calls a fused one (see
    build_optimizer for when the project's is fused) with `found_inf` set, and the kernel leaves
    the parameters alone.
    """
    found_inf = getattr(optimizer, "found_inf", None)
    return found_inf is not None and found_inf.item() > 0


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
        if not skipped_by_scaler(optimizer):  # a post hook runs after every step() called
            counts["taken"] += 1

    if scheduler:
        c.scheduler.step = count_scheduler
    c.optimizer.register_step_post_hook(count_taken)
    scaler_step = c.scaler.step

    def count_window(*args, **kwargs):
        counts["windows"] += 1  # GradScaler may skip the optimizer step it was asked for
        return scaler_step(*args, **kwargs)

    c.scaler.step = count_window
    return counts


def test_scheduler_cadence(tmp_path):
    """The scheduler steps once per optimizer step taken."""
    cfg = make_config(tmp_path, per_class=150)
    c, loader, _ = build(cfg)
    counts = count_steps(c)
    train.train_one_epoch(c, loader, cfg, train.Progress())
    accum = getattr(cfg, "accum_steps", 1)
    assert counts["windows"] == math.ceil(len(loader) / accum)
    assert counts["scheduler"] == counts["taken"]


def test_skipped_step_does_not_step_the_scheduler(tmp_path):
    """When GradScaler skips steps (inf gradients), the schedule does not advance either."""
    cfg = make_config(tmp_path, per_class=150)
    c, loader, _ = build(cfg)
    poisoned = [True]

    def poison(grad):
        return torch.full_like(grad, math.inf) if poisoned[0] else grad

    next(c.model.parameters()).register_hook(poison)
    counts = count_steps(c)
    train.train_one_epoch(c, loader, cfg, train.Progress())  # every step of this epoch skips
    poisoned[0] = False
    train.train_one_epoch(c, loader, cfg, train.Progress())
    windows = math.ceil(len(loader) / getattr(cfg, "accum_steps", 1))
    assert counts == {"windows": 2 * windows, "taken": windows, "scheduler": windows}


def test_schedule_spans_the_run(tmp_path, monkeypatch):
    """fit() sizes the schedule in optimizer steps (windows of accum_steps micro-batches): it ends exactly when training does."""
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
    skipped = counts["windows"] - counts["taken"]  # GradScaler skips (rightly not scheduled)
    for _ in range(skipped):
        c.scheduler.step()
    lr = c.optimizer.param_groups[0]["lr"]  # after the schedule's last step
    assert lr < 1e-6 * cfg.lr, f"the cosine ends at zero, not at {lr / cfg.lr:.3g} x lr"


def test_accumulation_equals_large_batch(tmp_path, monkeypatch):
    """Each window's accumulated float64 gradient equals one large batch's, the short tail included."""
    cfg = make_config(tmp_path, batch_size=8, accum_steps=4, **NO_NOISE, grad_clip=0.0)
    c, train_loader, _ = build(cfg)
    c.model.double()  # converts parameters in place: the optimizer still holds the same objects
    # Exact float64 arithmetic: no autocast and no loss scaling in this test.
    monkeypatch.setattr(torch, "autocast", lambda *args, **kwargs: contextlib.nullcontext())
    c.scaler = torch.amp.GradScaler("cpu", enabled=False)
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
    monkeypatch.setattr(torch, "autocast", lambda *args, **kwargs: contextlib.nullcontext())
    c.scaler = torch.amp.GradScaler("cpu", enabled=False)
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

    Model, optimizer, scheduler, GradScaler, counters and RNG streams: a resume that drops any of them drifts.
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
    """best.pt holds the weights of the epoch with the best val_acc, not the last epoch's."""
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


def test_batches_are_those_of_a_plain_shuffled_loader(tmp_path):
    """Without a tail of one, the loader yields what DataLoader(shuffle=True) would, draw for draw."""
    n = len(train.build_loaders(make_config(tmp_path), torch.device("cpu"))[0].dataset)
    size = next(b for b in range(5, 32) if n % b > 1)  # a short last batch, but not of one
    cfg = make_config(tmp_path, batch_size=size)
    loader = train.build_loaders(cfg, torch.device("cpu"))[0]
    plain = torch.utils.data.DataLoader(
        loader.dataset,
        batch_size=size,
        shuffle=True,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    for epoch in range(2):  # two epochs: the reshuffle draws from the generator the same way
        # Augmentation (image) draws from torch's global generator: the same draws for both.
        torch.manual_seed(epoch)
        got = [x for x, _ in loader]
        torch.manual_seed(epoch)
        want = [x for x, _ in plain]
        assert len(got) == len(want)
        assert all(torch.equal(a, b) for a, b in zip(got, want))


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


def test_optimizer_steps_count_only_the_steps_taken(tmp_path):
    """Steps that GradScaler skips (inf gradients) are not counted in optimizer_steps."""
    cfg = make_config(tmp_path)
    c, loader, _ = build(cfg)
    c.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**100)  # every early step overflows
    taken = []

    def count_taken(optimizer, args, kwargs):
        if not skipped_by_scaler(optimizer):  # a post hook runs after every step() called
            taken.append(1)

    c.optimizer.register_step_post_hook(count_taken)
    progress = train.Progress()
    train.train_one_epoch(c, loader, cfg, progress)
    assert c.scaler.get_scale() < 2.0**100, "the scaler should have skipped steps"
    assert progress.step == len(taken)


def test_the_steps_after_a_skipped_first_step_are_sound(tmp_path):
    """GradScaler skips the very first step (inf gradients); the optimizer state it leaves must
    be sound, so the steps after it move the weights by ordinary amounts."""
    cfg = make_config(tmp_path)
    c, loader, _ = build(cfg)
    window = getattr(cfg, "accum_steps", 1)
    poisoned = [True]
    first = next(c.model.parameters())
    first.register_hook(lambda grad: torch.full_like(grad, math.inf) if poisoned[0] else grad)
    progress = train.Progress()
    train.train_one_epoch(c, loader, cfg, progress, max_batches=window)
    assert progress.step == 0, "the first step should have been skipped"
    poisoned[0] = False
    before = [param.detach().clone() for param in c.model.parameters()]
    train.train_one_epoch(c, loader, cfg, progress, max_batches=2 * window)
    assert progress.step > 0, "no step was taken after the skipped one"
    moved = max(
        (param.detach() - old).abs().max().item()
        for param, old in zip(c.model.parameters(), before)
    )
    # two steps move a weight by a few learning rates; garbage in the state moves it by 1e30
    assert math.isfinite(moved) and moved < 100 * cfg.lr, f"a weight moved by {moved:.3g}"


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
# The image task: data.py's split, normalisation, augmentation and image files
# ---------------------------------------------------------------------------------------------
def image_sets(tmp_path, **overrides):
    """data.py's (train_set, val_set, info) for the tests' small images, augmentation on."""
    cfg = make_config(tmp_path, crop_padding=2, flip=True, **overrides)
    return data.build_datasets(cfg)


def test_validation_images_are_held_out(tmp_path):
    """data.py validates on images it never trains on (the split is drawn once, seeded)."""
    train_set, val_set, info = image_sets(tmp_path)
    train_images = {image.numpy().tobytes() for image in train_set.images}
    val_images = {image.numpy().tobytes() for image in val_set.images}
    assert val_images and not (train_images & val_images)
    assert info.input_shape == tuple(train_set.images.shape[1:])
    assert len(info.inference["labels"]) == info.num_classes


def test_normalised_with_training_statistics(tmp_path):
    """Each channel of the training split, as the model sees it before augmentation, has mean 0
    and std 1; a mean or std that counted validation images too would miss by far more."""
    train_set, val_set, info = image_sets(tmp_path)
    x = (
        train_set.images.double() / 255 - info.inference["mean"].double().view(-1, 1, 1)
    ) / info.inference["std"].double().view(-1, 1, 1)
    pixels = x.transpose(0, 1).flatten(1)  # (channels, every training pixel)
    torch.testing.assert_close(
        pixels.mean(dim=1), torch.zeros(3, dtype=torch.float64), atol=1e-4, rtol=0
    )
    torch.testing.assert_close(
        pixels.std(dim=1), torch.ones(3, dtype=torch.float64), atol=1e-3, rtol=0
    )
    assert set(info.inference) >= {"mean", "std", "labels", "image_size"}


def test_augmentation_is_for_training_only(tmp_path):
    """Validation images come back exactly normalised, every time; training images are cropped
    and flipped at random, drawn from torch's generator (so a seeded run repeats them)."""
    train_set, val_set, info = image_sets(tmp_path)
    mean, std = (info.inference[key].view(-1, 1, 1) for key in ("mean", "std"))
    for i in range(4):
        x, y = val_set[i]
        assert torch.equal(x, (val_set.images[i].float() / 255 - mean) / std)
        assert torch.equal(val_set[i][0], x) and y == val_set.labels[i]
    plain = (train_set.images[0].float() / 255 - mean) / std
    torch.manual_seed(0)
    draws = [train_set[0][0] for _ in range(20)]
    assert all(draw.shape == plain.shape for draw in draws)
    assert any(
        not torch.equal(draw, plain) for draw in draws
    ), "training images are never augmented"
    torch.manual_seed(0)
    assert all(
        torch.equal(draw, train_set[0][0]) for draw in draws
    ), "augmentation ignores torch's seed"


def test_predict_reads_image_files_as_training_saw_them(tmp_path):
    """load_inputs() turns a PNG of a validation image into exactly the tensor validation used."""
    from PIL import Image

    _, val_set, info = image_sets(tmp_path)
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"image-{i}.png")
        Image.fromarray(val_set.images[i].permute(1, 2, 0).numpy()).save(paths[-1])
    batch = data.load_inputs([str(path) for path in paths], info)
    assert torch.equal(batch, torch.stack([val_set[i][0] for i in range(3)]))
    lines = data.describe(torch.eye(info.num_classes)[:2] * 10, info)
    assert [line.split("\t")[0] for line in lines] == info.inference["labels"][:2]


def test_batchnorm_refuses_a_batch_size_of_one(tmp_path):
    """BatchNorm cannot normalise one sample: a clear DataError naming --batch-size."""
    with pytest.raises(train.TrainingError, match="--batch-size"):
        train.build_loaders(
            make_config(tmp_path, batch_size=1, batchnorm=True), torch.device("cpu")
        )


def test_bad_image_folders_give_one_line(tmp_path):
    """A missing folder, one class, an empty class and an unreadable image: one line each."""
    root = tmp_path / "images"
    (root / "cat").mkdir(parents=True)
    with pytest.raises(data.DataError, match="missing"):
        data.load_folder(str(tmp_path / "missing"), 12)
    data.write_demo_folder(str(tmp_path / "demo"), 2, 12)
    (root / "cat" / "0.png").write_bytes((tmp_path / "demo" / "disc" / "000002.png").read_bytes())
    with pytest.raises(data.DataError, match="at least 2"):
        data.load_folder(str(root), 12)
    (root / "dog").mkdir()
    with pytest.raises(data.DataError, match="'dog' holds no images"):
        data.load_folder(str(root), 12)
    (root / "dog" / "1.png").write_bytes(b"not a png")
    with pytest.raises(data.DataError, match="cannot read image") as error:
        data.load_folder(str(root), 12)
    assert "\n" not in str(error.value) and "1.png" in str(error.value)
    (root / "dog" / "1.png").write_bytes((tmp_path / "demo" / "ring" / "000004.png").read_bytes())
    images, labels, classes = data.load_folder(str(root), 12)
    assert (
        classes == ["cat", "dog"] and labels.tolist() == [0, 1] and images.shape == (2, 3, 12, 12)
    )
