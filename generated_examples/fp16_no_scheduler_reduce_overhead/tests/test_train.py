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
        compile_mode="off",  # tests that compile use COMPILE and the eager_compile fixture
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


COMPILE = dict(compile_mode="reduce-overhead")  # this project's mode, for tests using eager_compile


@pytest.fixture
def eager_compile(monkeypatch):
    """train.py's torch.compile builds its real wrapper, which then runs eagerly; yields the modes.

    The wrapper is torch.compile's own OptimizedModule: its state_dict keys start with
    `_orig_mod.` and it shares the model's parameters. Under the "force_eager" stance (torch >=
    2.6) its calls run the model without tracing; older torch traces with dynamo's eager
    backend. Inductor's code generation, minutes on a CPU, never runs: the mode only tunes
    inductor, so it is recorded rather than passed on.
    """
    modes = []
    real_compile = torch.compile

    def compile_eagerly(model, *args, **kwargs):
        modes.append(kwargs.get("mode"))
        return real_compile(model, backend="eager")

    monkeypatch.setattr(torch, "compile", compile_eagerly)
    if hasattr(torch.compiler, "set_stance"):
        with torch.compiler.set_stance("force_eager"):
            yield modes
    else:
        yield modes


def test_order_contract(tmp_path, monkeypatch, eager_compile):
    """One optimizer step calls its parts in the canonical order for this project's options.

    The step covers one window: accum_steps micro-batches, or all 12 of the test loader's when
    accum_steps is larger (then the window is the epoch's short tail, which steps the same way;
    the accumulation test checks where full windows end). The loop calls the compiled wrapper.
    """
    cfg = make_config(tmp_path, per_class=150, **COMPILE)
    c, loader, _ = build(cfg)
    assert c.net is not c.model and eager_compile, "the loop runs the torch.compile wrapper"
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

    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=window)

    expected = ["zero_grad"] + ["forward", "loss", "backward"] * window
    expected += ["unscale"]  # before clipping: the threshold applies to true gradients
    expected += ["clip"]
    expected += ["step"]
    expected += ["scaler_update"]
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

    Model, optimizer, GradScaler, counters and RNG streams: a resume that drops any of them drifts.
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


def test_checkpoints_hold_plain_module_keys(tmp_path, eager_compile):
    """Checkpoints load with weights_only=True and hold the uncompiled module's keys."""
    cfg = make_config(tmp_path, epochs=1, **COMPILE)
    train.fit(cfg)
    mode = "reduce-overhead"  # "default" is torch.compile's mode=None
    assert eager_compile == [mode], "fit() compiles once, in this project's mode"
    cfg.compile_mode = "off"
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
    for name, value in changes.items():
        flag = "--" + name.replace("_", "-")
        with pytest.raises(train.TrainingError, match=flag) as error:
            train.fit(resumed(cfg, **{name: value}))
        assert "\n" not in str(error.value)
    assert {path.name: path.read_bytes() for path in Path(cfg.out).iterdir()} == before


def test_resume_with_more_epochs(tmp_path):
    """No schedule horizon: a resume may add epochs, and equals the longer uninterrupted run."""
    cfg = make_config(tmp_path / "short", epochs=2)
    train.fit(cfg)
    longer = make_config(tmp_path / "long", epochs=3)
    train.fit(longer)
    train.fit(resumed(cfg, epochs=3))
    want = torch.load(Path(longer.out) / "last.pt", weights_only=True)
    got = torch.load(Path(cfg.out) / "last.pt", weights_only=True)
    for key, tensor in want["model"].items():
        assert torch.equal(got["model"][key], tensor), key
    assert got["progress"] == want["progress"]
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


def test_the_wandb_tracker_gets_the_run(tmp_path):
    """This project's tracker (wandb) writes its files beside the CSV ones.

    The other tests log to CSV only (TEST_SETTINGS), so they run without the optional package;
    this one is skipped when it is missing (`pip install -e '.[wandb]'`).
    """
    pytest.importorskip("wandb")
    cfg = make_config(tmp_path, epochs=1, tracking="wandb", log_every=1)
    train.fit(cfg)
    out = Path(cfg.out)
    assert (out / "steps.csv").read_text().count("\n") > 1, "steps.csv holds no step"
    assert (out / "wandb").exists(), "wandb wrote nothing"


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
