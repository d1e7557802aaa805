"""The ordering rules: an abstract interpreter that walks each training loop twice.

Statements are walked in order over a set of `State`s. A loop body is walked once to learn what
the end of an iteration looks like, then again from there with reporting on, so whatever the end
of one iteration leaves behind (zero_grad last, eval() in a helper) reaches the next. Calls to
functions and methods of the same file are followed: each callee is interpreted from the caller's
states with its parameters bound to the caller's variables, and the result (the callee's summary
for those states) is memoised.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace

import scaffold.check.state as st
from scaffold.check.index import FuncDef, ModuleIndex
from scaffold.check.names import (
    CLIP_FUNCS,
    calls_in,
    dotted,
    func_name,
    grad_context,
    is_val_name,
    receiver,
)
from scaffold.check.checks import Checks
from scaffold.check.context import Ctx, FuncFrame, LoopFrame
from scaffold.check.state import States

Emit = Callable[[str, int, int, str, object], None]


# Branch conditions one path remembers at most (each can double the states).
_MAX_CONDS = 4
# Past this many states at one `if`, branches are no longer told apart (the walk stays linear).
_MAX_SPLIT_STATES = 32

# Loops nested deeper than this are walked once, not twice (the cost doubles per level).
_MAX_TWICE_DEPTH = 5


def _sets_grad_to_none(node: ast.stmt) -> bool:
    """`p.grad = None`."""
    return (
        isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and node.value.value is None
        and any(isinstance(t, ast.Attribute) and t.attr == "grad" for t in node.targets)
    )


_RETURNS_SELF = frozenset(
    {"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_"}
)


def _through_self_returning(node: ast.expr | None) -> ast.expr | None:
    """`model.to(device).cpu()` -> `model`: module methods that return the module itself."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RETURNS_SELF:
        node = node.func.value
    return node


_NEGATED: dict[type, type] = {ast.NotEq: ast.Eq, ast.IsNot: ast.Is, ast.NotIn: ast.In}


def _bool_constant(node: ast.expr | None) -> bool | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, bool) else None


def _is_periodic(test: ast.expr) -> bool:
    """`it % eval_interval == 0` (possibly `and`-ed with a rank check): true every N iterations."""
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) for n in ast.walk(test))


def _reads_grad(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in ast.walk(node))


def _is_manual_update(node: ast.AST) -> bool:
    """A hand-written optimizer step: `p.data.add_(p.grad, alpha=-lr)`, `p.sub_(lr * p.grad)`."""
    return (
        isinstance(node, ast.Call)
        and func_name(node) in ("add_", "sub_", "addcmul_", "addcdiv_")
        and any(_reads_grad(a) for a in [*node.args, *(k.value for k in node.keywords)])
    )


def _is_manual_update_stmt(node: ast.stmt) -> bool:
    """`p.data -= lr * p.grad` or `p -= lr * p.grad`."""
    return isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Sub, ast.Add)) and _reads_grad(node.value)


class Flow(Checks):
    """Interprets one module; calls `emit(id, line, col, message, dedupe_key)` for each finding."""

    def __init__(self, index: ModuleIndex, emit: Emit):
        self.idx = index
        self.emit = emit
        self.memo: dict[object, States] = {}
        self.entered: set[int] = set()  # functions some walk has interpreted
        self.effects_memo: dict[int, frozenset[str]] = {}
        self._partial: frozenset[int] | None = None
        self.cond_names: dict[str, frozenset[str]] = {}
        self._tracked_memo: dict[int, frozenset[str]] = {}
        self._assigned: dict[int, frozenset[str]] = {}
        self.trained = self._trained_models()
        self.comprehension = self._comprehensions()

    # ----- entry point ---------------------------------------------------------------------
    def run(self) -> None:
        """Walk the module body, then every function or method nothing in the file calls."""
        self.body(self.idx.tree.body, st.START, Ctx())
        for name, fn in self.idx.functions.items():
            if name not in self.idx.called:
                self.call_function(fn, None, None, st.START, Ctx(root=True), method=False)
        for (cls, name), fn in self.idx.methods.items():
            if not self.idx.method_is_called(cls, name):
                self.call_function(fn, cls, None, st.START, Ctx(root=True), method=True)
        # A function or method that looks called but that no walk reached (`layer.train(x)` on a
        # loop variable): walk it on its own, its caller unknown.
        for fn in self.idx.functions.values():
            if id(fn) not in self.entered:
                self.call_function(fn, None, None, st.START, Ctx(root=True), method=False)
        for (cls, _name), fn in self.idx.methods.items():
            if id(fn) not in self.entered:
                self.call_function(fn, cls, None, st.START, Ctx(root=True), method=True)

    # ----- statements ----------------------------------------------------------------------
    def body(self, stmts: list[ast.stmt], states: States, ctx: Ctx) -> States:
        for stmt in stmts:
            if not states:
                break
            states = self.stmt(stmt, states, ctx)
            # `torch.set_grad_enabled(False)` as a statement switches autograd for the rest of
            # the block, like a `with` around it.
            if (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and func_name(stmt.value) == "set_grad_enabled"
            ):
                mode = grad_context(stmt.value)
                if mode != "other":
                    ctx = replace(ctx, grad_off=mode, nograd_depth=len(ctx.loops))  # type: ignore[arg-type]
        return states

    def stmt(self, node: ast.stmt, states: States, ctx: Ctx) -> States:
        if isinstance(
            node,
            (
                ast.FunctionDef,
                ast.AsyncFunctionDef,
                ast.ClassDef,
                ast.Import,
                ast.ImportFrom,
            ),
        ):
            return states
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.IfExp):
            # `model.train() if training else model.eval()` is an if statement written inline.
            expr = node.value
            node = ast.copy_location(
                ast.If(
                    test=expr.test,
                    body=[ast.copy_location(ast.Expr(value=expr.body), node)],
                    orelse=[ast.copy_location(ast.Expr(value=expr.orelse), node)],
                ),
                node,
            )
        if isinstance(node, ast.If):
            states = self.exprs(node.test, states, ctx)
            flag = self.flag_value(node.test, ctx)
            if flag is not None:
                return self.body(node.body if flag else node.orelse, states, ctx)
            into, other = self._split(node.test, states, ctx)
            taken, skipped = self.body(node.body, into, ctx), self.body(node.orelse, other, ctx)
            if _is_periodic(node.test) and taken:
                # `if it % eval_interval == 0: evaluate()` runs sooner or later: the model mode it
                # leaves behind holds on the other path too.
                left = frozenset.intersection(*(s.evals for s in taken))
                skipped = frozenset(s._replace(evals=s.evals | left) for s in skipped)
            return taken | skipped
        if isinstance(node, (ast.For, ast.AsyncFor)):
            return self.loop(node, self.exprs(node.iter, states, ctx), ctx)
        if isinstance(node, ast.While):
            return self.loop(node, self.exprs(node.test, states, ctx), ctx)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                states = self.exprs(item.context_expr, states, ctx)
                mode = grad_context(item)
                expr = item.context_expr
                if mode is None and isinstance(expr, ast.Call) and expr.args:
                    flag = self.flag_value(expr.args[0], ctx)  # set_grad_enabled(train)
                    mode = None if flag is None else not flag
                if mode != "other":
                    ctx = replace(ctx, grad_off=mode, nograd_depth=len(ctx.loops))  # type: ignore[arg-type]
            return self.body(node.body, states, ctx)
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            done = self.body(node.body, states, ctx)  # type: ignore[attr-defined]
            handled = frozenset().union(
                *(self.body(h.body, states | done, ctx) for h in node.handlers)  # type: ignore[attr-defined]
            )
            out = self.body(node.orelse, done, ctx) | handled  # type: ignore[attr-defined]
            return self.body(node.finalbody, out, ctx) if node.finalbody else out  # type: ignore[attr-defined]
        if isinstance(node, ast.Return):
            if node.value is not None:
                states = self.exprs(node.value, states, ctx)
            ctx.frames[-1].returns |= states
            return frozenset()
        if isinstance(node, (ast.Break, ast.Continue)):
            if ctx.loops:
                target = ctx.loops[-1].breaks if isinstance(node, ast.Break) else ctx.loops[-1].continues
                target |= states
            return frozenset()
        if isinstance(node, ast.Raise):
            return frozenset()
        if _is_manual_update_stmt(node):
            loops = tuple(f.id for f in ctx.loops)
            self._check_step(states, ctx)
            return frozenset(st.step(s, loops) for s in states)
        if _sets_grad_to_none(node) and id(node) not in self._partial_clears():
            # `p.grad = None` is a zero_grad(set_to_none=True) written by hand.
            return frozenset(st.zero(s, ctx.site or (node.lineno, node.col_offset + 1)) for s in states)
        return self.exprs(node, states, ctx)

    def _cond(self, test: ast.expr, ctx: Ctx) -> tuple[str, bool] | None:
        """The condition an `if` tests, as (key, value when the test is true); None for a test
        that may change between two reads (it calls something)."""
        positive = True
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, positive = test.operand, not positive
        # `a != b` is `not a == b` (likewise `is not`, `not in`): one key for both spellings.
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _NEGATED:
            test = ast.Compare(left=test.left, ops=[_NEGATED[type(test.ops[0])]()], comparators=test.comparators)
            positive = not positive
        if any(isinstance(n, (ast.Call, ast.Await, ast.NamedExpr)) for n in ast.walk(test)):
            return None
        fn = ctx.frames[-1].fn
        if fn is not None and id(fn) in self.idx.foreign:
            return None  # another file's branches: its findings are not reported here
        text = ast.unparse(test)
        if text not in self._tracked(fn):
            return None
        key = f"{id(fn) if fn is not None else 0}:{text}"
        self.cond_names.setdefault(key, frozenset(dotted(n) or "" for n in ast.walk(test) if isinstance(n, ast.Name)))
        return key, positive

    def _tracked(self, fn: FuncDef | None) -> frozenset[str]:
        """The conditions worth remembering in `fn` (or the module body): those it tests more
        than once (the correlation), and those whose branch switches a model's mode (the reason
        a hint names). Remembering every condition would multiply the states for nothing."""
        key = id(fn) if fn is not None else 0
        if key not in self._tracked_memo:
            seen: dict[str, int] = {}
            chosen: set[str] = set()
            for node in ast.walk(fn if fn is not None else self.idx.tree):
                if isinstance(node, (ast.If, ast.IfExp)):
                    test, _ = node.test, None
                    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                        test = test.operand
                    if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _NEGATED:
                        test = ast.Compare(
                            left=test.left, ops=[_NEGATED[type(test.ops[0])]()], comparators=test.comparators
                        )
                    text = ast.unparse(test)
                    seen[text] = seen.get(text, 0) + 1
                    if any(
                        isinstance(c, ast.Call) and (func_name(c) in ("eval", "train") or is_val_name(func_name(c)))
                        for c in ast.walk(node)
                    ):
                        chosen.add(text)
            chosen |= {t for t, n in seen.items() if n > 1}
            self._tracked_memo[key] = frozenset(chosen)
        return self._tracked_memo[key]

    def _split(self, test: ast.expr, states: States, ctx: Ctx) -> tuple[States, States]:
        """The states that may take an `if`'s body and those that may skip it, each recording the
        branch it took: a path that took one branch of a condition takes it again."""
        cond = self._cond(test, ctx)
        if cond is None:
            return states, states
        key, value = cond
        if len(states) > _MAX_SPLIT_STATES or any(len(s.conds) >= _MAX_CONDS for s in states):
            return states, states
        into = frozenset(s._replace(conds=s.conds | {(key, value)}) for s in states if (key, not value) not in s.conds)
        other = frozenset(s._replace(conds=s.conds | {(key, not value)}) for s in states if (key, value) not in s.conds)
        return into, other

    def _varying(self, node: ast.For | ast.AsyncFor | ast.While) -> frozenset[str]:
        """Keys of the conditions that read a variable `node` assigns (its target, its body's
        assignments): they may change from one iteration to the next."""
        if not self.cond_names:
            return frozenset()
        assigned = self._assigned.get(id(node))
        if assigned is None:
            assigned = frozenset(
                n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            )
            self._assigned[id(node)] = assigned
        return frozenset(k for k, names in self.cond_names.items() if names & assigned)

    def loop(self, node: ast.For | ast.AsyncFor | ast.While, states: States, ctx: Ctx) -> States:
        frame = self._loop_frame(node, ctx)
        inner = replace(ctx, loops=(*ctx.loops, frame), report=False)
        if len(ctx.loops) >= _MAX_TWICE_DEPTH:
            # Walking every level twice costs 2**depth; past this depth walk once.
            first = states
        else:
            first = self.body(node.body, st.new_iteration(states, frame.id, self._varying(node)), inner)
        first |= frame.continues
        entry = first or states  # a body that always breaks: the second walk starts like the first
        frame.continues = set()
        second = self.body(
            node.body,
            st.new_iteration(entry, frame.id, self._varying(node)),
            replace(inner, report=ctx.report),
        )
        ends = second | frame.continues
        out = first | ends | frame.breaks
        if ctx.report:
            self._check_loop(frame, ctx)
            self._check_accumulation(frame, ends, ctx)
        out = frozenset(s._replace(stepped=s.stepped - {frame.id}, backwarded=s.backwarded - {frame.id}) for s in out)
        return self.body(node.orelse, out, ctx) if node.orelse else out

    def _loop_frame(self, node: ast.For | ast.AsyncFor | ast.While, ctx: Ctx) -> LoopFrame:
        head = node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node.test
        names = [self.canon(dotted(n), ctx) or "" for n in ast.walk(head) if isinstance(n, (ast.Name, ast.Attribute))]
        text = ast.unparse(head).lower() + " " + " ".join(names).lower()
        if isinstance(node, (ast.For, ast.AsyncFor)):
            text += " " + ast.unparse(node.target).lower()
        uses_next = any(isinstance(c, ast.Call) and func_name(c) == "next" for c in ast.walk(node))
        if "epoch" in text:
            kind = "epoch"
        elif isinstance(node, ast.While):
            kind = "batch" if uses_next or ctx.loops else "other"
        elif "range(" in text and not uses_next and not ctx.loops:
            kind = "other"  # a top-level counted loop: could be epochs or iterations
        else:
            kind = "batch"
        val = any(is_val_name(n) for n in names)
        return LoopFrame(node, kind, val, self.effects(node, ctx.cls))

    # ----- expressions and calls -------------------------------------------------------------
    def exprs(self, node: ast.AST, states: States, ctx: Ctx) -> States:
        for call in calls_in(node):
            if not states:
                break
            states = self.call(call, states, ctx)
        return states

    def call(self, call: ast.Call, states: States, ctx: Ctx) -> States:
        target = self.resolve(call, ctx.cls, ctx)
        if target is not None and id(target[0]) in self.idx.foreign and func_name(call) in CLIP_FUNCS:
            target = None  # `utils.clip_gradients(model, c)`: read as the clip it is named for
        if target is not None:
            fn, cls, method = target
            comp = self.comprehension.get(id(call))
            if comp is not None and any(
                is_val_name(self.canon(dotted(n), ctx))
                for g in comp.generators  # type: ignore[attr-defined]
                for n in ast.walk(g.iter)
                if isinstance(n, (ast.Name, ast.Attribute))
            ):
                ctx = replace(ctx, val_data=True)  # [step(x) for x in val_loader]
            return self.call_function(fn, cls, call, states, ctx, method)
        name = func_name(call)
        recv = receiver(call)
        if name in ("train", "eval"):
            recv = _through_self_returning(recv)  # model.to(device).train()
        rname = self.canon(dotted(recv), ctx) if recv is not None else None
        loc = ctx.site or (call.lineno, call.col_offset + 1)
        loops = tuple(f.id for f in ctx.loops)
        if name == "zero_grad" or (name == "zero_" and (rname or "").endswith(".grad")):
            by = rname if name == "zero_grad" and rname and self.idx.is_optimizer(rname) else None
            return frozenset(st.zero(s, loc, by) for s in states)
        if self._is_scaler_call(call):
            # backward and, unless `update_grad=` says it may not, a step
            self._check_backward(states, ctx)
            states = frozenset(st.backward(s, False, loops) for s in states)
            self._check_step(states, ctx)
            stepped = frozenset(st.step(s, loops) for s in states)
            update = next((k.value for k in call.keywords if k.arg == "update_grad"), None)
            if update is None or (isinstance(update, ast.Constant) and update.value):
                return stepped
            return stepped | states
        if _is_manual_update(call):
            self._check_step(states, ctx)
            return frozenset(st.step(s, loops) for s in states)
        if name in ("backward", "manual_backward"):
            scaled = isinstance(recv, ast.Call) and func_name(recv) == "scale"
            self._check_backward(states, ctx)
            return frozenset(st.backward(s, scaled, loops) for s in states)
        if name == "step" and rname:
            if self.idx.is_scheduler(rname):
                self._check_scheduler(call, rname, states, ctx)
                return states
            if self.idx.is_scaler(rname) or self.idx.is_optimizer(rname):
                closure = call.args[0] if call.args else None
                if isinstance(closure, ast.Name) and closure.id in self.idx.functions:
                    states = self.call_function(
                        self.idx.functions[closure.id],
                        ctx.cls,
                        None,
                        states,
                        ctx,
                        False,
                    )
                opt = rname if self.idx.is_optimizer(rname) else (dotted(call.args[0]) if call.args else None)
                self._check_step(states, ctx, opt)
                return frozenset(st.step(s, loops) for s in states)
            return states
        if name == "unscale_":
            return frozenset(s._replace(unscaled=True) for s in states)
        if name in CLIP_FUNCS:
            self._check_clip(call, states, ctx)
            return frozenset(st.clip(s, loc) for s in states)
        if name in ("train", "eval") and rname and not call.keywords and len(call.args) <= 1:
            mode = name
            if call.args:
                arg = call.args[0]
                flag = arg.value if isinstance(arg, ast.Constant) else None
                mode = "unknown" if flag is None or name == "eval" else ("train" if flag else "eval")
            return frozenset(st.set_mode(s, rname, mode, loc) for s in states)
        if name in ("train",) and rname:
            return frozenset(st.set_mode(s, rname, "unknown", loc) for s in states)
        callee = self.canon(dotted(call.func), ctx)
        if callee and self._is_forward(callee):
            self._check_forward(call, callee, states, ctx)
        return states

    def _is_forward(self, callee: str) -> bool:
        first = callee.lstrip("?").split(".")[0]
        if first in ("torch", "nn", "F", "models", "torchvision", "timm") or callee[:1].isupper():
            return False
        return callee.split(".")[-1] not in self.idx.classes and self.idx.is_model(callee)

    # ----- calls into the same file ------------------------------------------------------------
    def canon(self, name: str | None, ctx: Ctx) -> str | None:
        """Rewrite a callee's parameter names into the caller's variables."""
        if not name:
            return name
        first, dot, rest = name.partition(".")
        for key, value in ctx.env:
            if key == first:
                return value + dot + rest
        return name

    def resolve(self, call: ast.Call, cls: str | None, ctx: Ctx | None) -> tuple[FuncDef, str | None, bool] | None:
        """The function or method of this file that `call` runs, if any."""
        func = call.func
        if isinstance(func, ast.Name):
            fn = self.idx.functions.get(func.id) or self.idx.imported.get(func.id)
            return (fn, None, False) if fn is not None else None
        if isinstance(func, ast.Attribute):
            base = dotted(func.value)
            imported = self.idx.imported.get(dotted(func) or "")
            if imported is not None:
                return imported, None, False
            if base == "self" and cls:
                found = self._method(cls, func.attr)
                return (found[0], found[1], True) if found else None
            if isinstance(func.value, ast.Call) and func_name(func.value) in self.idx.classes:
                found = self._method(func_name(func.value), func.attr)
                return (found[0], found[1], True) if found else None
            if base:
                owner = self.idx.instances.get(self.canon(base, ctx) if ctx else base) or self.idx.instances.get(base)
                if owner:
                    found = self._method(owner, func.attr)
                    return (found[0], found[1], True) if found else None
        return None

    def _method(self, cls: str, name: str, depth: int = 0) -> tuple[FuncDef, str] | None:
        fn = self.idx.methods.get((cls, name))
        if fn is not None:
            return fn, cls
        for base in self.idx.bases.get(cls, []):
            last = base.split(".")[-1]
            if last in self.idx.classes and depth < 5:
                found = self._method(last, name, depth + 1)
                if found:
                    return found
        return None

    def call_function(
        self,
        fn: FuncDef,
        cls: str | None,
        call: ast.Call | None,
        states: States,
        ctx: Ctx,
        method: bool,
    ) -> States:
        if any(f.fn is fn for f in ctx.frames):
            return states  # recursion: assume the call changes nothing
        env = self._bind(fn, call, ctx, method)
        grad_off, depth = ctx.grad_off, ctx.nograd_depth
        for dec in fn.decorator_list:
            mode = grad_context(dec)
            if mode != "other":
                grad_off, depth = mode, len(ctx.loops)  # type: ignore[assignment]
        key = (
            id(fn),
            states,
            env,
            ctx.report,
            grad_off,
            depth,
            tuple(f.id for f in ctx.loops),
            cls,
        )
        if key in self.memo:
            return self.memo[key]
        self.entered.add(id(fn))
        frame = FuncFrame(fn)
        foreign = id(fn) in self.idx.foreign
        inner = replace(
            ctx,
            report=ctx.report and not foreign,
            site=ctx.site or (foreign and call is not None and (call.lineno, call.col_offset + 1)) or None,
            env=env,
            cls=cls,
            grad_off=grad_off,
            nograd_depth=depth,
            frames=(*ctx.frames, frame),
        )
        out = self.body(fn.body, states, inner) | frame.returns
        out = st.forget(out, f"{id(fn)}:") if out else states  # a function that always raises: a no-op
        self.memo[key] = out
        return out

    def _bind(self, fn: FuncDef, call: ast.Call | None, ctx: Ctx, method: bool) -> tuple[tuple[str, str], ...]:
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
        if method and params:
            params = params[1:]
        # A root function's parameters keep their own names (the best hint we have); a called
        # function's unbound parameters become "?name" so they match no variable of the caller.
        unknown = "" if call is None else "?"
        bound = {p: unknown + p for p in [*params, *(a.arg for a in fn.args.kwonlyargs)]}
        if call is not None:
            # `def run(loader, train: bool = True)` called as `run(val_loader, train=False)`: a
            # True/False argument (or default) is bound as "=True"/"=False", so `if train:` and
            # `set_grad_enabled(train)` read it.
            positional = [*fn.args.posonlyargs, *fn.args.args][1 if method else 0 :]
            defaults = dict(zip([a.arg for a in positional][::-1], fn.args.defaults[::-1], strict=False))
            defaults.update({a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d})
            for p, default in defaults.items():
                if _bool_constant(default) is not None:
                    bound[p] = f"={_bool_constant(default)}"
            for p, arg in zip(params, call.args, strict=False):
                bound[p] = self._bound_value(arg, ctx) or "?" + p
            for kw in call.keywords:
                if kw.arg in bound:
                    bound[kw.arg] = self._bound_value(kw.value, ctx) or "?" + kw.arg
        return tuple(sorted(bound.items()))

    def _bound_value(self, arg: ast.expr, ctx: Ctx) -> str | None:
        flag = _bool_constant(arg)
        return f"={flag}" if flag is not None else self.canon(dotted(arg), ctx)

    def flag_value(self, expr: ast.expr, ctx: Ctx) -> bool | None:
        """The value of a flag bound by the caller: `train` -> False in `run(train=False)`."""
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = self.flag_value(expr.operand, ctx)
            return None if inner is None else not inner
        if isinstance(expr, ast.Name):
            value = self.canon(expr.id, ctx)
            if value in ("=True", "=False"):
                return value == "=True"
        return None

    # ----- summaries: what a piece of code may do at all --------------------------------------
    def effects(self, node: ast.AST, cls: str | None) -> frozenset[str]:
        """Kinds of event `node` may cause, following calls: zero, backward, step, loopstep."""
        key = id(node)
        if key in self.effects_memo:
            return self.effects_memo[key]
        self.effects_memo[key] = frozenset()  # recursion guard
        out: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, (ast.For, ast.AsyncFor, ast.While)) and sub is not node:
                inner = self.effects(sub, cls)
                if {"step", "backward"} <= inner:
                    out.add("loopstep")
            if _sets_grad_to_none(sub) and id(sub) not in self._partial_clears():  # type: ignore[arg-type]
                out |= {"zero", "zero:*"}
            if not isinstance(sub, ast.Call):
                continue
            name = func_name(sub)
            rname = dotted(receiver(sub))
            target = self.resolve(sub, cls if cls else self.idx.owner.get(key), None)
            if target is not None:
                inner = self.effects(target[0], target[1])
                # Named events ("step:opt") are compared only within one body: a callee's
                # parameter names need not match the caller's.
                out |= {e for e in inner if ":" not in e}
                if inner & {"zero", "step"}:
                    out.add("named:opaque")
            elif name == "zero_grad" or (name == "zero_" and (rname or "").endswith(".grad")):
                out.add("zero")
                opt = rname if name == "zero_grad" and rname and self.idx.is_optimizer(rname) else None
                if opt is None and name == "zero_grad" and rname:
                    # A model's zero_grad() clears every parameter in it: those of each optimizer
                    # built over it or over a part of it (netD.zero_grad() clears optimizerD's).
                    owned = {
                        o
                        for owner, o in self.idx.optimizer_of.items()
                        if o and (owner == rname or owner.startswith(rname + "."))
                    }
                    if len(owned) > 1:
                        out |= {"zero:" + o for o in owned}
                        continue
                    opt = self.idx.optimizer_of.get(rname) or None
                out.add("zero:" + (opt or "*"))
            elif name in ("backward", "manual_backward"):
                out.add("backward")
            elif _is_manual_update(sub):
                out |= {"step", "step:*"}
            elif self._is_scaler_call(sub):
                out |= {"backward", "step", "step:" + (dotted(sub.args[1]) or "*")}
            elif (
                name == "step"
                and rname
                and not self.idx.is_scheduler(rname)
                and (self.idx.is_optimizer(rname) or self.idx.is_scaler(rname))
            ):
                out.add("step")
                opt = dotted(sub.args[0]) if self.idx.is_scaler(rname) and sub.args else rname
                out.add("step:" + (opt or "*"))
        result = frozenset(out)
        self.effects_memo[key] = result
        return result

    def _partial_clears(self) -> frozenset[int]:
        """`p.grad = None` statements that clear only some parameters: under an `if` inside the
        loop over them (`for n, p in model.named_parameters(): if "head" in n: p.grad = None`),
        which cancels one layer's update and is no zero_grad."""
        if self._partial is None:
            found: set[int] = set()
            roots: list[ast.AST] = [self.idx.tree, *self.idx.imported.values()]
            for root in roots:
                for loop in ast.walk(root):
                    if not isinstance(loop, (ast.For, ast.AsyncFor)):
                        continue
                    for branch in ast.walk(loop):
                        if isinstance(branch, ast.If) and not _reads_grad(branch.test):  # not `if p.grad is not None`
                            found.update(id(n) for n in ast.walk(branch) if isinstance(n, ast.Assign))
            self._partial = frozenset(found)
        return self._partial

    def _is_scaler_call(self, call: ast.Call) -> bool:
        """`loss_scaler(loss, optimizer, clip_grad=...)`: timm's NativeScaler and the loss scalers
        of DeiT/MAE/ConvNeXt run backward, (clip,) and the optimizer step in one call."""
        callee = dotted(call.func) or ""
        return (
            "scaler" in callee.split(".")[-1].lower()
            and len(call.args) >= 2
            and not isinstance(call.func, ast.Attribute)
            or ("scaler" in callee.lower() and func_name(call) == "__call__")
        )

    def _comprehensions(self) -> dict[int, ast.expr]:
        """Call id -> the comprehension whose loop runs it (a loop the statement walk does not see)."""
        found: dict[int, ast.expr] = {}
        for node in self.idx.nodes:
            if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Call):
                        found.setdefault(id(sub), node)
        return found

    def _trained_models(self) -> set[str]:
        names = {m for m in self.idx.models}
        for node in self.idx.nodes:
            if isinstance(node, ast.Call) and func_name(node) == "train" and receiver(node) is not None:
                name = dotted(receiver(node))
                if name:
                    names.add(name)
        return names
