"""Tests that prove this project's training loop correct (CPU, seconds): run `pytest`.

Each test would fail on a loop with the matching classic mistake: steps out of order, an
accumulation that is not the large batch, a resume that drifts, or validation that trains.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import train


class Crash(Exception):
    """Stands in for a process killed mid-run."""


def make_config(tmp_path: Path, **overrides) -> train.Config:
    """A small, fast, CPU-only config; fields this project does not have are ignored."""
    values = dict(
        out=str(tmp_path / "runs"),
        epochs=4,
        batch_size=32,
        device="cpu",
        progress=False,
        samples_per_class=150,
        compile_mode="off",  # compiling takes longer than these tests; it does not change order
    )
    values.update(overrides)
    names = {f.name for f in train.fields(train.Config)}
    return train.Config(**{k: v for k, v in values.items() if k in names})


def build(cfg: train.Config):
    """Seed, then build loaders and components exactly as fit() does."""
    train.seed_everything(cfg.seed, cfg.deterministic)
    device = torch.device("cpu")
    train_loader, val_loader, in_features, num_classes = train.build_loaders(cfg, device)
    steps_per_epoch = math.ceil(len(train_loader) / getattr(cfg, "accum_steps", 1))
    c = train.build_components(cfg, in_features, num_classes, steps_per_epoch, device)
    return c, train_loader, val_loader


def record(calls: list[str], name: str, fn):
    """Wrap `fn` so each call appends `name` to `calls` first."""

    def wrapper(*args, **kwargs):
        calls.append(name)
        return fn(*args, **kwargs)

    return wrapper


def test_order_contract(tmp_path, monkeypatch):
    """One optimizer step calls its parts in the canonical order for this project's options."""
    cfg = make_config(tmp_path)
    c, loader, _ = build(cfg)
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

    accum = getattr(cfg, "accum_steps", 1)
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=accum)

    expected = ["zero_grad"] + ["forward", "loss", "backward"] * accum
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


def test_scheduler_cadence(tmp_path):
    """The scheduler steps once per epoch, never inside the batch loop."""
    cfg = make_config(tmp_path)
    c, loader, _ = build(cfg)
    counts = {"scheduler": 0, "optimizer": 0}
    scheduler_step = c.scheduler.step

    def count_scheduler(*args, **kwargs):
        counts["scheduler"] += 1
        return scheduler_step(*args, **kwargs)

    def count_optimizer(optimizer, args, kwargs):
        counts["optimizer"] += 1

    c.scheduler.step = count_scheduler
    c.optimizer.register_step_post_hook(count_optimizer)
    train.train_one_epoch(c, loader, cfg, train.Progress())
    accum = getattr(cfg, "accum_steps", 1)
    assert counts["optimizer"] == math.ceil(len(loader) / accum)
    assert counts["scheduler"] == 0


def test_accumulation_equals_large_batch(tmp_path, monkeypatch):
    """Each window's accumulated float64 gradient equals one large batch's, the short tail included."""
    no_noise = dict(dropout=0.0, batchnorm=False, grad_clip=0.0)
    cfg = make_config(tmp_path, batch_size=8, accum_steps=4, **no_noise)
    c, _, _ = build(cfg)
    c.model.double()  # converts parameters in place: the optimizer still holds the same objects
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(70, 2, generator=generator, dtype=torch.float64)  # 9 batches: 8 x 8 + 6
    y = torch.randint(0, 3, (70,), generator=generator)
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


def test_resume_matches_uninterrupted(tmp_path, monkeypatch):
    """Crash after 2 of 4 epochs, resume from last.pt: parameters and optimizer state are bitwise equal."""
    full = make_config(tmp_path / "full")
    train.fit(full)

    part = make_config(tmp_path / "part")
    real_epoch, done = train.train_one_epoch, []

    def crash_on_third_epoch(*args, **kwargs):
        if len(done) == 2:
            raise Crash()
        done.append(1)
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train, "train_one_epoch", crash_on_third_epoch)
    with pytest.raises(Crash):
        train.fit(part)
    monkeypatch.undo()
    part.resume = str(Path(part.out) / "last.pt")
    train.fit(part)

    want = torch.load(Path(full.out) / "last.pt", weights_only=True)
    got = torch.load(Path(part.out) / "last.pt", weights_only=True)
    for key, tensor in want["model"].items():
        assert torch.equal(got["model"][key], tensor), key
    for index, state in want["optimizer"]["state"].items():
        for name, value in state.items():
            other = got["optimizer"]["state"][index][name]
            assert torch.equal(torch.as_tensor(other), torch.as_tensor(value)), name
    assert got["progress"] == want["progress"]


def test_checkpoints_hold_plain_module_keys(tmp_path):
    """Checkpoints load with weights_only=True and hold the uncompiled module's keys."""
    cfg = make_config(tmp_path, epochs=2)
    train.fit(cfg)
    c, _, _ = build(cfg)
    for name in ["best.pt", "last.pt"]:
        state = torch.load(Path(cfg.out) / name, weights_only=True)
        assert set(state["model"]) == set(c.model.state_dict())
        assert not any(key.startswith("_orig_mod.") for key in state["model"])
        c.model.load_state_dict(state["model"])


def test_best_checkpoint_follows_the_monitor(tmp_path, monkeypatch):
    """best.pt holds the weights of the epoch with the best val_loss, not the last epoch's."""
    cfg = make_config(tmp_path, epochs=4)
    scripted = iter([(1.0, 0.5), (0.5, 0.9), (0.8, 0.7), (0.9, 0.6)])  # (val_loss, val_acc)
    snapshots = []

    def scripted_evaluate(c, loader, *args, **kwargs):
        snapshots.append({k: v.clone() for k, v in c.model.state_dict().items()})
        return next(scripted)  # epoch 2 is the best by either metric

    monkeypatch.setattr(train, "evaluate", scripted_evaluate)
    summary = train.fit(cfg)
    state = torch.load(Path(cfg.out) / "best.pt", weights_only=True)
    assert summary["best_epoch"] == state["epoch"] == 2
    for key, value in snapshots[1].items():
        assert torch.equal(state["model"][key], value), key


def test_validation_is_held_out(tmp_path, monkeypatch):
    """fit() validates on rows it never trains on."""
    cfg = make_config(tmp_path, epochs=1)
    datasets = {}
    real_train, real_evaluate = train.train_one_epoch, train.evaluate

    def spy_train(c, loader, *args, **kwargs):
        datasets["train"] = loader.dataset
        return real_train(c, loader, *args, **kwargs)

    def spy_evaluate(c, loader, *args, **kwargs):
        datasets["val"] = loader.dataset
        return real_evaluate(c, loader, *args, **kwargs)

    monkeypatch.setattr(train, "train_one_epoch", spy_train)
    monkeypatch.setattr(train, "evaluate", spy_evaluate)
    train.fit(cfg)
    train_rows = {tuple(row.tolist()) for row in datasets["train"].tensors[0]}
    val_rows = {tuple(row.tolist()) for row in datasets["val"].tensors[0]}
    assert val_rows and not (train_rows & val_rows)


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


def test_learns(tmp_path):
    """A short run lowers the validation loss well below chance (ln 3 for three classes)."""
    cfg = make_config(tmp_path, epochs=10)
    summary = train.fit(cfg)
    assert summary["best_val_loss"] < 0.5 * math.log(3)
    assert summary["best_val_acc"] >= 0.8
    assert (Path(cfg.out) / "metrics.csv").read_text().count("\n") >= 2


# --- flag validation (the ranges in Config's option() fields) --------------------------------
def test_config_refuses_values_outside_its_ranges():
    """Every ranged field refuses NaN and a value just past each bound, naming its flag; the
    defaults themselves are inside (so `python train.py` with no flags always starts)."""
    defaults = train.Config()
    for f in train.fields(train.Config):
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
        assert train.within(getattr(defaults, f.name), interval), f"default of {flag}"
        for value in outside:
            value = int(value) if f.type == "int" and math.isfinite(value) else value
            try:
                train.Config(**{f.name: value})
            except train.ConfigError as exc:
                assert str(exc).startswith(f"argument {flag}: "), exc
            else:
                raise AssertionError(f"{flag} {value} was accepted outside {interval}")
