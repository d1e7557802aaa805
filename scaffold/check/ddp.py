"""Rules for the DDP mistakes that show in the text of a script:

- ddp-missing-set-epoch: a shuffling DistributedSampler (or a sampler class of the file with a
  `set_epoch` method) is built, and nothing in the file ever calls `.set_epoch(...)` with a
  value that changes (a constant `set_epoch(0)` does not count).
- ddp-scheduler-per-process: `scheduler.step()` inside `for _ in range(<world size>)`.
- ddp-padded-validation: a DistributedSampler over held-out data (its dataset, its variable or
  the function that builds it is named val/test/eval...) without `drop_last=True`: it pads the
  split with repeated samples whenever its size does not divide by the world size.
- ddp-accumulation-without-no-sync (hint): a file that wraps a model in DistributedDataParallel
  (or a `*DDP(...)` helper) accumulates gradients (a backward() in a loop whose optimizer step is
  conditional: inside an `if`, or after an `if ...: continue` that follows the backward; or a
  backward() in a `for micro_step in range(accum...)` loop with the step after it) and the
  backward() is neither inside a `with` that mentions sync (`model.no_sync()`, a helper named
  `maybe_no_sync`), `accumulate` or `no_backward_sync`, nor does the file toggle
  `require_backward_grad_sync` (nanoGPT's way).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from scaffold.check.index import ModuleIndex
from scaffold.check.names import dotted, func_name, is_train_name, is_val_name, receiver

Emit = Callable[[str, int, int, str, object], None]

_WORLD_WORDS = ("world_size", "num_processes", "num_replicas", "nprocs", "world", "num_gpus", "ngpus")
_SYNC_WORDS = ("sync", "accumulate")
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_DDP_WRAPPERS = ("DistributedDataParallel", "DDP")
_MICRO_WORDS = ("accum", "micro")


def _loc(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset + 1  # type: ignore[attr-defined]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_constant(expr: ast.expr | None, value: object) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is value


def _mentions_world(expr: ast.AST) -> bool:
    """`world_size()`, `dist.get_world_size()`, `args.world_size`, `accelerator.num_processes`."""
    for node in ast.walk(expr):
        text = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        if any(word in text.lower() for word in _WORLD_WORDS):
            return True
    return False


class DdpRules:
    """Runs the DDP rules over one module."""

    def __init__(self, index: ModuleIndex, emit: Emit):
        self.idx = index
        self.emit = emit
        self.parents: dict[int, ast.AST] = {}
        for node in index.nodes:
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node

    def run(self) -> None:
        self.missing_set_epoch()
        self.scheduler_per_process()
        self.padded_validation()
        self.accumulation_without_no_sync()

    def _ancestors(self, node: ast.AST):
        while id(node) in self.parents:
            node = self.parents[id(node)]
            yield node

    def _calls(self) -> list[ast.Call]:
        return [n for n in self.idx.nodes if isinstance(n, ast.Call)]

    # ----- ddp-missing-set-epoch -------------------------------------------------------------
    def _epoch_sampler_classes(self) -> set[str]:
        """Classes of the file that take an epoch: a `set_epoch` method or a DistributedSampler base."""
        out = {cls for (cls, method) in self.idx.methods if method == "set_epoch"}
        out |= {c for c, bases in self.idx.bases.items() if any(b.endswith("DistributedSampler") for b in bases)}
        return out

    def missing_set_epoch(self) -> None:
        calls = self._calls()
        fed = any(
            isinstance(c.func, ast.Attribute)
            and c.func.attr == "set_epoch"
            and not (c.args and isinstance(c.args[0], ast.Constant))
            for c in calls
        )
        if fed:
            return
        classes = self._epoch_sampler_classes()
        for call in calls:
            name = func_name(call)
            if name == "DistributedSampler" and self._held_out(call):
                continue  # a validation sampler: its order changes no metric, shuffled or not
            if name == "DistributedSampler" and not _is_constant(_keyword(call, "shuffle"), False):
                what = "this DistributedSampler shuffles"
            elif name in classes:
                what = f"`{name}` takes the epoch through set_epoch()"
            else:
                continue
            self.emit(
                "ddp-missing-set-epoch",
                *_loc(call),
                f"{what}, but nothing in the file calls `.set_epoch(epoch)` in the epoch loop",
                ("ddp-missing-set-epoch", call.lineno),
            )

    # ----- ddp-scheduler-per-process ---------------------------------------------------------
    def _is_scheduler(self, expr: ast.expr | None) -> bool:
        name = dotted(expr) if expr is not None else None
        if not name:
            return False
        last = name.split(".")[-1]
        return name in self.idx.schedulers or "." + last in self.idx.schedulers or "sched" in last.lower()

    def scheduler_per_process(self) -> None:
        for call in self._calls():
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "step"):
                continue
            if not self._is_scheduler(receiver(call)):
                continue
            for node in self._ancestors(call):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    break
                if (
                    isinstance(node, (ast.For, ast.AsyncFor))
                    and isinstance(node.iter, ast.Call)
                    and func_name(node.iter) == "range"
                    and node.iter.args
                    and _mentions_world(node.iter.args[-1] if len(node.iter.args) < 3 else node.iter.args[1])
                ):
                    self.emit(
                        "ddp-scheduler-per-process",
                        *_loc(call),
                        "the scheduler steps once per process (a loop over the world size) for each optimizer step",
                        None,
                    )
                    break

    # ----- ddp-padded-validation -------------------------------------------------------------
    def _held_out(self, call: ast.Call) -> bool:
        """Is the sampler's data held out? Its dataset and the variable it is assigned to decide
        (a train name says no); else the function that builds it (`build_val_loader`)."""
        data = call.args[0] if call.args else _keyword(call, "dataset")
        names = [dotted(data)]
        function = None
        for node in self._ancestors(call):
            if isinstance(node, ast.Assign):
                names += [dotted(t) for t in node.targets]
            elif isinstance(node, ast.keyword):
                names.append(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                function = node.name
                break
        if any(is_train_name(n) for n in names):
            return False
        return any(is_val_name(n) for n in names) or is_val_name(function)

    def _reduces_across_ranks(self) -> bool:
        """Does the file (or a function it imports) combine values across processes? Padding only
        biases a metric that is reduced or gathered; one rank's own metric has no duplicates.
        (`gather_for_metrics` drops the padding itself, so it does not count.)"""
        roots: list[ast.AST] = [self.idx.tree, *self.idx.imported.values()]
        for root in roots:
            for node in ast.walk(root):
                if isinstance(node, ast.Call):
                    name = func_name(node).lower()
                    if "reduce" in name or "all_gather" in name or name in ("gather", "synchronize_between_processes"):
                        return True
        return False

    def padded_validation(self) -> None:
        for call in self._calls():
            if func_name(call) != "DistributedSampler" or _is_constant(_keyword(call, "drop_last"), True):
                continue
            if self._held_out(call) and self._reduces_across_ranks():
                self.emit(
                    "ddp-padded-validation",
                    *_loc(call),
                    "a DistributedSampler over the validation data pads it with repeated samples "
                    "(drop_last=False), so metrics averaged over ranks count them twice",
                    None,
                )

    # ----- ddp-accumulation-without-no-sync --------------------------------------------------
    def _toggles_sync(self) -> bool:
        for node in self.idx.nodes:
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Attribute) and t.attr == "require_backward_grad_sync" for t in targets):
                    return True
        return False

    def _optimizer_steps(self, loop: ast.AST) -> list[ast.Call]:
        return [
            n
            for n in ast.walk(loop)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "step"
            and not self._is_scheduler(receiver(n))
        ]

    def _accumulates(self, backward: ast.Call, loop: ast.AST) -> bool:
        """Does this loop step the optimizer only on some iterations after `backward`? Either the
        step sits in an `if`, or an `if ...: continue` between the backward and the step skips it."""
        steps = self._optimizer_steps(loop)
        if not steps and isinstance(loop, (ast.For, ast.AsyncFor)):
            # nanoGPT's shape: `for micro_step in range(accum_steps): ... backward()`, and the
            # step after this loop, in the loop around it
            text = (ast.unparse(loop.target) + " " + ast.unparse(loop.iter)).lower()
            outer = next((n for n in self._ancestors(loop) if isinstance(n, _LOOPS)), None)
            return any(w in text for w in _MICRO_WORDS) and outer is not None and bool(self._optimizer_steps(outer))
        for step in steps:
            if any(isinstance(n, ast.If) for n in self._between(step, loop)):
                return True
            for node in ast.walk(loop):
                if (
                    isinstance(node, ast.If)
                    and backward.lineno < node.lineno < step.lineno
                    and any(isinstance(n, (ast.Continue, ast.Return)) for n in node.body)
                ):
                    return True
        return False

    def accumulation_without_no_sync(self) -> None:
        wraps = any(func_name(c).endswith(_DDP_WRAPPERS) for c in self._calls())  # smart_DDP too
        if not wraps or self._toggles_sync():
            return
        for call in self._calls():
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "backward"):
                continue
            loop = None
            synced = False
            for node in self._ancestors(call):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    break
                if isinstance(node, (ast.With, ast.AsyncWith)):
                    text = " ".join(ast.unparse(item.context_expr) for item in node.items).lower()
                    synced = synced or any(word in text for word in _SYNC_WORDS)
                if loop is None and isinstance(node, _LOOPS):
                    loop = node
            if loop is None or synced or not self._accumulates(call, loop):
                continue
            # the backward itself must not sit in the `if` that steps (that is no accumulation)
            if any(isinstance(n, ast.If) for n in self._between(call, loop)):
                continue
            self.emit(
                "ddp-accumulation-without-no-sync",
                *_loc(call),
                "gradients accumulate over micro-batches of a DistributedDataParallel model, but "
                "backward() runs outside `no_sync()`: every micro-batch all-reduces",
                None,
            )

    def _between(self, node: ast.AST, outer: ast.AST) -> list[ast.AST]:
        out = []
        for parent in self._ancestors(node):
            if parent is outer:
                break
            out.append(parent)
        return out
