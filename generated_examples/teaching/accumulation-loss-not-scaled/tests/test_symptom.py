"""Symptom test for `accumulation-loss-not-scaled`: gradient accumulation without dividing the loss.

accumulation-loss-not-scaled: the accumulated gradient is accum_steps times the large batch's.

test_symptom measures ../train.py (the loop with the mistake) and passes when the symptom shows.
test_correct_loop_does_not_show_it runs the same measurement on ../correct_train.py and expects
the same check to fail there. Run `pytest tests/` in this folder; set
SCAFFOLD_TEACH_TARGET=correct_train.py to point test_symptom at the correct loop (it then fails).
"""

from __future__ import annotations

import json
import os

import pytest

import copy
import dataclasses
import importlib.util
import math
import sys
import uuid
from pathlib import Path

import torch


def load_loop(path: Path):
    """Import a train.py file as a fresh module (train.py and correct_train.py side by side).

    train.py imports config.py, data.py, model.py and tracking.py from its own folder: that folder goes first on
    sys.path, and copies another folder's loop imported before are forgotten.
    """
    folder = str(Path(path).resolve().parent)
    for module in ("config", "data", "model", "tracking"):
        loaded = sys.modules.get(module)
        if loaded is not None and str(Path(getattr(loaded, "__file__", "") or "").parent) != folder:
            del sys.modules[module]
    if folder in sys.path:  # first on the path: its own config.py, not another folder's
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    name = f"loop_{Path(path).stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def metrics_column(cfg, name: str) -> list[float]:
    """One column of the run's metrics.csv, found by its header name."""
    header, *rows = (Path(cfg.out) / "metrics.csv").read_text().splitlines()
    at = header.split(",").index(name)
    return [float(row.split(",")[at]) for row in rows]


def make_config(train, tmp_path: Path, **overrides):
    """A small CPU config; fields the loop does not have are ignored."""
    values = dict(
        out=str(Path(tmp_path) / f"runs-{uuid.uuid4().hex[:6]}"),
        epochs=3,
        batch_size=32,
        device="cpu",
        progress=False,
        samples_per_class=100,
    )
    values.update(overrides)
    names = {f.name for f in dataclasses.fields(train.Config)}
    return train.Config(**{k: v for k, v in values.items() if k in names})


def build(train, cfg):
    """Seed, then build loaders and components the way fit() does."""
    train.seed_everything(cfg.seed, cfg.deterministic)
    device = torch.device("cpu")
    train_loader, val_loader, info = train.build_loaders(cfg, device)
    steps_per_epoch = math.ceil(len(train_loader) / getattr(cfg, "accum_steps", 1))
    c = train.build_components(cfg, info, steps_per_epoch, device)
    return c, train_loader, val_loader


def global_norm(tensors) -> float:
    """The global L2 norm of a list of gradients (None counts as absent)."""
    grads = [g.detach().double() for g in tensors if g is not None]
    return math.sqrt(sum(float((g * g).sum()) for g in grads)) if grads else 0.0


def record_step_grad_norms(c) -> list:
    """Record, at every optimizer.step(), the global norm of the gradients it is about to apply."""
    norms: list = []

    def hook(optimizer, args, kwargs):
        # Under GradScaler a fused optimizer gets its gradients still scaled, with the scale
        # (`grad_scale`, None once unscale_ ran) and `found_inf` set: its kernel unscales them, or
        # skips the step, itself. An unfused one is called only with finite, unscaled gradients.
        found_inf = getattr(optimizer, "found_inf", None)
        if found_inf is not None and found_inf.item() > 0:
            return  # skipped, as GradScaler skips an unfused optimizer's step()
        scale = getattr(optimizer, "grad_scale", None)
        norm = global_norm([p.grad for g in optimizer.param_groups for p in g["params"]])
        norms.append(norm / scale.item() if scale is not None else norm)

    c.optimizer.register_step_pre_hook(hook)
    return norms


def clone_model(model, state):
    """A copy of `model` holding `state` (for recomputing gradients outside the loop)."""
    twin = copy.deepcopy(model)
    twin.load_state_dict(state)
    return twin


def fresh_gradient(model, state, x, y, dtype=torch.float64) -> list:
    """The gradient of the mean cross-entropy of (x, y) at the weights `state`, in float64."""
    twin = clone_model(model, state).to(dtype)
    twin.train()
    loss = torch.nn.functional.cross_entropy(twin(x.to(dtype)), y)
    return list(torch.autograd.grad(loss, list(twin.parameters())))


def flat(grads) -> torch.Tensor:
    return torch.cat([g.detach().reshape(-1).double() for g in grads])


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, dropout=0.0, grad_clip=0.0)
    c, loader, _ = build(train, cfg)
    start = copy.deepcopy(c.model.state_dict())
    xs, ys, used = [], [], []
    c.model.register_forward_pre_hook(lambda m, args: xs.append(args[0].detach().clone()))
    c.criterion.register_forward_pre_hook(lambda m, args: ys.append(args[1].clone()))

    def before_step(optimizer, args, kwargs):
        used.append([p.grad.detach().clone() for p in c.model.parameters()])

    c.optimizer.register_step_pre_hook(before_step)
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=cfg.accum_steps)
    big = flat(fresh_gradient(c.model, start, torch.cat(xs), torch.cat(ys)))
    got = flat(used[0])
    moved = [(p.detach() - start[name]) for name, p in c.model.named_parameters()]
    return {
        "accum_steps": cfg.accum_steps,
        "grad_norm_ratio_vs_large_batch": float(got.norm() / big.norm()),
        "cosine_vs_large_batch": float(got @ big / (got.norm() * big.norm())),
        "first_update_norm": float(flat(moved).norm()),
        "optimizer": type(c.optimizer).__name__,
    }


def check(m):
    assert abs(m["grad_norm_ratio_vs_large_batch"] - m["accum_steps"]) < 1e-3
    assert m["cosine_vs_large_batch"] > 0.9999, "same direction, wrong size"


BUG_ID = "accumulation-loss-not-scaled"
FOLDER = Path(__file__).resolve().parents[1]
TARGET = os.environ.get("SCAFFOLD_TEACH_TARGET", "train.py")


def _report(name: str, numbers: dict) -> None:
    """Print the numbers; with SCAFFOLD_TEACH_REPORT=DIR also write them as JSON (for the lesson)."""
    print(name, json.dumps(numbers, sort_keys=True))
    folder = os.environ.get("SCAFFOLD_TEACH_REPORT")
    if folder:
        path = Path(folder) / f"{BUG_ID}.{name}.json"
        path.write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\n")


def test_symptom(tmp_path):
    """The mistake in train.py shows up, in numbers."""
    numbers = measure(load_loop(FOLDER / TARGET), tmp_path)
    _report("variant" if TARGET == "train.py" else Path(TARGET).stem, numbers)
    check(numbers)


def test_correct_loop_does_not_show_it(tmp_path):
    """The same measurement on the correct loop does not pass the same check."""
    numbers = measure(load_loop(FOLDER / "correct_train.py"), tmp_path)
    _report("correct", numbers)
    with pytest.raises(AssertionError):
        check(numbers)
