"""The checker package's shape: no import circle, one registry record per rule, no dev tooling."""

from __future__ import annotations

import ast
from pathlib import Path

from scaffold.catalogue import BUGS
from scaffold.check import registry
from scaffold.check.registry import RULES

PACKAGE = Path(__file__).resolve().parents[2] / "scaffold" / "check"


def _imports(path: Path) -> set[str]:
    """The `scaffold.check` modules one file imports at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("scaffold.check"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("scaffold.check"))
    modules = {f"scaffold.check.{p.stem}" for p in PACKAGE.glob("*.py")} | {"scaffold.check"}
    name = "scaffold.check" if path.stem == "__init__" else f"scaffold.check.{path.stem}"
    return {m if m != "scaffold.check.__init__" else "scaffold.check" for m in found if m in modules} - {name}


def _graph() -> dict[str, set[str]]:
    return {
        ("scaffold.check" if p.stem == "__init__" else f"scaffold.check.{p.stem}"): _imports(p)
        for p in PACKAGE.glob("*.py")
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle_in_the_checker() -> None:
    graph = _graph()
    assert "scaffold.check.flow" in graph["scaffold.check.engine"]  # the graph sees real edges
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_cycle_finder_finds_a_planted_circle() -> None:
    graph = _graph()
    graph["scaffold.check.state"] = graph["scaffold.check.state"] | {"scaffold.check.flow"}
    assert _cycle(graph) is not None


def test_package_init_only_re_exports() -> None:
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    assert not [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def test_one_registry_record_per_rule() -> None:
    assert len(registry._RULES) == len(RULES), "two records for one rule ID"
    assert set(RULES) == {bug.id for bug in BUGS}
    for rule in RULES.values():
        assert rule.bug.id == rule.id and rule.catches and rule.misses and rule.example
        assert rule.severity in ("error", "hint") and rule.default_confidence in ("high", "medium", "low")


def test_development_tooling_is_not_in_the_package() -> None:
    assert not {"evaluate.py", "evaldocs.py", "ruledocs.py"} & {p.name for p in PACKAGE.glob("*.py")}
