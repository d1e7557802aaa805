"""Functions a file imports from its own project, found on disk so the rules can follow them.

`from engine import evaluate` (or `from .engine import evaluate`, `import engine` then
`engine.evaluate(...)`) hides what `evaluate` does from a one-file analysis: whether it calls
`model.eval()`, runs under no_grad, or steps the optimizer. When the checked file is on disk and the
module is a sibling (or sits in the same package tree), its definitions are parsed and handed to
the rules, which walk them with reporting off: their own findings belong to their own file.

The search is bounded (a few modules deep, a few dozen files) and every parse is cached by path,
size and modification time, so a project checked file by file parses each module once.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

FuncDef = ast.FunctionDef | ast.AsyncFunctionDef

# How many import hops are followed from the checked file, how many folders up a package root may
# sit, and how many modules one file may pull in: enough for `main.py -> engine.py -> utils.py`.
MAX_DEPTH = 2
_MAX_UP = 3
_MAX_FILES = 24
_MAX_BYTES = 2_000_000


def candidates(module: str, level: int, folder: str) -> list[str]:
    """Relative paths (POSIX, may start with `../`) where `module` could live, nearest first.

    Args:
        module: The dotted module name of the import (`engine`, `util.misc`); may be "".
        level: Leading dots of a relative import (0 for an absolute one).
        folder: The importing file's folder, relative to wherever the caller resolves paths.
    """
    parts = [p for p in module.split(".") if p]
    if level:
        bases = [_up(folder, level - 1)]
    else:
        bases = [_up(folder, n) for n in range(_MAX_UP + 1)]
    out: list[str] = []
    for base in bases:
        if base is None or not parts:
            continue
        stem = "/".join([base, *parts]) if base else "/".join(parts)
        out += [stem + ".py", stem + "/__init__.py"]
    return out


def _up(folder: str, n: int) -> str | None:
    parts = [p for p in folder.split("/") if p and p != "."]
    return "/".join(parts[: len(parts) - n]) if n <= len(parts) else None


def imported_names(tree: ast.Module) -> list[tuple[str, int, str, str]]:
    """`(module, level, name in that module or "", local alias)` for every top-level import.

    `import engine` gives `("engine", 0, "", "engine")`: its functions are reached as
    `engine.name`.
    """
    out: list[tuple[str, int, str, str]] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    out.append((node.module or "", node.level, alias.name, alias.asname or alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if "." not in alias.name or alias.asname:
                    out.append((alias.name, 0, "", alias.asname or alias.name))
    return out


def module_files(tree: ast.Module, folder: str, exists: Callable[[str], bool]) -> list[str]:
    """The project files `tree` imports from (relative paths found by `exists`), nearest first."""
    found: list[str] = []
    for module, level, name, _ in imported_names(tree):
        paths = candidates(module, level, folder)
        if name and module == "" and level:
            paths = candidates(name, level, folder)  # `from . import engine`
        hit = next((p for p in paths if exists(p)), None)
        if hit is None and name:
            hit = next((p for p in candidates(f"{module}.{name}", level, folder) if exists(p)), None)
        if hit is not None and hit not in found:
            found.append(hit)
    return found


@lru_cache(maxsize=256)
def _parse(path: str, size: int, mtime: int) -> ast.Module | None:
    """A module's tree, cached by path, size and modification time (None when it does not parse)."""
    del size, mtime  # part of the cache key only
    try:
        return ast.parse(Path(path).read_bytes(), filename=path)
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
        return None


def _load(path: str) -> ast.Module | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    if info.st_size > _MAX_BYTES:
        return None
    return _parse(path, info.st_size, info.st_mtime_ns)


def _exists(root: str) -> Callable[[str], bool]:
    def check(rel: str) -> bool:
        return os.path.isfile(os.path.normpath(os.path.join(root, rel)))

    return check


# A followed function longer than this (in AST nodes) is not followed: what it does to the model
# is rarely the point, and walking it on every call would cost more than the checked file.
_MAX_NODES = 1500


@lru_cache(maxsize=256)
def _definitions_of(tree: ast.Module) -> tuple[tuple[str, FuncDef], ...]:
    return tuple(
        (n.name, n)
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and sum(1 for _ in ast.walk(n)) <= _MAX_NODES
    )


def _definitions(tree: ast.Module) -> dict[str, FuncDef]:
    return dict(_definitions_of(tree))


def imported_functions(tree: ast.Module, path: str) -> dict[str, FuncDef]:
    """Local name -> definition, for functions `tree` (the file at `path`) imports from its project.

    Keys are the names the checked file calls them by: `evaluate` for `from engine import
    evaluate`, `engine.evaluate` for `import engine`. Functions of an imported module that the
    file does not import by name are included under their own name too (unless the file defines
    that name), so a followed function can call its own module's helpers. Nothing is returned
    when `path` is not a file on disk.
    """
    if not os.path.isfile(path):
        return {}
    found: dict[str, FuncDef] = {}
    direct: set[str] = set()  # names the checked file itself imports
    seen = {os.path.abspath(path)}
    frontier = [(os.path.abspath(path), tree, True)]
    for depth in range(MAX_DEPTH):
        nxt: list[tuple[str, ast.Module, bool]] = []
        for file, module_tree, top in frontier:
            folder = os.path.dirname(file)
            exists = _exists(folder)
            for module, level, name, alias in imported_names(module_tree):
                rels = candidates(name if (module == "" and level) else module, level, "")
                hit = next((r for r in rels if exists(r)), None)
                if hit is None and name:
                    hit = next((r for r in candidates(f"{module}.{name}", level, "") if exists(r)), None)
                    name = "" if hit else name
                if hit is None:
                    continue
                target = os.path.abspath(os.path.join(folder, hit))
                if len(seen) >= _MAX_FILES and target not in seen:
                    continue
                sub = _load(target)
                if sub is None:
                    continue
                defs = _definitions(sub)
                if top:
                    if name and not (module == "" and level) and name in defs:
                        found.setdefault(alias, defs[name])
                        direct.add(alias)
                    elif not name or (module == "" and level):
                        for fname, fn in defs.items():
                            found.setdefault(f"{alias}.{fname}", fn)
                            direct.add(f"{alias}.{fname}")
                for fname, fn in defs.items():
                    found.setdefault(fname, fn)
                if target not in seen:
                    seen.add(target)
                    nxt.append((target, sub, False))
        frontier = nxt
        if not frontier or depth + 1 >= MAX_DEPTH:
            break
    own = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    elsewhere = {alias for *_, alias in imported_names(tree)} - set(direct)
    return {k: v for k, v in found.items() if k not in own and (k in direct or k not in elsewhere)}
