"""What a module defines and builds: functions, classes, and the variables that hold an optimizer,
a scheduler (and its cadence), a GradScaler or a model. Built once per file, read by every rule."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from scaffold.check.names import (
    EITHER_SCHEDULERS,
    EPOCH_SCHEDULERS,
    OPTIMIZERS,
    PLATEAU_SCHEDULERS,
    STEP_SCHEDULERS,
    dotted,
    func_name,
    is_verb_name,
    names_in,
    own_nodes,
    string_parts,
)

FuncDef = ast.FunctionDef | ast.AsyncFunctionDef

# Words in a scheduler's constructor arguments that show its length is counted in optimizer steps,
# which makes even an "epoch" class (CosineAnnealingLR(T_max=total_steps)) correct per batch.
_STEP_WORDS = ("len(", "step", "iter", "batches")


def local_values(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """Name -> values assigned to it directly in `scope` (not in nested functions)."""
    values: dict[str, list[ast.expr]] = {}
    for node in own_nodes(scope):
        if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
            values.setdefault(node.target.id, []).append(node.iter)  # for path in [dir / "best.pt"]
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(node.value)
                elif (
                    isinstance(target, ast.Tuple)
                    and isinstance(node.value, ast.Tuple)
                    and len(target.elts) == len(node.value.elts)
                ):
                    # last, best = w / "last.pt", w / "best.pt"
                    for t, v in zip(target.elts, node.value.elts, strict=True):
                        if isinstance(t, ast.Name):
                            values.setdefault(t.id, []).append(v)
    return values


def _argument_text(call: ast.Call, values: dict[str, list[ast.expr]]) -> str:
    """The constructor's arguments as text, with local variables they use expanded (3 levels)."""
    todo: list[ast.expr] = [*call.args[1:], *(k.value for k in call.keywords)]
    parts: list[str] = []
    seen: set[str] = set()
    for _ in range(3):
        more: list[ast.expr] = []
        for expr in todo:
            parts.append(ast.unparse(expr))
            for name in names_in(expr) - seen:
                seen.add(name)
                more.extend(values.get(name, []))
        todo = more
    return " ".join(parts).lower()


def scheduler_kind(call: ast.Call, values: dict[str, list[ast.expr]] | None = None) -> str | None:
    """Cadence of the scheduler built by `call`: "epoch", "step", "either", "plateau", or None.

    None means the call does not build a scheduler we know. `values` (local assignments of the
    enclosing scope) lets `T_max=total` with `total = epochs * steps_per_epoch` read as steps.
    """
    name = func_name(call)
    if name in PLATEAU_SCHEDULERS:
        return "plateau"
    if name in STEP_SCHEDULERS or (name.startswith("get_") and "schedule" in name):
        return "step"  # transformers/diffusers `get_*_schedule*` count optimizer steps
    if name in EITHER_SCHEDULERS:
        return "either"
    if name in EPOCH_SCHEDULERS:
        args = _argument_text(call, values or {})
        return "either" if any(w in args for w in _STEP_WORDS) else "epoch"
    if "lr_scheduler" in (dotted(call.func) or ""):
        return "either"  # a scheduler class we do not know: never flag its cadence
    return None


# Layers whose forward differs between train() and eval().
_MODE_WORDS = ("dropout", "batchnorm", "instancenorm", "droppath", "stochastic_depth")


def _is_optimizer_factory(name: str) -> bool:
    """`configure_optimizers`, `create_optimizer`, `build_optimizer`, `get_optimizer`."""
    low = name.lower()
    return "optim" in low and low.startswith(("configure", "create", "build", "get", "make", "init", "setup"))


@dataclass
class ModuleIndex:
    """Definitions and variable origins of one module.

    Attributes:
        functions: Every function by name (module level and nested; the last one wins).
        classes: User classes by name.
        methods: (class name, method name) -> definition.
        bases: Class name -> names of its bases.
        schedulers: Variable path -> cadence ("epoch", "step", "either", "plateau", "unknown").
        optimizers: Variable paths assigned an optimizer.
        scalers: Variable paths assigned a GradScaler.
        models: Variable paths that hold a model (built from nn/user modules, or optimised).
        instances: Variable path -> user class name it was built from.
        aliases: `self.attr` -> the caller's variable it was set from in `__init__`.
        built_by: Variable path -> names of the callables assigned to it (`x = Foo()` -> Foo).
        ctor_calls: Variable path -> the first call assigned to it.
        called: Every plain name that is called or passed around, to tell roots from helpers.
        self_called: Method names called on `self` (or on a fresh `Cls(...)`).
        attr_called: (receiver, method) pairs of other method calls.
    """

    tree: ast.Module
    nodes: list[ast.AST] = field(default_factory=list)
    functions: dict[str, FuncDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    methods: dict[tuple[str, str], FuncDef] = field(default_factory=dict)
    owner: dict[int, str] = field(default_factory=dict)
    bases: dict[str, list[str]] = field(default_factory=dict)
    schedulers: dict[str, str] = field(default_factory=dict)
    optimizers: set[str] = field(default_factory=set)
    scalers: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    optimized: set[str] = field(default_factory=set)
    optimizer_of: dict[str, str] = field(default_factory=dict)  # module -> the one optimizer over it
    optimized_known: bool = True
    instances: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    factory_kinds: dict[str, str] = field(default_factory=dict)
    scope_of: dict[int, ast.AST] = field(default_factory=dict)
    built_by: dict[str, set[str]] = field(default_factory=dict)
    ctor_calls: dict[str, ast.Call] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)
    # Functions imported from the file's own project (`scaffold.check.imports`): followed by the
    # ordering rules like local ones, but never reported on (their findings belong to their file).
    imported: dict[str, FuncDef] = field(default_factory=dict)
    foreign: set[int] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)  # the source, to read the comments by an eval()
    _values_cache: dict[int, dict[str, list[ast.expr]]] = field(default_factory=dict)
    self_called: set[str] = field(default_factory=set)
    attr_called: set[tuple[str, str]] = field(default_factory=set)

    def method_is_called(self, cls: str, name: str) -> bool:
        """True if method `name` of `cls` is called somewhere we can follow (self.x() or obj.x())."""
        if name in self.self_called:
            return True
        return any(attr == name and self.instances.get(base) for base, attr in self.attr_called)

    @classmethod
    def build(cls, tree: ast.Module) -> ModuleIndex:
        """Index `tree` in one walk (plus one short pass for constructor aliases)."""
        idx = cls(tree)
        idx.nodes = list(ast.walk(tree))  # every later whole-module pass reads this list
        for fn in idx.nodes:
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in own_nodes(fn):
                    if isinstance(sub, ast.Call):
                        idx.scope_of[id(sub)] = fn
        for node in idx.nodes:
            if isinstance(node, ast.ClassDef):
                idx.classes[node.name] = node
                idx.bases[node.name] = [dotted(b) or "" for b in node.bases]
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        idx.methods[(node.name, item.name)] = item
                        idx.owner[id(item)] = node.name
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                idx.functions.setdefault(node.name, node)
            elif isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name):
                    idx.called.add(node.func.id)
                elif isinstance(node.func, ast.Attribute):
                    base = node.func.value
                    if dotted(base) == "self" or (isinstance(base, ast.Call) and func_name(base) in idx.classes):
                        idx.self_called.add(node.func.attr)
                    else:
                        idx.attr_called.add((dotted(base) or "", node.func.attr))
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, ast.Name):
                        idx.called.add(arg.id)
        # Methods are resolved through their class, not by bare name.
        for (_, name), fn in idx.methods.items():
            if idx.functions.get(name) is fn:
                del idx.functions[name]
        idx._factories()
        for node in idx.nodes:
            if isinstance(node, ast.Call) and func_name(node) in idx.classes:
                # Components(scheduler=build_scheduler(...)): remember by attribute name.
                for kw in node.keywords:
                    if kw.arg and isinstance(kw.value, ast.Call):
                        idx._origin("." + kw.arg, kw.value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                for target in node.targets:
                    name = dotted(target)
                    if name:
                        built = idx.built_by.setdefault(name, set())
                        built.add(func_name(node.value))
                        inner = node.value  # nn.CrossEntropyLoss().to(device) is built by both
                        while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                            inner = inner.func.value
                            if isinstance(inner, ast.Call):
                                built.add(func_name(inner))
                        idx.ctor_calls.setdefault(name, node.value)
                        idx._origin(name, node.value)
        idx._aliases()
        return idx

    def _factories(self) -> None:
        """Functions that return a scheduler: `def build_scheduler(...): return StepLR(...)`."""
        for fn in self.functions.values():
            values = local_values(fn)
            kinds = set()
            for node in ast.walk(fn):
                if isinstance(node, ast.Return) and node.value is not None:
                    ret = node.value
                    if isinstance(ret, ast.Name) and len(values.get(ret.id, [])) == 1:
                        ret = values[ret.id][0]
                    kinds.add(scheduler_kind(ret, values) if isinstance(ret, ast.Call) else None)
            if len(kinds) == 1 and None not in kinds:
                self.factory_kinds[fn.name] = kinds.pop()

    def _record_scheduler(self, name: str, kind: str) -> None:
        for key in {name, "." + name.split(".")[-1]}:
            old = self.schedulers.get(key)
            self.schedulers[key] = kind if old in (None, kind) else "unknown"

    def _origin(self, name: str, call: ast.Call) -> None:
        """Record what `name = call` builds."""
        fname = func_name(call)
        full = dotted(call.func) or ""
        kind = scheduler_kind(call, self._scope_values(call)) or self.factory_kinds.get(fname)
        if kind:
            self._record_scheduler(name, kind)
        elif fname in OPTIMIZERS or full.startswith(("optim.", "torch.optim.")) or _is_optimizer_factory(fname):
            self.optimizers.add(name)
            params = [*call.args[:1], *(k.value for k in call.keywords if k.arg in ("params", "model"))]
            if fname not in OPTIMIZERS and not full.startswith(("optim.", "torch.optim.")):
                # model.configure_optimizers(...), create_optimizer(args, model): the model is the
                # receiver or an argument.
                params = [*call.args, getattr(call.func, "value", None)]
            owners = self._param_owners(params, self._scope_values(call))
            self.models |= owners
            for owner in owners:
                old = self.optimizer_of.get(owner)
                self.optimizer_of[owner] = name if old in (None, name) else ""
            if owners:
                self.optimized |= owners
            else:
                self.optimized_known = False
        elif fname == "GradScaler":
            self.scalers.add(name)
        elif fname in self.classes:
            self.instances[name] = fname
            if self.is_module_class(fname):
                self.models.add(name)
        elif full.startswith(("nn.", "torch.nn.", "torchvision.models.", "models.")) and not fname.endswith("Loss"):
            self.models.add(name)
        elif fname in ("compile", "DataParallel", "DistributedDataParallel", "to"):
            inner = call.args[0] if call.args and fname != "to" else getattr(call.func, "value", None)
            if dotted(inner) in self.models:
                self.models.add(name)

    @staticmethod
    def _param_owners(exprs: list[ast.expr | None], values: dict[str, list[ast.expr]]) -> set[str]:
        """Modules whose parameters the optimizer gets: `m.parameters()`, `m.head.parameters()`,
        `[{"params": m.parameters()}]`, a list built from `m.named_parameters()`, or a model passed
        to an optimizer factory. Local variables are followed two levels."""
        owners: set[str] = set()
        todo = [e for e in exprs if e is not None]
        seen: set[str] = set()
        for _ in range(3):
            more: list[ast.expr] = []
            for expr in todo:
                if isinstance(expr, (ast.Name, ast.Attribute)) and not isinstance(expr, ast.Call):
                    name = dotted(expr) or ""
                    if name.split(".")[-1].lower().endswith(("model", "net", "module")):
                        owners.add(name)
                for node in ast.walk(expr):
                    if isinstance(node, ast.Call) and func_name(node) in ("parameters", "named_parameters"):
                        owner = dotted(getattr(node.func, "value", None))
                        if owner:
                            owners.add(owner)
                    elif isinstance(node, ast.Name) and node.id not in seen:
                        seen.add(node.id)
                        more.extend(values.get(node.id, []))
            todo = more
        return owners

    def freezes(self) -> bool:
        """Does the file freeze parameters (`p.requires_grad = False`, `requires_grad_(False)`, an
        optimizer over `filter(lambda p: p.requires_grad, ...)`)? A frozen backbone is kept in
        eval mode on purpose (a linear probe), so its eval() during training is no mistake."""
        for node in self.nodes:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and node.value.value is False
            ):
                return True
            if isinstance(node, ast.Call) and func_name(node) == "requires_grad_" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and arg.value is False:
                    return True
            if isinstance(node, ast.Call) and func_name(node) == "filter" and "requires_grad" in ast.unparse(node):
                return True
        return False

    def only_parts_optimized(self, name: str) -> bool:
        """Are the optimizers' parameters all inside `name` (`model.fc`, `model.head` for
        `model`), so the rest of `name` is frozen?"""
        if not self.optimized_known or not self.optimized:
            return False
        name = self.resolve_alias(name.lstrip("?"))
        related = [self.resolve_alias(o) for o in self.optimized]
        related = [o for o in related if o == name or o.startswith(name + ".")]
        return bool(related) and all(o != name for o in related)

    def says_why(self, line: int, words: tuple[str, ...]) -> bool:
        """Does a comment or a string statement on `line` or the 8 lines above mention one of
        `words` (lower case)?"""
        strings = {
            n
            for node in self.nodes
            if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and line - 12 <= (node.end_lineno or node.lineno) <= line
            for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)
        }
        for number in range(max(1, line - 8), line + 1):
            if number > len(self.lines):
                break
            text = self.lines[number - 1]
            note = text if number in strings else text.partition("#")[2]
            if note and any(w in note.lower() for w in words):
                return True
        return False

    def is_optimized(self, name: str) -> bool | None:
        """Does an optimizer of this file update `name` (or a part of it, or a module holding it)?
        None when some optimizer's parameters cannot be traced."""
        if not self.optimized_known or not self.optimized:
            return None
        name = self.resolve_alias(name.lstrip("?"))
        for owner in self.optimized:
            owner = self.resolve_alias(owner)
            if name == owner or owner.startswith(name + ".") or name.startswith(owner + "."):
                return True
            if name.split(".")[-1] == owner.split(".")[-1]:
                return True  # `self.model = model` in an __init__ whose caller we do not see
        return False

    def values_of(self, scope: ast.AST) -> dict[str, list[ast.expr]]:
        """`local_values(scope)`, computed once per scope."""
        cache = self._values_cache
        if id(scope) not in cache:
            cache[id(scope)] = local_values(scope)
        return cache[id(scope)]

    def _scope_values(self, call: ast.Call) -> dict[str, list[ast.expr]]:
        scope = self.scope_of.get(id(call), self.tree)
        cache = self._values_cache
        if id(scope) not in cache:
            cache[id(scope)] = local_values(scope)
        return cache[id(scope)]

    def is_module_class(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        """True if user class `name` derives (directly or through user classes) from nn.Module."""
        for base in self.bases.get(name, []):
            last = base.split(".")[-1]
            if last in ("Module", "LightningModule") or (
                last in self.classes and last not in seen and self.is_module_class(last, seen | {name})
            ):
                return True
        return False

    def _aliases(self) -> None:
        """Map `self.x = param` in `__init__` to the argument each construction passes."""
        for var, cls_name in self.instances.items():
            init = self.methods.get((cls_name, "__init__"))
            if init is None:
                continue
            ctor = self.ctor_calls.get(var)
            if ctor is None:
                continue
            params = [a.arg for a in init.args.args[1:]]
            bound = {p: dotted(a) for p, a in zip(params, ctor.args, strict=False)}
            bound.update({k.arg: dotted(k.value) for k in ctor.keywords if k.arg})
            for stmt in ast.walk(init):
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name):
                    src = bound.get(stmt.value.id)
                    for target in stmt.targets:
                        name = dotted(target)
                        if src and name and name.startswith("self."):
                            old = self.aliases.get(name)
                            self.aliases[name] = src if old in (None, src) else ""

    def resolve_alias(self, name: str) -> str:
        """Follow `self.x` to the variable it was constructed from, when that is known."""
        return self.aliases.get(name) or name

    def sched_kind(self, name: str | None) -> str | None:
        """Cadence of scheduler variable `name`, or None if it is not a known scheduler.

        Falls back to the attribute name (`c.scheduler` -> any `.scheduler` built in the file)
        when the object holding it cannot be traced.
        """
        if not name:
            return None
        kind = self.schedulers.get(name) or self.schedulers.get(self.resolve_alias(name))
        if kind is None and "." in name:
            kind = self.schedulers.get("." + name.split(".")[-1])
        return kind

    def is_scheduler(self, name: str | None) -> bool:
        last = (name or "").split(".")[-1].lower()
        return self.sched_kind(name) is not None or "sched" in last

    def is_scaler(self, name: str | None) -> bool:
        last = (name or "").split(".")[-1].lower()
        return name in self.scalers or "scaler" in last

    def is_optimizer(self, name: str | None) -> bool:
        last = (name or "").split(".")[-1].lower()
        return (
            name in self.optimizers
            or self.resolve_alias(name or "") in self.optimizers
            or ("opt" in last and "sched" not in last)
        )

    def is_model(self, name: str | None) -> bool:
        if not name:
            return False
        last = name.split(".")[-1].lower()
        if is_verb_name(last):
            return False
        return (
            name in self.models
            or self.resolve_alias(name) in self.models
            or last.endswith(("model", "net", "network", "classifier"))
        )

    def mode_layers(self, model: str) -> str | bool | None:
        """Layers of `model` whose behaviour depends on train()/eval(), if its class is in this
        file: their names ("Dropout, BatchNorm2d"), False when it has none, None when unknown."""
        cls = self.instances.get(model) or self.instances.get(self.resolve_alias(model))
        if cls is None:
            built = {b for b in self.built_by.get(model, ()) if b in self.classes}
            cls = next(iter(built), None) if len(built) == 1 else None
        if cls is None:
            return None
        found: set[str] = set()
        todo, seen = [cls], set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.classes:
                continue
            seen.add(name)
            for node in ast.walk(self.classes[name]):
                if isinstance(node, ast.Call):
                    called = func_name(node)
                    path = dotted(node.func) or ""
                    if called in self.classes:
                        todo.append(called)
                    elif any(w in called.lower() for w in _MODE_WORDS):
                        found.add(called)
                    elif called[:1].isupper() and not path.startswith(("nn.", "torch.nn.")):
                        return None  # a module built by code we cannot see (resnet18(), Block())
                elif isinstance(node, ast.Attribute) and node.attr == "training":
                    found.add("self.training")
        return ", ".join(sorted(found)) if found else False

    def mentions_best(self, node: ast.AST) -> bool:
        return "best" in string_parts(node).lower()
