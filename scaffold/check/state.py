"""The abstract state the ordering rules track through a training loop, and its transfer functions.

A program point holds a *set* of states, one per path that reaches it; branches union their sets.
Most rules fire only when every state agrees (a "must" check), so a bug that hides behind a
condition the checker cannot read is missed rather than invented.
"""

from __future__ import annotations

from typing import NamedTuple

# Gradient lifecycle. "wiped" means zero_grad ran after backward but before any step read the
# gradients; it carries where that zero_grad is, so the finding can point at it.
EMPTY = "empty"
FRESH = "fresh"
USED = "used"
WIPED = "wiped"

Loc = tuple[int, int]


class State(NamedTuple):
    """One path's view of the training state.

    Attributes:
        grad: EMPTY (zeroed or never computed), FRESH (backward ran), USED (step read them) or
            WIPED (zeroed before step read them).
        wiped_at: Where the zero_grad that wiped fresh gradients is.
        scaled: Gradients come from `scaler.scale(loss).backward()` and are not unscaled yet.
        unscaled: `scaler.unscale_()` ran since the last scaled backward.
        evals: Models now in eval mode, each with the location of the eval() call.
        stepped: Loops (by id) whose current iteration has already run an optimizer step.
        backwarded: Loops (by id) whose current iteration has already run backward.
        clipped: A clip ran since the last backward (so it clips the gradients step will use).
        stale_clip: Where a clip ran that a later zero_grad or backward made pointless (clip,
            then backward, then step); cleared by step.
        wiped_by: The optimizer whose zero_grad() wiped them (None: a model's zero_grad(), which
            clears every parameter). Another optimizer's step is not affected: each optimizer
            owns only the parameters it was built with.
        conds: Branch conditions this path took, as (condition, value): a later `if` on the
            same condition takes the same branch, so `if train: backward()` ... `if train:
            step()` is not read as a path that steps without backward.
    """

    grad: str = EMPTY
    wiped_at: Loc | None = None
    scaled: bool = False
    unscaled: bool = False
    evals: frozenset[tuple[str, int, int]] = frozenset()
    stepped: frozenset[int] = frozenset()
    backwarded: frozenset[int] = frozenset()
    clipped: Loc | None = None
    stale_clip: Loc | None = None
    conds: frozenset[tuple[str, bool]] = frozenset()
    wiped_by: str | None = None


States = frozenset[State]
START: States = frozenset({State()})


def zero(s: State, loc: Loc, by: str | None = None) -> State:
    """zero_grad (of optimizer `by`, or of a model when None): fresh gradients become wiped;
    anything else becomes empty."""
    if s.grad == WIPED:
        return s._replace(wiped_by=s.wiped_by if s.wiped_by == by else None)
    if s.grad == FRESH:
        return s._replace(grad=WIPED, wiped_at=loc, wiped_by=by)
    return s._replace(grad=EMPTY, wiped_at=None, clipped=None, stale_clip=s.clipped or s.stale_clip)


def backward(s: State, scaled: bool, loops: tuple[int, ...]) -> State:
    """backward: gradients are fresh; a scaled backward makes them need unscale_ again."""
    return s._replace(
        grad=FRESH,
        wiped_at=None,
        scaled=scaled or (s.scaled and s.grad == FRESH),
        unscaled=False if scaled else s.unscaled,
        backwarded=s.backwarded | frozenset(loops),
        clipped=None,
        stale_clip=s.clipped or s.stale_clip,
    )


def clip(s: State, loc: Loc) -> State:
    """clip_grad_norm_ / clip_grad_value_. A clip of already-used gradients is clip-after-step's
    business, so it is not remembered as a clip of the next backward's gradients."""
    return s if s.grad == USED else s._replace(clipped=loc)


def step(s: State, loops: tuple[int, ...]) -> State:
    """optimizer.step / scaler.step: gradients are used; every open loop iteration has stepped."""
    return s._replace(
        grad=USED,
        wiped_at=None,
        scaled=False,
        unscaled=False,
        stepped=s.stepped | frozenset(loops),
    )


def set_mode(s: State, model: str, mode: str, loc: Loc) -> State:
    """model.train() / model.eval(); "unknown" (train(flag)) forgets what we knew."""
    evals = frozenset(e for e in s.evals if e[0] != model)
    if mode == "eval":
        evals |= {(model, *loc)}
    return s._replace(evals=evals)


def new_iteration(states: States, loop: int, varying: frozenset[str] = frozenset()) -> States:
    """Start of an iteration of `loop`: nothing has stepped or run backward in it yet, and the
    conditions in `varying` (they read variables the loop assigns) are unknown again."""
    if not varying and all(loop not in s.stepped and loop not in s.backwarded for s in states):
        return states
    return frozenset(
        s._replace(
            stepped=s.stepped - {loop},
            backwarded=s.backwarded - {loop},
            conds=frozenset(c for c in s.conds if c[0] not in varying) if varying and s.conds else s.conds,
        )
        for s in states
    )


def forget(states: States, prefix: str) -> States:
    """Drop the conditions recorded inside one function (their variables are its locals)."""
    if not any(s.conds for s in states):
        return states
    return frozenset(
        s._replace(conds=frozenset(c for c in s.conds if not c[0].startswith(prefix))) if s.conds else s for s in states
    )
