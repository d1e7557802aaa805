"""Small AST helpers and the vocabulary the checker recognises (call names, scheduler classes)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache

# Schedulers whose schedule is written in epochs: stepping them per batch is a bug.
EPOCH_SCHEDULERS = frozenset({"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "MultiplicativeLR"})
# Schedulers written in optimizer steps.
STEP_SCHEDULERS = frozenset(
    {
        "OneCycleLR",
        "CyclicLR",
        "get_scheduler",
        "get_linear_schedule_with_warmup",
        "get_cosine_schedule_with_warmup",
        "get_constant_schedule_with_warmup",
        "get_polynomial_decay_schedule_with_warmup",
        "get_cosine_with_hard_restarts_schedule_with_warmup",
    }
)
# Either cadence can be right; which one depends on numbers we cannot read statically.
EITHER_SCHEDULERS = frozenset(
    {
        "LambdaLR",
        "SequentialLR",
        "ChainedScheduler",
        "LinearLR",
        "ConstantLR",
        "PolynomialLR",
        "CosineAnnealingWarmRestarts",
    }
)
PLATEAU_SCHEDULERS = frozenset({"ReduceLROnPlateau"})

OPTIMIZERS = frozenset(
    {
        "SGD",
        "Adam",
        "AdamW",
        "RMSprop",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "NAdam",
        "RAdam",
        "LBFGS",
        "SparseAdam",
        "ASGD",
        "Rprop",
        "Adafactor",
        "Lion",
    }
)
CLIP_FUNCS = frozenset({"clip_grad_norm_", "clip_grad_value_", "clip_grad_norm", "clip_gradients"})
SAVE_FUNCS = frozenset({"save", "save_checkpoint", "save_model", "save_state_dict"})

_VAL_WORDS = re.compile(
    r"(?:^|_)(val|valid|validation|validate|eval|evaluate|evaluation|test|holdout|dev)"
    r"(?:$|_|\d|loader|dl|ds|set|data|iter|batch)",
    re.IGNORECASE,
)


def dotted(node: ast.AST | None) -> str | None:
    """`self.opt` for `self.opt`, `model` for `model`; None for anything that is not a plain path."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def func_name(call: ast.Call) -> str:
    """Last component of the called name: `step` for `opt.step()`, `StepLR` for `lr_scheduler.StepLR()`."""
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def receiver(call: ast.Call) -> ast.expr | None:
    """The object a method is called on (`opt` in `opt.step()`), or None for a plain function call."""
    return call.func.value if isinstance(call.func, ast.Attribute) else None


# Objects whose `.backward(loss)` runs the loss's backward (the loss is the argument, not the
# receiver): accelerate's Accelerator, Lightning's Fabric, DeepSpeed engines, apex amp.
_BACKWARD_OWNERS = ("accelerator", "fabric", "engine", "amp", "deepspeed", "trainer", "booster", "autograd")


def backward_loss(call: ast.Call) -> ast.expr | None:
    """The loss expression a backward call differentiates, or None if `call` is no backward.

    `loss.backward()` -> `loss`; `scaler.scale(loss).backward()` -> `loss`;
    `accelerator.backward(loss)`, `fabric.backward(loss)`, `self.manual_backward(loss)`,
    `torch.autograd.backward(loss)` -> `loss` (the receiver is the framework object).
    """
    name = func_name(call)
    if name not in ("backward", "manual_backward"):
        return None
    recv = receiver(call)
    owner = (dotted(recv) or "").split(".")[-1].lower()
    if call.args and (name == "manual_backward" or recv is None or any(w in owner for w in _BACKWARD_OWNERS)):
        loss: ast.expr | None = call.args[0]
    elif recv is None:
        return None
    else:
        loss = recv
    if isinstance(loss, ast.Call) and func_name(loss) == "scale" and loss.args:
        loss = loss.args[0]  # GradScaler.scale(loss): the accumulation scaling is inside
    return loss


_VERBS = (
    "get",
    "unwrap",
    "load",
    "build",
    "create",
    "make",
    "save",
    "init",
    "setup",
    "prepare",
    "wrap",
    "copy",
    "update",
    "compile",
    "export",
    "to",
    "set",
    "print",
    "log",
    "freeze",
    "count",
    "register",
    "configure",
)


def is_verb_name(name: str) -> bool:
    """`unwrap_model`, `get_model`, `save_model`: a function acting on a model, not a model."""
    first = name.split(".")[-1].lstrip("_").split("_")[0].lower()
    return "_" in name.split(".")[-1].lstrip("_") and first in _VERBS


def is_val_name(name: str | None) -> bool:
    """True for names that suggest held-out data or evaluation (val_loader, test_dl, evaluate)."""
    return bool(name) and bool(_VAL_WORDS.search(name.split(".")[-1].lstrip("?")))


def is_train_name(name: str | None) -> bool:
    """True for names that suggest the training split (train_loader, trainloader, train_ds)."""
    if not name:
        return False
    last = name.split(".")[-1].lstrip("?")
    return "train" in last.lower() and not is_val_name(last)


def calls_in(node: ast.AST) -> Iterator[ast.Call]:
    """Calls inside `node` in evaluation order (arguments before the call), skipping nested scopes."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield from calls_in(child)
    if isinstance(node, ast.Call):
        yield node


def names_in(node: ast.AST) -> set[str]:
    """Every plain name read inside `node`."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def string_parts(node: ast.AST) -> str:
    """All string constants and names inside an expression, joined, for keyword tests like "best"."""
    out: list[str] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            out.append(n.value)
        elif isinstance(n, ast.Name):
            out.append(n.id)
        elif isinstance(n, ast.Attribute):
            out.append(n.attr)
    return " ".join(out)


def grad_context(item: ast.withitem | ast.expr) -> bool | None | str:
    """Classify a `with` item or decorator by what it does to autograd.

    Returns:
        True for no_grad/inference_mode (grad off), False for enable_grad or
        set_grad_enabled(True), None for set_grad_enabled(<expression>) (unknown), and
        "other" for anything unrelated to autograd.
    """
    expr = item.context_expr if isinstance(item, ast.withitem) else item
    name = func_name(expr) if isinstance(expr, ast.Call) else (dotted(expr) or "").split(".")[-1]
    if name in ("no_grad", "inference_mode"):
        if isinstance(expr, ast.Call) and name == "inference_mode" and expr.args:
            arg = expr.args[0]
            return arg.value is not False if isinstance(arg, ast.Constant) else None
        return True
    if name == "enable_grad":
        return False
    if name == "set_grad_enabled" and isinstance(expr, ast.Call) and expr.args:
        arg = expr.args[0]
        if isinstance(arg, ast.Constant):
            return not bool(arg.value)
        return None
    return "other"


@lru_cache(maxsize=4096)
def own_nodes(scope: ast.AST) -> tuple[ast.AST, ...]:
    """Nodes of `scope` without descending into nested functions or classes (cached: every
    rule reads the same scopes)."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(scope))
    skip = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, skip):
            stack.extend(ast.iter_child_nodes(node))
    return tuple(found)
