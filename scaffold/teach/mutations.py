"""Each catalogue mistake as a minimal text edit of the correct rendered train.py.

A mutation is a small function over `Source`, keyed by catalogue ID, plus the base answers it
needs (most use the defaults). Every edit locates its code line by the exact statement text and
insists that the statement occurs exactly once, so a template change that moves or rewrites a
statement fails loudly (MutationError) instead of producing a variant identical to the correct
loop. Comments never anchor an edit: annotations may change freely.

This module never imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class MutationError(RuntimeError):
    """A mutation no longer matches the template (a statement is missing or repeated)."""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class Source:
    """The lines of one rendered train.py, with the few edits the mutations need."""

    def __init__(self, text: str, bug_id: str, task: str = "tabular") -> None:
        self.lines = text.splitlines()
        self.bug_id = bug_id
        self.task = task  # the copier `task` the loop was rendered for (a few edits differ by task)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    # -- locating ----------------------------------------------------------------------------
    def find(self, statement: str) -> int:
        """Index of the one line whose code (stripped) is exactly `statement`."""
        hits = [i for i, line in enumerate(self.lines) if line.strip() == statement]
        if len(hits) != 1:
            raise MutationError(
                f"{self.bug_id}: expected exactly one line `{statement}` in train.py, found {len(hits)}"
            )
        return hits[0]

    def find_re(self, pattern: str) -> tuple[int, re.Match]:
        """Index and match of the one line whose code (stripped) fully matches `pattern`."""
        hits = [
            (i, m)
            for i, line in enumerate(self.lines)
            if (m := re.fullmatch(pattern, line.strip()))
        ]
        if len(hits) != 1:
            raise MutationError(
                f"{self.bug_id}: expected exactly one line matching `{pattern}`, found {len(hits)}"
            )
        return hits[0]

    def block_end(self, index: int) -> int:
        """Last line of the statement at `index` with its indented body (trailing blanks excluded)."""
        base = _indent(self.lines[index])
        end = index
        for j in range(index + 1, len(self.lines)):
            line = self.lines[j]
            if not line.strip():
                continue
            if _indent(line) <= base:
                break
            end = j
        return end

    def comments_above(self, index: int) -> int:
        """First line of the comment block (same indentation) directly above `index`."""
        start = index
        while start > 0:
            above = self.lines[start - 1]
            if above.strip().startswith("#") and _indent(above) == _indent(self.lines[index]):
                start -= 1
            else:
                break
        return start

    def enclosing(self, index: int) -> int:
        """Index of the statement whose body holds line `index`."""
        indent = _indent(self.lines[index])
        for j in range(index - 1, -1, -1):
            line = self.lines[j]
            if line.strip() and not line.strip().startswith("#") and _indent(line) < indent:
                return j
        raise MutationError(f"{self.bug_id}: line {index + 1} has no enclosing statement")

    # -- editing -----------------------------------------------------------------------------
    def note(self, indent: int, text: str) -> str:
        return " " * indent + f"# BUG({self.bug_id}): {text}"

    def replace(self, statement: str, new: str | list[str], why: str) -> None:
        """Replace one code line by `new` (a line, or several indented like it, where "" stays
        a blank line), marking it with a BUG comment above."""
        i = self.find(statement)
        pad = _indent(self.lines[i])
        lines = [new] if isinstance(new, str) else new
        self.lines[i : i + 1] = [self.note(pad, why)] + [" " * pad + n if n else "" for n in lines]

    def replace_line(self, index: int, new: str, why: str) -> None:
        pad = _indent(self.lines[index])
        self.lines[index : index + 1] = [self.note(pad, why), " " * pad + new]

    def delete(self, statement: str, why: str) -> None:
        """Delete one code line, leaving a BUG comment where it stood."""
        i = self.find(statement)
        self.lines[i] = self.note(_indent(self.lines[i]), f"{why} (deleted: `{statement}`)")

    def insert_after(self, statement: str, new: str, why: str) -> None:
        i = self.find(statement)
        pad = _indent(self.lines[i])
        self.lines[i + 1 : i + 1] = [self.note(pad, why), " " * pad + new]

    def move(self, start: int, end: int, anchor: int, where: str, why: str) -> None:
        """Move lines start..end (with the comment block above start) next to `anchor`.

        `where="before"` puts them above the anchor's own comment block, `"after"` below the
        anchor's whole block. The moved lines take the anchor's indentation.
        """
        first = self.comments_above(start)
        chunk = self.lines[first : end + 1]
        shift = _indent(self.lines[anchor]) - _indent(self.lines[start])
        anchor_line = self.lines[anchor]
        if where == "before":
            target_line = self.comments_above(anchor)
        elif where == "after":
            target_line = self.block_end(anchor) + 1
        else:
            raise ValueError(where)
        moved = [self.note(_indent(anchor_line), why)]
        for line in chunk:
            if not line.strip():
                moved.append("")
            elif shift >= 0:
                moved.append(" " * shift + line)
            else:
                if _indent(line) < -shift:
                    raise MutationError(f"{self.bug_id}: cannot dedent {line!r}")
                moved.append(line[-shift:])
        if first <= target_line <= end + 1:
            raise MutationError(f"{self.bug_id}: move target lies inside the moved lines")
        if target_line > end:
            self.lines[target_line:target_line] = moved
            del self.lines[first : end + 1]
        else:
            del self.lines[first : end + 1]
            self.lines[target_line:target_line] = moved

    def unwrap_with(self, statement: str, why: str) -> None:
        """Remove a `with ...:` line and dedent its body into the enclosing block."""
        i = self.find(statement)
        end = self.block_end(i)
        pad = _indent(self.lines[i])
        body = self.lines[i + 1 : end + 1]
        inner = min(_indent(line) for line in body if line.strip())
        shift = inner - pad
        self.lines[i : end + 1] = [self.note(pad, f"{why} (deleted: `{statement}`)")] + [
            line[shift:] if line.strip() else "" for line in body
        ]


@dataclass(frozen=True)
class Mutation:
    """How one catalogue mistake is made from the correct loop.

    Attributes:
        bug_id: The catalogue ID.
        apply: Edits a Source of the correct train.py in place.
        change: One sentence, what the edit does (for LESSON.md and the docs).
        base: Answers that differ from the defaults (the loop the mistake needs).
    """

    bug_id: str
    apply: Callable[[Source], None]
    change: str
    base: dict[str, Any] = field(default_factory=dict)


# --- the edits ------------------------------------------------------------------------------
ZERO_GRAD = "c.optimizer.zero_grad(set_to_none=True)"
BACKWARD = "loss.backward()"
OPT_STEP = "c.optimizer.step()"
CLIP = "grad_norm = torch.nn.utils.clip_grad_norm_(c.model.parameters(), cfg.grad_clip)"
SCHED_STEP = "c.scheduler.step()"


def _zero_grad_missing(s: Source) -> None:
    s.delete(ZERO_GRAD, "zero_grad() is gone, so backward() keeps adding into .grad")


def _zero_grad_after_backward(s: Source) -> None:
    i = s.find(ZERO_GRAD)
    s.move(i, i, s.find(BACKWARD), "after", "zero_grad() moved between backward() and step()")


def _clip_block(s: Source) -> tuple[int, int]:
    start = s.enclosing(s.find(CLIP))
    return start, s.block_end(start)


def _clip_before_backward(s: Source) -> None:
    start, end = _clip_block(s)
    s.move(start, end, s.find(BACKWARD), "before", "clipping moved above backward()")


def _clip_after_step(s: Source) -> None:
    start, end = _clip_block(s)
    s.move(start, end, s.find(OPT_STEP), "after", "clipping moved below optimizer.step()")


def _scheduler_in_batch_loop(s: Source) -> None:
    i = s.find(SCHED_STEP)
    s.move(i, i, s.find(OPT_STEP), "after", "the epoch scheduler now steps once per batch")


def _scheduler_before_optimizer_step(s: Source) -> None:
    i = s.find(SCHED_STEP)
    s.move(i, i, s.find(OPT_STEP), "before", "scheduler.step() moved above optimizer.step()")


def _missing_train_mode(s: Source) -> None:
    s.delete("c.model.train()", "train mode is no longer set at the start of the epoch")
    s.delete("c.model.train(was_training)", "evaluate() no longer restores the mode it found")


def _validation_in_train_mode(s: Source) -> None:
    s.delete("c.model.eval()", "validation no longer switches the model to eval mode")


def _validation_without_no_grad(s: Source) -> None:
    s.unwrap_with("with torch.no_grad():", "validation runs with autograd recording")


def _log_loss_tensor(s: Source) -> None:
    s.replace(
        "loss_sum += loss.detach() * y.numel()",
        "loss_sum += loss * y.numel()",
        "the live loss tensor (with its graph) is added, not a detached copy",
    )


# The dimension of the classes in the logits: (batch, classes) for tabular and image,
# (batch, time, vocabulary) for lm. A softmax over any other dimension would be a second mistake.
CLASS_DIM = {"lm": -1}


def _softmax_before_cross_entropy(s: Source) -> None:
    s.replace(
        "loss = c.criterion(logits, y)",
        f"loss = c.criterion(logits.softmax(dim={CLASS_DIM.get(s.task, 1)}), y)",
        "probabilities, not logits, go into CrossEntropyLoss",
    )


def _checkpoint_last_not_best(s: Source) -> None:
    save_best = s.find('save_atomic({**weights, MONITOR: metric}, out / "best.pt")')
    start = s.enclosing(save_best)  # the `if not cfg.dry_run:` inside the improvement branch
    end = s.block_end(start)
    save_last = s.find(
        'save_atomic(training_state(c, cfg, progress, train_loader.generator), out / "last.pt")'
    )
    s.move(
        start,
        end,
        s.enclosing(save_last),
        "before",
        "best.pt is written every epoch, improved or not",
    )


def _clip_without_unscale(s: Source) -> None:
    s.delete("c.scaler.unscale_(c.optimizer)", "the gradients are clipped while still scaled")


def _accumulation_loss_not_scaled(s: Source) -> None:
    _, match = s.find_re(r"share = loss \* \(.+\)")
    index = s.find(match.group(0))
    s.replace_line(index, "share = loss", "each micro-batch loss goes into backward() unscaled")


def _to_device_after_optimizer(s: Source) -> None:
    index, match = s.find_re(r"model = (build_model\(.+\))\.to\(device\)")
    s.replace_line(index, f"model = {match.group(1)}", "the model is built without moving it")
    s.insert_after(
        "optimizer = build_optimizer(model, cfg, device)",
        "model.to(device)",
        "moved to the device only after the optimizer holds its parameters",
    )


MUTATIONS: dict[str, Mutation] = {
    m.bug_id: m
    for m in (
        Mutation(
            "zero-grad-missing",
            _zero_grad_missing,
            "Deletes `c.optimizer.zero_grad(set_to_none=True)` from the batch loop.",
        ),
        Mutation(
            "zero-grad-after-backward",
            _zero_grad_after_backward,
            "Moves `zero_grad()` from before the forward pass to just after `loss.backward()`.",
        ),
        Mutation(
            "clip-before-backward",
            _clip_before_backward,
            "Moves the `clip_grad_norm_` block from after `loss.backward()` to just before it.",
        ),
        Mutation(
            "clip-after-step",
            _clip_after_step,
            "Moves the `clip_grad_norm_` block from before `optimizer.step()` to just after it.",
        ),
        Mutation(
            "scheduler-in-batch-loop",
            _scheduler_in_batch_loop,
            "Moves the epoch scheduler's `c.scheduler.step()` from the end of the epoch in `fit()` into the batch loop, after `optimizer.step()`.",
        ),
        Mutation(
            "scheduler-before-optimizer-step",
            _scheduler_before_optimizer_step,
            "Moves the per-step `c.scheduler.step()` from after `optimizer.step()` to just before it.",
            {"scheduler_cadence": "step"},
        ),
        Mutation(
            "missing-train-mode",
            _missing_train_mode,
            "Deletes both places that put the model back in training mode: `c.model.train()` at the start of each epoch and `c.model.train(was_training)` at the end of `evaluate()` (the template guards the mode twice, so the mistake needs both gone).",
        ),
        Mutation(
            "validation-in-train-mode",
            _validation_in_train_mode,
            "Deletes `c.model.eval()` from `evaluate()`.",
        ),
        Mutation(
            "validation-without-no-grad",
            _validation_without_no_grad,
            "Deletes `with torch.no_grad():` in `evaluate()` and dedents its body.",
        ),
        Mutation(
            "log-loss-tensor",
            _log_loss_tensor,
            "Changes `loss_sum += loss.detach() * y.numel()` to `loss_sum += loss * y.numel()`.",
        ),
        Mutation(
            "softmax-before-cross-entropy",
            _softmax_before_cross_entropy,
            "Changes `c.criterion(logits, y)` to `c.criterion(logits.softmax(dim=1), y)` "
            "(`dim=-1` for lm, whose logits are batch x time x vocabulary).",
        ),
        Mutation(
            "checkpoint-last-not-best",
            _checkpoint_last_not_best,
            "Moves the block that writes best.pt out of the `if improved(...)` branch, so it runs after every epoch.",
        ),
        Mutation(
            "clip-without-unscale",
            _clip_without_unscale,
            "Deletes `c.scaler.unscale_(c.optimizer)` before the clip (fp16 loop).",
            {"precision": "fp16"},
        ),
        Mutation(
            "accumulation-loss-not-scaled",
            _accumulation_loss_not_scaled,
            "Changes `share = loss * (y.numel() / window)` to `share = loss` (loop with accum_steps=4).",
            {"accum_steps": 4},
        ),
        Mutation(
            "validate-on-train-split",
            lambda s: s.replace(
                "val_loss, val_metric = evaluate(c, val_loader, max_batches)",
                "val_loss, val_metric = evaluate(c, train_loader, max_batches)",
                "validation reads the training loader",
            ),
            "Changes `evaluate(c, val_loader, ...)` to `evaluate(c, train_loader, ...)` in `fit()`.",
        ),
        Mutation(
            "to-device-after-optimizer",
            _to_device_after_optimizer,
            "Drops `.to(device)` from the model's construction and calls `model.to(device)` after the optimizer is built.",
        ),
    )
}


def mutate(text: str, bug_id: str, task: str = "tabular") -> str:
    """Apply the mutation for `bug_id` to the correct train.py (rendered for `task`) and return
    the variant.

    Raises:
        MutationError: the edit's statement is missing or repeated, or the edit changed nothing.
    """
    src = Source(text, bug_id, task)
    MUTATIONS[bug_id].apply(src)
    result = src.text
    if result == text:
        raise MutationError(f"{bug_id}: the mutation changed nothing")
    return result


# --- DDP mistakes (issue 13): their edits live in scaffold.teach.ddp_mutations ----------------
from scaffold.teach.ddp_mutations import DDP_MUTATIONS  # noqa: E402

MUTATIONS.update({entry[0]: Mutation(*entry) for entry in DDP_MUTATIONS})
