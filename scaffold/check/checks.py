"""The checks of the ordering rules: what `Flow` reports when it reaches backward(), step(),
a clip, a scheduler step, a model call, or the end of a loop.

Kept apart from the walker (`flow.py`) so that each file reads at once; `Flow` inherits them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import scaffold.check.state as st
from scaffold.check.registry import HINT
from scaffold.check.context import Ctx, LoopFrame
from scaffold.check.index import FuncDef, ModuleIndex
from scaffold.check.names import dotted, func_name, is_val_name
from scaffold.check.rules import backward_of_unscaled_loss
from scaffold.check.state import States

# Methods a training framework calls for evaluation with eval() and no_grad already applied.
_FRAMEWORK_EVAL_HOOKS = frozenset({"validation_step", "test_step", "predict_step", "eval_step", "prediction_step"})


def _is_val_function(fn: FuncDef) -> bool:
    """validate/evaluate/test...; a pytest-style `test_x` only when it takes data to loop over
    (`def test_epoch(model, loader)`), not a unit test (`def test_shapes(tmp_path)`)."""
    if not is_val_name(fn.name):
        return False
    if not fn.name.startswith("test_"):
        return True
    params = [a.arg.lower() for a in [*fn.args.posonlyargs, *fn.args.args]]
    return any(w in p for p in params for w in ("loader", "data", "dl", "iterator", "batches"))


def _scales_grads(node: ast.AST) -> bool:
    """`p.grad.data.mul_(1 / k)`, `p.grad.div_(k)`, `p.grad /= k`: accumulated gradients averaged."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Call)
            and func_name(sub) in ("mul_", "div_")
            and ".grad" in "." + (dotted(getattr(sub.func, "value", None)) or "")
        ):
            return True
        if isinstance(sub, ast.AugAssign) and isinstance(sub.op, (ast.Mult, ast.Div)):
            if ".grad" in "." + (dotted(sub.target) or ""):
                return True
    return False


def _scaled_elsewhere(scope: ast.AST, tree: ast.AST) -> bool:
    """Is the accumulation scale folded into something other than the loss? A loss summed over
    the samples (`reduction="sum"`, `size_average=False`) with the lr divided by the batch (the
    darknet convention), or an lr divided by the batch or accumulation count: each makes the
    update independent of how many backward() calls it sums. The summed loss counts in the
    training function (`scope`); a validation loss summed for an exact mean says nothing."""
    for node in ast.walk(scope):
        if isinstance(node, ast.keyword):
            value = node.value
            if node.arg == "reduction" and isinstance(value, ast.Constant) and value.value == "sum":
                return True
            if node.arg == "size_average" and isinstance(value, ast.Constant) and value.value is False:
                return True
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = ast.unparse(node.left).lower(), ast.unparse(node.right).lower()
            if ("lr" in left or "learning_rate" in left) and any(w in right for w in ("batch", "accum", "subdiv")):
                return True
    return False


def _same_module(a: str, b: str) -> bool:
    """Could `a.eval()` put the module that `b(...)` runs in eval mode? The same path, one
    inside the other (`model.module`), or the same attribute name (`self.model` and `model`)."""
    a, b = a.lstrip("?"), b.lstrip("?")
    return a == b or a.startswith(b + ".") or b.startswith(a + ".") or a.split(".")[-1] == b.split(".")[-1]


# Words of a comment that explains an eval() during training.
_WHY_EVAL = (
    "frozen",
    "freeze",
    "linear prob",
    "linear classif",
    "on purpose",
    "deliberate",
)


def _reason(hit: States, miss: States) -> str | None:
    """Why only the `hit` paths show a mistake: a branch every one of them took and some `miss`
    path did not, as "only when `cond`" (None when no recorded branch tells them apart)."""
    if not hit:
        return None
    common = frozenset.intersection(*(s.conds for s in hit))
    for key, value in sorted(common):
        if any((key, value) not in s.conds for s in miss):
            text = key.partition(":")[2]
            return f"only when `{text}`" if value else f"only when not `{text}`"
    return None


def _guarded_in(loop: ast.AST, node: ast.AST) -> bool:
    """Is `node` inside an `if` (or an `if`'s loop) within `loop`'s body: run on some iterations only?"""
    for branch in ast.walk(loop):
        if isinstance(branch, ast.If):
            if any(sub is node for sub in ast.walk(branch)):
                return True
    return False


def _own_calls(stmts: list[ast.stmt]) -> list[ast.Call]:
    """Calls in a loop body, not inside nested loops, functions or classes."""
    found: list[ast.Call] = []
    stack: list[ast.AST] = list(stmts)
    skip = (ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call):
            found.append(node)
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, skip))
    return found


class Checks:
    """Mixin of `Flow`: the rule checks, called by the walker at each event.

    It reads what `Flow` sets up: the module index, the emit callback, the models being
    trained, the comprehension map, and the `effects`/`canon` helpers.
    """

    idx: ModuleIndex
    emit: Callable[..., None]
    trained: set[str]
    comprehension: dict[int, ast.expr]
    _frozen: bool | None = None  # the file freezes parameters (computed on first need)

    def effects(self, node: ast.AST, cls: str | None) -> frozenset[str]:  # pragma: no cover
        raise NotImplementedError

    def canon(self, name: str | None, ctx: Ctx) -> str | None:  # pragma: no cover
        raise NotImplementedError

    def _is_trained(self, model: str) -> bool:
        """Is `model` the network being optimised (not a frozen teacher or an EMA copy)?"""
        optimized = self.idx.is_optimized(model)
        if optimized is not None:
            return optimized  # every optimizer's parameters are known: a frozen backbone is not trained
        if model in self.trained or model.lstrip("?") in self.trained:
            return True
        lowered = model.lower()
        frozen = any(w in lowered for w in ("teacher", "ema", "target", "frozen", "ref"))
        return self.idx.is_model(model) and not frozen

    def _deliberate_eval(self, model: str, states: States) -> bool:
        """Is `model` kept in eval mode on purpose during training? Yes when parameters are frozen
        (a linear probe keeps its backbone's batchnorm statistics fixed), when the optimizer owns
        only a part of it (the classifier), or when a comment by the eval() says why."""
        if self._frozen is None:
            self._frozen = self.idx.freezes()
        if self._frozen or self.idx.only_parts_optimized(model):
            return True
        lines = {e[1] for s in states for e in s.evals if e[0] == model}
        return any(self.idx.says_why(line, _WHY_EVAL) for line in lines)

    def _eval_covers(self, evaluated: str, called: str) -> bool:
        """Does `evaluated.eval()` count for a call of `called`? Yes for the same module (or one
        inside the other), and for any other module too (a wrapper: `net = compile(model)`),
        except a frozen one: a frozen backbone in eval says nothing about the trained head."""
        if _same_module(evaluated, called):
            return True
        return not (self.idx.is_optimized(evaluated) is False and self.idx.is_optimized(called) is True)

    def _check_backward(self, states: States, ctx: Ctx) -> None:
        if not (ctx.report and ctx.loops):
            return
        # Must: every path reaches backward with the model in eval mode (a phase loop that picks
        # train() or eval() by a condition is not flagged).
        models = {e[0] for s in states for e in s.evals}
        for model in sorted(models):
            if not self._is_trained(model) or self._deliberate_eval(model, states):
                continue
            locs = [
                min((e[1], e[2]) for e in s.evals if e[0] == model) if any(e[0] == model for e in s.evals) else None
                for s in states
            ]
            message = (
                f"{model}.eval() is still in effect when the next training step runs backward(); "
                f"call {model}.train() at the start of each epoch"
            )
            if all(locs):
                line, col = min(loc for loc in locs if loc)
                self.emit("missing-train-mode", line, col, message, None)
            elif any(locs):
                # Only the paths that took some branch leave the model in eval mode: a hint that
                # names the condition (`if do_validation:`), since the checker cannot resolve it.
                hit = frozenset(s for s, loc in zip(states, locs, strict=True) if loc)
                reason = _reason(hit, states - hit)
                if reason:
                    line, col = min(loc for loc in locs if loc)
                    self.emit("missing-train-mode", line, col, f"{message} ({reason})", None, HINT)

    def _check_step(self, states: States, ctx: Ctx, opt: str | None = None) -> None:
        """Checks at an optimizer step (`opt`, when known by name)."""
        if not (ctx.report and states):
            return
        # A path reaching step() with wiped gradients can only come from a zero_grad placed
        # between backward() and step(), so one such path is enough ("may").
        hit = frozenset(
            s for s in states if s.grad == st.WIPED and s.wiped_at and not (opt and s.wiped_by and s.wiped_by != opt)
        )
        if hit:
            where = min(s.wiped_at for s in hit if s.wiped_at)
            message = "zero_grad() runs after backward() and before optimizer.step()"
            if hit == states:
                self.emit("zero-grad-after-backward", *where, message, None)
            else:
                # Some paths reach step() with fresh gradients: the mistake depends on a
                # condition the checker cannot resolve.
                reason = _reason(hit, states - hit) or "only on some paths"
                self.emit("zero-grad-after-backward", *where, f"{message} ({reason})", None, HINT)
        # A clip that a later backward() made pointless, with no clip of the new gradients on
        # any path (the clip itself may sit under `if grad_clip > 0`).
        stale = sorted(s.stale_clip for s in states if s.stale_clip)
        if stale and not any(s.clipped for s in states):
            self.emit(
                "clip-before-backward",
                *stale[0],
                "gradients are clipped before this step's backward() computes them",
                None,
            )

    def _check_clip(self, call: ast.Call, states: States, ctx: Ctx) -> None:
        if not (ctx.report and states):
            return
        loop = ctx.loops[-1].id if ctx.loops else None
        line, col = call.lineno, call.col_offset + 1
        if all(s.grad == st.USED and (loop is None or loop in s.stepped) for s in states):
            self.emit(
                "clip-after-step",
                line,
                col,
                "gradients are clipped after optimizer.step() used them",
                None,
            )
        elif all(s.grad == st.FRESH and s.scaled and not s.unscaled for s in states):
            self.emit(
                "clip-without-unscale",
                line,
                col,
                "gradients scaled by GradScaler are clipped without scaler.unscale_(optimizer) first",
                None,
            )

    def _check_scheduler(self, call: ast.Call, rname: str, states: States, ctx: Ctx) -> None:
        if not (ctx.report and ctx.loops and states):
            return
        kind = self.idx.sched_kind(rname)
        loop = ctx.loops[-1]
        line, col = call.lineno, call.col_offset + 1
        if "step" not in loop.effects:
            return
        if kind == "plateau" and _guarded_in(loop.node, call):
            return  # a plateau scheduler steps with a metric whenever one is measured: per round, not per batch
        if call.args and kind in ("epoch", "either"):
            return  # `scheduler.step(epoch)`: the epoch is set explicitly, wherever the call sits
        if kind in ("epoch", "plateau") and loop.kind == "batch":
            self.emit(
                "scheduler-in-batch-loop",
                line,
                col,
                f"{rname} is an epoch-based scheduler but is stepped once per batch",
                None,
            )
        elif kind in ("epoch", "step", "either") and all(loop.id not in s.stepped for s in states):
            self.emit(
                "scheduler-before-optimizer-step",
                line,
                col,
                f"{rname}.step() runs before optimizer.step() in the same iteration",
                None,
            )

    def _check_forward(self, call: ast.Call, model: str, states: States, ctx: Ctx) -> None:
        if not (ctx.report and states):
            return
        fn = ctx.frames[-1].fn
        if fn is not None and fn.name in _FRAMEWORK_EVAL_HOOKS:
            return  # Lightning and friends run these hooks in eval mode under no_grad
        loop = ctx.loops[-1] if ctx.loops else None
        # A loop over held-out data is validation if it cannot run backward, or if autograd is
        # off right here (a shared `run_epoch(loader, train=False)` whose backward is skipped).
        in_val_loop = (loop is not None and loop.val and ("backward" not in loop.effects or ctx.grad_off is True)) or (
            ctx.val_data and ctx.grad_off is True
        )
        comp = self.comprehension.get(id(call))
        comp_loop = False
        if comp is not None:
            heads = [g.iter for g in comp.generators]  # type: ignore[attr-defined]
            names = [
                self.canon(dotted(n), ctx)
                for h in heads
                for n in ast.walk(h)
                if isinstance(n, (ast.Name, ast.Attribute))
            ]
            comp_loop = not any(isinstance(c, ast.Call) and func_name(c) == "backward" for c in ast.walk(comp))
            in_val_loop = in_val_loop or (comp_loop and any(is_val_name(n) for n in names))
        in_val_fn = fn is not None and _is_val_function(fn) and "backward" not in self.effects(fn, ctx.cls)
        line, col = call.lineno, call.col_offset + 1
        scope = id(comp) if comp is not None else id(loop.node) if in_val_loop and loop else id(fn)
        if ctx.grad_off is True:
            # A no-grad loop that is not named as validation (sampling, generation) is one only
            # when we saw the caller: a method nothing calls may run on a model its caller put in
            # eval (a diffusion sampler on an EMA copy).
            nograd_loop = not ctx.root and (
                comp_loop
                or (loop is not None and ctx.nograd_depth < len(ctx.loops) and not {"backward", "step"} & loop.effects)
            )
            if (in_val_loop or in_val_fn or nograd_loop) and not any(
                self._eval_covers(e[0], model) for s in states for e in s.evals
            ):
                layers = self.idx.mode_layers(model)
                if layers is False:
                    note, severity = " (harmless here: it has no dropout or batchnorm layer)", "hint"
                elif layers:
                    note, severity = f" (it has {layers}: train mode changes what they compute)", None
                else:
                    note, severity = " (its layers are defined outside this file)", None
                self.emit(
                    "validation-in-train-mode",
                    line,
                    col,
                    f"{model} runs a no-grad evaluation without {model}.eval(){note}",
                    ("vtm", scope),
                    severity,
                )
        elif ctx.grad_off is False and (in_val_loop or in_val_fn):
            self.emit(
                "validation-without-no-grad",
                line,
                col,
                f"{model} is evaluated with autograd recording (no torch.no_grad()/inference_mode())",
                ("vng", scope),
            )

    def _check_accumulation(self, frame: LoopFrame, ends: States, ctx: Ctx) -> None:
        """Every iteration runs backward() but only some step: gradients accumulate across
        iterations, so each backward()'s loss must be scaled down."""
        if not ends or not all(frame.id in s.backwarded for s in ends):
            return
        # An iteration that ends without a step accumulates only if its gradients survive it:
        # one that zero_grad()s before moving on (`if not training: zero_grad(); continue`) does not.
        stepped = {frame.id in s.stepped for s in ends if frame.id in s.stepped or s.grad == st.FRESH}
        # nanoGPT's `for micro_step in range(k): ... backward()` with the step after the inner
        # loop: no iteration steps, and the enclosing loop steps once they are all done.
        micro = stepped == {False} and "step" not in frame.effects and any("step" in f.effects for f in ctx.loops)
        if stepped != {True, False} and not micro:
            return
        if _scales_grads(ctx.loops[-1].node if micro else frame.node):
            return  # `p.grad.mul_(1 / k)` before the step averages the sum: the same thing
        if _scaled_elsewhere(ctx.frames[-1].fn or self.idx.tree, self.idx.tree):
            return  # a summed loss, or an lr divided by the batch: the scale is folded elsewhere
        scope = ctx.frames[-1].fn or self.idx.tree
        for call in _own_calls(frame.node.body):
            if backward_of_unscaled_loss(call, scope):
                self.emit(
                    "accumulation-loss-not-scaled",
                    call.lineno,
                    call.col_offset + 1,
                    "gradients are accumulated over several backward() calls but the loss is "
                    "not divided by the number of accumulation steps",
                    None,
                )

    def _check_loop(self, frame: LoopFrame, ctx: Ctx) -> None:
        eff = frame.effects
        if not {"step", "backward"} <= eff or "loopstep" in eff:
            return
        node = frame.node
        if "zero" not in eff:
            self.emit(
                "zero-grad-missing",
                node.lineno,
                node.col_offset + 1,
                "this training loop calls backward() and step() but never zero_grad()",
                None,
            )
            return
        if "zero:*" in eff or "named:opaque" in eff:
            return  # model.zero_grad() or `p.grad = None` clears every optimizer's parameters
        # Several optimizers (a GAN's G and D): each one stepped needs its own zero_grad().
        stepped = {e[5:] for e in eff if e.startswith("step:") and e != "step:*"}
        zeroed = {e[5:] for e in eff if e.startswith("zero:")}
        missing = sorted(stepped - zeroed)
        if missing and zeroed:
            self.emit(
                "zero-grad-missing",
                node.lineno,
                node.col_offset + 1,
                f"this training loop steps {missing[0]} but never calls {missing[0]}.zero_grad()",
                None,
            )
