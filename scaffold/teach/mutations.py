"""Each catalogue mistake as a minimal text edit of the correct rendered train.py.

A mutation is a small function over `Source`, keyed by catalogue ID, plus the base answers it
needs (most use the defaults). Every edit locates its code line by the exact statement text and
insists that the statement occurs exactly once, so a template change that moves or rewrites a
statement fails loudly (MutationError) instead of producing a variant identical to the correct
loop. Comments never anchor an edit: annotations may change freely.

This module never imports torch.
"""

from __future__ import annotations

from scaffold.teach.ddp_mutations import DDP_MUTATIONS
from scaffold.teach.edits import Mutation, MutationError, Source

__all__ = ["MUTATIONS", "Mutation", "MutationError", "Source", "mutate"]


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


# The DDP mistakes: their edits live in scaffold.teach.ddp_mutations.
MUTATIONS.update({entry[0]: Mutation(*entry) for entry in DDP_MUTATIONS})
