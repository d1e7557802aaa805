"""Rules that read the shape of the code rather than the order of events: softmax into
cross-entropy, logging the loss tensor, unguarded "best" checkpoints, casting the model after the
optimizer, validating on the training split, and unscaled accumulation losses."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from scaffold.check.index import FuncDef, ModuleIndex, local_values
from scaffold.check.names import (
    backward_loss,
    dotted,
    func_name,
    grad_context,
    is_train_name,
    is_val_name,
    own_nodes,
    receiver,
    string_parts,
)

Emit = Callable[[str, int, int, str, object], None]

_SOFTMAX = ("softmax", "Softmax")
_CE = ("cross_entropy", "CrossEntropyLoss")
# What a validation split is built with: `val_loader = DataLoader(train_ds)`, or a held-out
# dataset made of training rows (`val_set = TensorDataset(x[train_idx], y[train_idx])`).
_SPLIT_BUILDERS = frozenset({"DataLoader", "TensorDataset", "Subset"})
_DETACHERS = ("item", "detach", "tolist", "numpy", "cpu")
# Calls that return plain numbers, not tensors that could hold a graph.
_NUMBERS = frozenset({"len", "sum", "int", "float", "size", "item", "numel", "max", "min", "round", "get_scale"})
_CASTS = ("half", "double", "bfloat16")
_DTYPES = ("float16", "half", "bfloat16", "float64", "double", "float32", "float")


def scopes(index: ModuleIndex) -> Iterator[ast.Module | FuncDef]:
    """The module and every function in it: the units the local rules look inside."""
    yield index.tree
    for node in index.nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def backward_of_unscaled_loss(call: ast.Call, scope: ast.AST) -> bool:
    """True if `call` is `loss.backward()` (or `scaler.scale(loss).backward()`) on an unscaled loss."""
    loss = backward_loss(call)
    return loss is not None and unscaled_loss(loss, scope)


def unscaled_loss(loss: ast.expr | None, scope: ast.AST) -> bool:
    """True if `loss` is a plain name or attribute path (`self.loss`) whose every assignment in
    `scope` leaves it unscaled.

    Division or multiplication (`loss / accum`, `loss * (n / window)`, `loss /= accum`), a
    `reduction=` argument, or no assignment at all count as scaled (or unknown): silent.
    """
    name = dotted(loss) if isinstance(loss, (ast.Name, ast.Attribute)) else None
    if name is None:
        return False
    assigned = False
    for node in own_nodes(scope):
        if (isinstance(node, ast.AugAssign) and dotted(node.target) == name) and isinstance(
            node.op, (ast.Div, ast.Mult, ast.FloorDiv)
        ):
            return False
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(dotted(t) == name for t in flat) and node.value is not None:  # `logits, loss = model(x)`
                assigned = True
                value = node.value
                if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Div, ast.Mult)):
                    return False
                if isinstance(value, ast.Call) and any(k.arg == "reduction" for k in value.keywords):
                    return False
    return assigned


def _operand_names(expr: ast.expr) -> set[str]:
    """Names that are arithmetic operands of `expr` (`a * (b / c[i])` -> {a, b})."""
    if isinstance(expr, ast.Name):
        return {expr.id}
    if isinstance(expr, ast.BinOp):
        return _operand_names(expr.left) | _operand_names(expr.right)
    if isinstance(expr, ast.UnaryOp):
        return _operand_names(expr.operand)
    return set()


def _innermost_blocks(tree: ast.AST) -> dict[int, int]:
    """Node id -> id of the innermost loop or function around it (0 at module level)."""
    out: dict[int, int] = {}
    kinds = (ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef)

    def visit(node: ast.AST, owner: int) -> None:
        for child in ast.iter_child_nodes(node):
            out[id(child)] = owner
            visit(child, id(child) if isinstance(child, kinds) else owner)

    visit(tree, 0)
    return out


def _is_metric_guard(test: ast.expr) -> bool:
    """An `if` that compares a metric: `if val_loss < best`, `if improved(metric, best)`."""
    words = string_parts(test).lower()
    if any(w in words for w in ("best", "improv", "metric", "loss", "acc", "score", "better")):
        return True
    return any(
        isinstance(n, ast.Compare) and any(isinstance(op, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)) for op in n.ops)
        for n in ast.walk(test)
    )


def _records_best(stmt: ast.stmt) -> bool:
    """`best_val_loss = val_loss` or `is_best = True`: the new value taken as the best with no
    comparison (a `max(...)`/`min(...)` or any other call compares, so it does not count)."""
    value = stmt.value if isinstance(stmt, ast.Assign) else None
    return (
        isinstance(stmt, ast.Assign)
        and (isinstance(value, (ast.Name, ast.Attribute)) or (isinstance(value, ast.Constant) and value.value is True))
        and any("best" in (dotted(t) or "").split(".")[-1].lower() for t in stmt.targets)
    )


def _names_best_file(call: ast.Call, values: dict[str, list[ast.expr]] | None = None) -> bool:
    """Does the destination of a save call say "best"? The saved object (first argument) and
    flags such as `is_best` do not count: `save_checkpoint(state, is_best)` copies only when
    the flag is set, and `torch.save(best_weights, "last.pt")` is not a "best" file."""
    for arg in [*call.args[1:], *(k.value for k in call.keywords)]:
        for node in ast.walk(arg):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if "best" in node.value.lower():
                    return True
            elif isinstance(node, (ast.Name, ast.Attribute)):
                name = (node.id if isinstance(node, ast.Name) else node.attr).lower()
                if "best" in name and any(w in name for w in _PATH_WORDS):
                    return True
                # best = w / "best.pt"; torch.save(ckpt, best)
                for value in (values or {}).get(node.id if isinstance(node, ast.Name) else "", []):
                    if any(
                        isinstance(c, ast.Constant) and isinstance(c.value, str) and "best" in c.value.lower()
                        for c in ast.walk(value)
                    ):
                        return True
    return False


_PATH_WORDS = ("path", "file", "ckpt", "checkpoint", "dir", "name", "dest", "out")


def _is_save(call: ast.Call) -> bool:
    return "save" in func_name(call).lower() and func_name(call) != "save_hyperparameters"


def _is_softmax(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and func_name(node) in _SOFTMAX


def _loc(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset + 1  # type: ignore[attr-defined]


class LocalRules:
    """Runs every shape rule over one module."""

    def __init__(self, index: ModuleIndex, emit: Emit):
        self.idx = index
        self.emit = emit
        self.tree = index.tree

    def run(self) -> None:
        self.softmax_before_ce()
        for scope in scopes(self.idx):
            self.log_loss_tensor(scope)
            self.checkpoint_best(scope)
            self.cast_after_optimizer(scope)
            self.accumulation_unscaled(scope)
        self.validate_on_train()

    # ----- softmax-before-cross-entropy ------------------------------------------------------
    def softmax_before_ce(self) -> None:
        uses_ce = any(
            isinstance(n, (ast.Call, ast.Attribute, ast.Name))
            and (
                (isinstance(n, ast.Call) and func_name(n) in _CE)
                or (isinstance(n, ast.Attribute) and n.attr in _CE)
                or (isinstance(n, ast.Name) and n.id in _CE)
            )
            for n in self.idx.nodes
        )
        if not uses_ce:
            return
        msg = "the model's output goes through softmax and then into cross-entropy, which applies log-softmax itself"
        for node in self.idx.nodes:
            # A model whose forward() ends by returning softmax(...).
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "forward":
                last = node.body[-1] if node.body else None
                if isinstance(last, ast.Return) and last.value is not None:
                    value = last.value
                    if isinstance(value, ast.Name):
                        value = self._last_assignment(node, value.id) or value
                    if _is_softmax(value) or self._is_softmax_layer_call(value):
                        self.emit("softmax-before-cross-entropy", *_loc(value), msg, None)
            # nn.Sequential(..., nn.Softmax(dim=1)), or nn.Sequential(*layers) where the last
            # thing appended to `layers` is nn.Softmax.
            elif isinstance(node, ast.Call) and func_name(node) == "Sequential" and node.args:
                last_arg = node.args[-1]
                if isinstance(last_arg, ast.Starred):
                    last_arg = self._last_appended(dotted(last_arg.value))
                if isinstance(last_arg, ast.Call) and func_name(last_arg) == "Softmax":
                    self.emit("softmax-before-cross-entropy", *_loc(last_arg), msg, None)
            # cross_entropy(softmax(logits), y) written in one call.
            elif (
                isinstance(node, ast.Call)
                and node.args
                and (func_name(node) == "cross_entropy" or self._is_ce_object(node))
            ):
                first = node.args[0]
                if isinstance(first, ast.Name):  # probs = softmax(logits); ce(probs, y)
                    scope = self.idx.scope_of.get(id(node), self.tree)
                    values = local_values(scope).get(first.id, [])
                    first = next((v for v in values if _is_softmax(v)), first)
                if _is_softmax(first):
                    self.emit("softmax-before-cross-entropy", *_loc(first), msg, None)

    def _last_appended(self, name: str | None) -> ast.expr | None:
        """The argument of the last `name.append(...)` in the file, by position."""
        last = None
        for node in self.idx.nodes:
            if (
                isinstance(node, ast.Call)
                and func_name(node) == "append"
                and node.args
                and name
                and dotted(receiver(node)) == name
                and (last is None or (node.lineno, node.col_offset) > (last.lineno, last.col_offset))
            ):
                last = node
        return last.args[0] if last is not None else None

    def _is_ce_object(self, call: ast.Call) -> bool:
        built = self.idx.built_by.get(dotted(call.func) or "", ())
        if "CrossEntropyLoss" in built:
            return True
        # A loss object reached through a container (`c.criterion`, `self.loss_fn`) whose
        # constructor we cannot see: in a file that uses cross-entropy, take the name's word.
        name = func_name(call).lower()
        return not built and any(word in name for word in ("criterion", "loss_fn", "loss_func"))

    def _is_softmax_layer_call(self, value: ast.AST) -> bool:
        """`self.softmax(x)` where `self.softmax = nn.Softmax(...)`."""
        if not isinstance(value, ast.Call):
            return False
        return "Softmax" in self.idx.built_by.get(dotted(value.func) or "", ())

    @staticmethod
    def _last_assignment(fn: FuncDef, name: str) -> ast.expr | None:
        found = None
        for node in own_nodes(fn):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                and (found is None or node.lineno > found.lineno)
            ):
                found = node
        return found.value if found else None

    # ----- log-loss-tensor ---------------------------------------------------------------------
    def log_loss_tensor(self, scope: ast.AST) -> None:
        graph = self._graph_names(scope)
        if not graph:
            return
        nograd = self._nograd_lines(scope)
        direct = self._backward_names(scope)
        # An accumulation inside a loop counts only if that loop also runs backward(): the loss
        # is then a new graph each iteration (a stale training loss read in an eval loop is not).
        loops = [n for n in own_nodes(scope) if isinstance(n, (ast.For, ast.AsyncFor, ast.While))]
        innermost: dict[int, tuple[int, bool]] = {}  # node -> (size, runs backward) of its innermost loop

        def in_backward_loop(node: ast.AST) -> bool:
            if not innermost:  # built on first use: most scopes have no accumulation at all
                for loop in loops:
                    subs = list(ast.walk(loop))
                    runs_backward = any(isinstance(c, ast.Call) and backward_loss(c) is not None for c in subs)
                    for sub in subs:
                        if id(sub) not in innermost or innermost[id(sub)][0] > len(subs):
                            innermost[id(sub)] = (len(subs), runs_backward)
                innermost[0] = (0, True)
            return id(node) not in innermost or innermost[id(node)][1]

        for node in own_nodes(scope):
            expr = None
            if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
                expr = node.value
            elif isinstance(node, ast.Call) and func_name(node) in ("append", "extend") and node.args:
                expr = node.args[0]
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp) and len(node.targets) == 1:
                target = dotted(node.targets[0])
                if target and target not in direct and target in {dotted(n) for n in ast.walk(node.value)}:
                    # total = total + loss, or a running mean: tloss = (tloss * i + loss) / (i + 1)
                    expr = node.value
            if expr is None or node.lineno in nograd or not in_backward_loop(node):
                continue
            leaked = self._bare_graph_name(expr, graph)
            if leaked:
                self.emit(
                    "log-loss-tensor",
                    *_loc(node),
                    f"the loss tensor `{leaked}` is accumulated with its graph; use {leaked}.item()",
                    None,
                )

    @staticmethod
    def _backward_names(scope: ast.AST) -> set[str]:
        """Names backward() is called on directly in `scope` (`loss = loss + aux` builds them)."""
        out = set()
        for node in own_nodes(scope):
            loss = backward_loss(node) if isinstance(node, ast.Call) else None
            if isinstance(loss, ast.Name):
                out.add(loss.id)
        return out

    def _graph_names(self, scope: ast.AST) -> set[str]:
        """Names in `scope` that hold a loss tensor that backward() is called on."""
        names: set[str] = set()
        for node in own_nodes(scope):
            recv = backward_loss(node) if isinstance(node, ast.Call) else None
            if recv is not None:
                if isinstance(recv, ast.BinOp):
                    recv = recv.left
                if isinstance(recv, ast.Name):
                    names.add(recv.id)
        # `share = loss * (n / window); share.backward()`: `loss` holds the graph too. Only
        # direct operands count, not names inside calls or subscripts (`windows[i]`).
        tensors = {
            t.id
            for node in own_nodes(scope)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and func_name(node.value) not in _NUMBERS
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        for node in own_nodes(scope):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in names for t in node.targets):
                names |= _operand_names(node.value) & tensors
        # A name reassigned to a plain number (loss = loss.item()) is excluded conservatively.
        for node in own_nodes(scope):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and func_name(node.value) in ("item", "float", "detach")
            ):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        names.discard(t.id)
        return names

    @staticmethod
    def _bare_graph_name(expr: ast.expr, graph: set[str]) -> str | None:
        """A graph name used in `expr` without .item()/.detach()/float() around it."""
        safe: set[int] = set()
        for node in ast.walk(expr):
            if (
                isinstance(node, ast.Call)
                and (
                    func_name(node) in _DETACHERS
                    or (isinstance(node.func, ast.Name) and node.func.id in ("float", "int", "str"))
                )
                or isinstance(node, ast.Attribute)
                and node.attr in ("data", "shape")
            ):
                for sub in ast.walk(node):
                    safe.add(id(sub))
        for node in ast.walk(expr):
            if isinstance(node, ast.Name) and node.id in graph and id(node) not in safe:
                return node.id
        return None

    @staticmethod
    def _nograd_lines(scope: ast.AST) -> set[int]:
        lines: set[int] = set()
        for node in own_nodes(scope):
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(grad_context(i) is True for i in node.items):
                for sub in ast.walk(node):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
        return lines

    # ----- checkpoint-last-not-best (hint) --------------------------------------------------------
    def checkpoint_best(self, scope: ast.AST) -> None:
        """A save of the "best" checkpoint inside a loop but under no metric `if`: it runs every
        epoch. "Best" is read from the destination (a string, a `best_path` name, or a variable
        assigned a path that says best), or from an unguarded `best_metric = metric` beside it."""
        if not any(isinstance(n, ast.Call) and _is_save(n) for n in own_nodes(scope)):
            return
        values = dict(self.idx.values_of(scope))
        if scope is not self.tree:
            for name, vals in self.idx.values_of(self.tree).items():
                values.setdefault(name, vals)

        def visit(stmts: list[ast.stmt], in_loop: bool, records_best: bool) -> None:
            records_best = records_best or (in_loop and any(_records_best(s) for s in stmts))
            for stmt in stmts:
                if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
                    visit(stmt.body, True, False)
                elif isinstance(stmt, ast.If) and not _is_metric_guard(stmt.test):
                    # `if not dry_run:` or `if epoch % 5 == 0:` does not pick the best epoch.
                    visit(stmt.body, in_loop, records_best)
                    visit(stmt.orelse, in_loop, records_best)
                elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.Try)):
                    visit(stmt.body, in_loop, records_best)
                elif isinstance(stmt, (ast.Expr, ast.Assign)) and in_loop and isinstance(stmt.value, ast.Call):
                    call = stmt.value
                    if _is_save(call) and (records_best or _names_best_file(call, values)):
                        self.emit(
                            "checkpoint-last-not-best",
                            *_loc(call),
                            "a 'best' checkpoint is written every epoch without checking that the metric improved",
                            None,
                        )

        visit(getattr(scope, "body", []), False, False)

    # ----- to-device-after-optimizer (myth, hint) ---------------------------------------------------
    def cast_after_optimizer(self, scope: ast.AST) -> None:
        built: dict[str, int] = {}  # model -> line where an optimizer over its parameters was built
        for node in sorted(
            (n for n in own_nodes(scope) if isinstance(n, ast.Call)),
            key=lambda n: (n.lineno, n.col_offset),
        ):
            full = dotted(node.func) or ""
            if (
                full.startswith(("optim.", "torch.optim."))
                or func_name(node) in self._optimizer_names()
                or "optim" in func_name(node).lower()  # build_optimizer(model, cfg)
            ) and (node.args or node.keywords):
                for src in [*node.args, *(k.value for k in node.keywords if k.arg in ("params", "model"))]:
                    if isinstance(src, ast.Call) and func_name(src) == "parameters":
                        src = receiver(src)
                    model = dotted(src)
                    if model and self.idx.is_model(model):
                        built.setdefault(model, node.lineno)
                continue
            model = dotted(receiver(node))
            if model not in built or node.lineno <= built[model]:
                continue
            name = func_name(node)
            casts = name in _CASTS or (name == "to" and self._to_has_dtype(node))
            if casts:
                self.emit(
                    "to-device-after-optimizer",
                    *_loc(node),
                    f"{model} is cast to another dtype after its optimizer was built: harmless by "
                    "default (parameters convert in place), but not with optimizer state loaded "
                    "before the cast, with set_overwrite_module_params_on_conversion(True), or for "
                    "fp16 parameters under plain Adam",
                    None,
                )
            elif name in ("to", "cuda"):
                self.emit(
                    "to-device-after-optimizer",
                    *_loc(node),
                    f"{model} is moved after its optimizer was built: a myth, harmless by default "
                    "(parameters move in place and the optimizer keeps them), unless optimizer state "
                    "was loaded before the move or set_overwrite_module_params_on_conversion(True) is on",
                    None,
                )

    @staticmethod
    def _optimizer_names() -> frozenset[str]:
        from scaffold.check.names import OPTIMIZERS

        return OPTIMIZERS

    @staticmethod
    def _to_has_dtype(call: ast.Call) -> bool:
        if any(k.arg == "dtype" for k in call.keywords):
            return True
        for arg in call.args:
            if isinstance(arg, ast.Attribute) and arg.attr in _DTYPES:
                return True
            if isinstance(arg, ast.Name) and "dtype" in arg.id.lower():
                return True
        return False

    # ----- accumulation-loss-not-scaled -------------------------------------------------------------
    def accumulation_unscaled(self, scope: ast.AST) -> None:
        for loop in own_nodes(scope):
            if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
                continue
            guards = [s for s in self._flat(loop.body) if isinstance(s, ast.If) and self._is_accum_guard(s)]
            if not guards:
                continue
            guarded = {id(n) for g in guards for n in ast.walk(g)}
            if any(
                id(c) not in guarded and self._is_optimizer_step(c)
                for stmt in self._flat(loop.body)
                for c in ast.walk(stmt)
            ):
                continue  # some optimizer steps every iteration (a GAN's critic, TD3's critic)
            for stmt in self._flat(loop.body):
                for call in ast.walk(stmt):
                    if isinstance(call, ast.Call) and id(call) not in guarded:
                        if backward_of_unscaled_loss(call, scope):
                            self.emit(
                                "accumulation-loss-not-scaled",
                                *_loc(call),
                                "gradients are accumulated over several backward() calls but the loss "
                                "is not divided by the number of accumulation steps",
                                None,
                            )

    @staticmethod
    def _flat(stmts: list[ast.stmt]) -> Iterator[ast.stmt]:
        """Statements of one loop body, entering with/try/if but not nested loops or functions."""
        for stmt in stmts:
            yield stmt
            if isinstance(stmt, (ast.With, ast.AsyncWith, ast.Try)):
                yield from LocalRules._flat(stmt.body)
            elif isinstance(stmt, ast.If):
                yield from LocalRules._flat(stmt.body)
                yield from LocalRules._flat(stmt.orelse)

    def _is_accum_guard(self, node: ast.If) -> bool:
        test = node.test
        accum = (
            any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) for n in ast.walk(test))
            or "accum" in string_parts(test).lower()
        )
        return accum and any(self._is_optimizer_step(c) for c in ast.walk(node))

    def _is_optimizer_step(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and func_name(node) == "step"
            and receiver(node) is not None
            and not self.idx.is_scheduler(dotted(receiver(node)))
        )

    @staticmethod
    def _train_part(expr: ast.expr) -> str | None:
        """`TensorDataset(x[train_idx], y[train_idx])` -> "train_idx" (no held-out name in it)."""
        names = [n for n in string_parts(expr).split() if n]
        if any(is_val_name(n) for n in names):
            return None
        return next((n for n in names if is_train_name(n)), None)

    # ----- validate-on-train-split -------------------------------------------------------------------
    def validate_on_train(self) -> None:
        val_fns = {name for name, fn in self.idx.functions.items() if is_val_name(name)} | {
            name for (_, name) in self.idx.methods if is_val_name(name)
        }
        train_calls: list[tuple[ast.Call, str]] = []
        held_out_calls: list[ast.Call] = []  # validation calls on held-out data
        for node in self.idx.nodes:
            if isinstance(node, ast.Call) and func_name(node) in val_fns:
                names = [dotted(a) for a in [*node.args, *(k.value for k in node.keywords)]]
                if any(is_val_name(n) for n in names):
                    held_out_calls.append(node)
                leak = next((n for n in names if is_train_name(n)), None)
                if leak:
                    train_calls.append((node, leak))
            # val_loader = DataLoader(train_ds, ...)
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Call, ast.Name)):
                targets = [dotted(t) for t in node.targets]
                if any(is_val_name(t) for t in targets):
                    value = node.value
                    src = value.args[0] if isinstance(value, ast.Call) and value.args else value
                    src_name = dotted(src) or self._train_part(src)
                    built = isinstance(value, ast.Name) or func_name(value) in _SPLIT_BUILDERS
                    if is_train_name(src_name) and built:
                        self.emit(
                            "validate-on-train-split",
                            *_loc(node),
                            f"the validation data is built from the training data `{src_name}`",
                            None,
                        )
        # Evaluating on the training data beside a held-out evaluation (train and val accuracy
        # side by side) is deliberate; alone in its loop or function, it is the mistake.
        block = _innermost_blocks(self.tree) if train_calls else {}
        held_out = {block.get(id(c), 0) for c in held_out_calls}
        for call, leak in train_calls:
            if block.get(id(call), 0) not in held_out:
                self.emit(
                    "validate-on-train-split",
                    *_loc(call),
                    f"validation is run on the training data `{leak}`",
                    None,
                )
