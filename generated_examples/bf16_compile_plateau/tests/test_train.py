"""Tests that prove this project's training loop correct (CPU, seconds): run `pytest`.

Each test would fail on a loop with the matching classic mistake: steps out of order, an
accumulation that is not the large batch, a resume that drifts, or validation that trains.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

import train


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


def test_checkpoints_hold_plain_module_keys(tmp_path):
    """Checkpoints load with weights_only=True and hold the uncompiled module's keys."""
    cfg = make_config(tmp_path, epochs=2)
    train.fit(cfg)
    c, _, _ = build(cfg)
    for name in ["best.pt"]:
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


# ---------------------------------------------------------------------------------------------
# Batching, accumulation with batchnorm, schedules, strict JSON
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
    cfg = make_config(tmp_path, batch_size=7)
    loader = train.build_loaders(cfg, torch.device("cpu"))[0]
    assert len(loader.dataset) % 7 != 1
    plain = torch.utils.data.DataLoader(
        loader.dataset,
        batch_size=7,
        shuffle=True,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    for _ in range(2):  # two epochs: the reshuffle draws from the generator the same way
        for (x, _), (want, _) in zip(loader, plain, strict=True):
            assert torch.equal(x, want)


def test_batchnorm_refuses_a_batch_size_of_one(tmp_path):
    """BatchNorm cannot normalise one sample: a clear TrainingError, not torch's ValueError."""
    cfg = make_config(tmp_path, batch_size=1, batchnorm=True)
    with pytest.raises(train.TrainingError, match="--batch-size"):
        train.build_loaders(cfg, torch.device("cpu"))


def test_json_outputs_are_strict(tmp_path):
    """No NaN or Infinity reaches a JSON file: a run that trained no epoch writes null."""
    cfg = make_config(tmp_path, epochs=0)
    train.fit(cfg)
    for name in ["summary.json", "config.json"]:
        text = (Path(cfg.out) / name).read_text()
        json.loads(text, parse_constant=lambda word: pytest.fail(f"{name} holds {word}"))
    summary = json.loads((Path(cfg.out) / "summary.json").read_text())
    assert summary["best_val_loss"] is None and summary["epochs_run"] == 0
