"""No import circles inside the `scaffold` package.

The graph is read from the source (every module parsed with `ast`, nothing imported): an edge for
every `import scaffold...` and `from ... import ...` that resolves to a module of the package,
relative or absolute, at module level or inside a function (a function-level import only delays
a circle, it does not remove it). `if TYPE_CHECKING:` imports count too: they still tie the two
modules' designs together. Each circle is reported with one path round it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Every package of scaffold/ is covered; a prefix here would exempt its internal circles.
EXCLUDED_PREFIXES: tuple[str, ...] = ()


def package_modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package `__init__`), for every module under root/package."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_package)
    return modules


def _owner(name: str, modules: dict[str, tuple[Path, bool]]) -> str | None:
    """The module `name` lives in: itself, or the nearest package above it that is a module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    modules = package_modules(root, package)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        here = name.split(".") if is_package else name.split(".")[:-1]
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets |= {_owner(alias.name, modules) for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:  # `from pkg import mod` imports the module pkg.mod
                    full = f"{source}.{alias.name}"
                    targets.add(full if full in modules else _owner(source, modules))
        graph[name] = {t for t in targets if t and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a closed path, first module repeated last) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the package is small, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_round(graph, component) for component in components]


def _path_round(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest closed path through the component's first module (breadth-first)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ in sorted(graph[node] & component):
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if succ not in came_from:
                    came_from[succ] = node
                    following.append(succ)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def _excluded(cycle: list[str]) -> bool:
    return all(module.startswith(EXCLUDED_PREFIXES) for module in cycle)


def test_no_import_circles_in_the_package():
    found = [c for c in cycles(import_graph(ROOT, "scaffold")) if not _excluded(c)]
    assert not found, "import circles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_graph_sees_relative_function_level_and_from_package_imports(tmp_path):
    pkg = tmp_path / "demo"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import thing\n")
    (pkg / "c.py").write_text("import demo.a\nthing = 1\n")
    (pkg / "d.py").write_text("from demo import c\n")  # into the circle, not part of it
    graph = import_graph(tmp_path, "demo")
    assert graph["demo.a"] == {"demo.sub.b"} and graph["demo.sub.b"] == {"demo.c"}
    assert graph["demo.c"] == {"demo.a"} and graph["demo.d"] == {"demo.c"}
    assert cycles(graph) == [["demo.a", "demo.sub.b", "demo.c", "demo.a"]]
    (pkg / "c.py").write_text("thing = 1\n")
    assert cycles(import_graph(tmp_path, "demo")) == []
