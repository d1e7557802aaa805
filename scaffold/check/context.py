"""What the ordering rules' walk carries beside the gradient states: the loops and functions
being walked, and the `Ctx` (position, autograd mode, variable bindings).

Both the interpreter (`flow`) and the checks it runs (`checks`) read these, so they live in this
leaf module rather than in either of them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import scaffold.check.state as st
from scaffold.check.index import FuncDef


class LoopFrame:
    """One loop being walked: what it is, plus where its `break`/`continue` states go."""

    def __init__(
        self,
        node: ast.For | ast.AsyncFor | ast.While,
        kind: str,
        val: bool,
        effects: frozenset[str],
    ):
        self.node = node
        self.id = id(node)
        self.kind = kind  # "epoch", "batch" or "other"
        self.val = val  # iterates held-out data
        self.effects = effects
        self.breaks: set[st.State] = set()
        self.continues: set[st.State] = set()


class FuncFrame:
    """One function being walked: its definition and the states its `return`s leave."""

    def __init__(self, fn: FuncDef | None):
        self.fn = fn
        self.returns: set[st.State] = set()


@dataclass(frozen=True)
class Ctx:
    """What the walk knows beyond the state: position, autograd mode, variable bindings."""

    report: bool = True
    grad_off: bool | None = False  # None: set_grad_enabled(expr), unknown
    nograd_depth: int = 0  # how many loops were open when autograd was switched off
    loops: tuple[LoopFrame, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cls: str | None = None
    # Walking a function nothing in the file calls: its caller (and the model's mode) is unknown.
    root: bool = False
    val_data: bool = False  # called once per item of held-out data (from a comprehension)
    frames: tuple[FuncFrame, ...] = field(default_factory=lambda: (FuncFrame(None),))
    # Inside a function imported from another file: where this file calls it. Events there
    # (an eval(), a zero_grad) are located at that call, the only place this file can point at.
    site: tuple[int, int] | None = None
