"""Tests that prove this project's training loop correct (CPU, seconds): run `pytest`.

Each test would fail on a loop with the matching classic mistake: steps out of order, an
accumulation that is not the large batch, a resume that drifts, or validation that trains.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import pickle
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
    c.scaler.unscale_ = record(calls, "unscale", c.scaler.unscale_)
    c.scaler.step = record(calls, "step", c.scaler.step)
    c.scaler.update = record(calls, "scaler_update", c.scaler.update)
    c.scheduler.step = record(calls, "scheduler", c.scheduler.step)

    accum = getattr(cfg, "accum_steps", 1)
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=accum)

    expected = ["zero_grad"] + ["forward", "loss", "backward"] * accum
    expected += ["unscale"]
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


def test_scheduler_cadence(tmp_path):
    """The scheduler steps once per optimizer step."""
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
    assert counts["scheduler"] == counts["optimizer"]


def test_accumulation_equals_large_batch(tmp_path, monkeypatch):
    """Each window's accumulated float64 gradient equals one large batch's, the short tail included."""
    no_noise = dict(dropout=0.0, batchnorm=False, grad_clip=0.0)
    cfg = make_config(tmp_path, batch_size=8, accum_steps=4, **no_noise)
    c, _, _ = build(cfg)
    c.model.double()  # converts parameters in place: the optimizer still holds the same objects
    # Exact float64 arithmetic: no autocast and no loss scaling in this test.
    monkeypatch.setattr(torch, "autocast", lambda *args, **kwargs: contextlib.nullcontext())
    c.scaler = torch.amp.GradScaler("cpu", enabled=False)
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
    for name in ["last.pt"]:
        state = torch.load(Path(cfg.out) / name, weights_only=True)
        assert set(state["model"]) == set(c.model.state_dict())
        assert not any(key.startswith("_orig_mod.") for key in state["model"])
        c.model.load_state_dict(state["model"])


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


def test_accumulation_with_batchnorm_is_per_micro_batch(tmp_path, monkeypatch):
    """With batchnorm, accumulation is ghost batch norm: NOT the large batch, and the test says so.

    Each micro-batch is normalised by its own statistics, so a window's float64 gradient equals
    the sample-weighted sum of the micro-batches' own gradients (the short tail included) and
    differs from one large batch's; the running statistics update once per micro-batch.
    """
    cfg = make_config(
        tmp_path, batch_size=8, accum_steps=4, dropout=0.0, batchnorm=True, grad_clip=0.0
    )
    c, _, _ = build(cfg)
    c.model.double()
    monkeypatch.setattr(torch, "autocast", lambda *args, **kwargs: contextlib.nullcontext())
    c.scaler = torch.amp.GradScaler("cpu", enabled=False)
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


def test_onecycle_keeps_the_optimizer_momentum(tmp_path):
    """OneCycleLR cycles the lr only: the optimizer's own momentum (beta1) stays as configured."""
    cfg = make_config(tmp_path, epochs=1)
    c, loader, _ = build(cfg)
    key = "betas"
    configured = train.build_optimizer(c.model, cfg, torch.device("cpu")).param_groups[0][key]
    assert c.optimizer.param_groups[0][key] == configured, "changed when the schedule was built"
    train.train_one_epoch(c, loader, cfg, train.Progress())
    assert c.optimizer.param_groups[0][key] == configured, "changed while training"


def test_optimizer_steps_count_only_the_steps_taken(tmp_path):
    """Steps that GradScaler skips (inf gradients) are not counted in optimizer_steps."""
    cfg = make_config(tmp_path)
    c, loader, _ = build(cfg)
    c.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**100)  # every early step overflows
    taken = []
    c.optimizer.register_step_post_hook(lambda optimizer, args, kwargs: taken.append(1))
    progress = train.Progress()
    train.train_one_epoch(c, loader, cfg, progress)
    assert c.scaler.get_scale() < 2.0**100, "the scaler should have skipped steps"
    assert progress.step == len(taken)


def resumed(cfg: train.Config, **changes) -> train.Config:
    """`cfg` resuming from its own last.pt, with some flags changed."""
    values = {**train.asdict(cfg), "resume": str(Path(cfg.out) / "last.pt"), **changes}
    return train.Config(**values)


def test_resume_refuses_flags_that_change_the_run(tmp_path):
    """A resume with a new lr, batch size, model or seed is refused by name; no file changes."""
    cfg = make_config(tmp_path, epochs=2)
    train.fit(cfg)
    before = {path.name: path.read_bytes() for path in Path(cfg.out).iterdir()}
    changes = dict(lr=cfg.lr * 2, batch_size=cfg.batch_size + 1, hidden=cfg.hidden + 1)
    changes["seed"] = cfg.seed + 1
    changes["accum_steps"] = cfg.accum_steps + 1
    for name, value in changes.items():
        flag = "--" + name.replace("_", "-")
        with pytest.raises(train.TrainingError, match=flag) as error:
            train.fit(resumed(cfg, **{name: value}))
        assert "\n" not in str(error.value)
    assert {path.name: path.read_bytes() for path in Path(cfg.out).iterdir()} == before


def test_resume_with_more_epochs(tmp_path):
    """The onecycle schedule is laid out over --epochs: a resume may not change it."""
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
    worse = iter([(1.0, 0.9), (2.0, 0.1)])  # epoch 2 is worse by either metric: stop there
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
