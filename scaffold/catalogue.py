"""The teaching catalogue: the one list of classic training-loop mistakes.

`scaffold teach`, `scaffold check` and `docs/teaching.md` all read this module, so an ID, its title
and its one-line explanation are written here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bug:
    """One classic mistake.

    Attributes:
        id: Stable identifier, shared by `teach` and `check` (kebab-case).
        title: Short human title.
        why: One sentence: what goes wrong when the loop makes this mistake.
        kind: "bug" (trains wrong), "hint" (low-confidence check) or "myth" (a popular claim
            that is mostly false; the lesson shows when it is harmless and when it is not).
    """

    id: str
    title: str
    why: str
    kind: str = "bug"


BUGS: tuple[Bug, ...] = (
    Bug(
        "zero-grad-missing",
        "zero_grad() is never called",
        "gradients add up across steps, so each update uses the sum of every batch so far",
    ),
    Bug(
        "zero-grad-after-backward",
        "zero_grad() between backward() and step()",
        "the gradients are wiped before the optimizer reads them, so step() does nothing useful",
    ),
    Bug(
        "clip-before-backward",
        "gradient clipping before backward()",
        "the clip sees the previous step's (or no) gradients; the new ones are never clipped",
    ),
    Bug(
        "clip-after-step",
        "gradient clipping after optimizer.step()",
        "the update has already used the unclipped gradients; the clip changes nothing",
    ),
    Bug(
        "scheduler-in-batch-loop",
        "an epoch scheduler stepped once per batch",
        "the learning rate decays len(loader) times faster than the schedule intends",
    ),
    Bug(
        "scheduler-before-optimizer-step",
        "scheduler.step() before optimizer.step()",
        "the first value of the schedule is skipped and PyTorch warns; the lr runs one step ahead",
    ),
    Bug(
        "missing-train-mode",
        "model.train() is never restored after validation",
        "dropout stays off and batchnorm stops updating its statistics for the rest of training",
    ),
    Bug(
        "validation-in-train-mode",
        "validation without model.eval()",
        "dropout is active and batchnorm uses and updates batch statistics during validation",
    ),
    Bug(
        "validation-without-no-grad",
        "validation without torch.no_grad() / inference_mode()",
        "autograd records a graph for every validation batch, wasting memory and time",
    ),
    Bug(
        "log-loss-tensor",
        "accumulating the loss tensor instead of loss.item()",
        "each step's graph stays referenced, so memory grows as steps pass",
    ),
    Bug(
        "softmax-before-cross-entropy",
        "softmax applied before CrossEntropyLoss",
        "CrossEntropyLoss already applies log-softmax; a second softmax squashes the gradients",
    ),
    Bug(
        "checkpoint-last-not-best",
        "saving the last epoch as the 'best' model",
        "the saved weights are whatever the final epoch produced, not the best validated ones",
        kind="hint",
    ),
    Bug(
        "clip-without-unscale",
        "clipping fp16-scaled gradients without scaler.unscale_()",
        "the threshold is compared with gradients multiplied by the loss scale, so it clips far too hard",
    ),
    Bug(
        "accumulation-loss-not-scaled",
        "gradient accumulation without dividing the loss",
        "the accumulated gradient is accum_steps times the large-batch gradient",
    ),
    Bug(
        "validate-on-train-split",
        "validating on the training data",
        "the reported accuracy measures memorisation and overestimates held-out accuracy",
    ),
    Bug(
        "to-device-after-optimizer",
        "moving or casting the model after building the optimizer",
        "usually harmless (parameters are converted in place); it bites with optimizer state "
        "loaded before the move or with the overwrite-on-conversion flag",
        kind="myth",
    ),
    # --- DDP mistakes: taught on the ddp render (distributed=ddp) of the default task,
    # measured with 2 processes on gloo (CPU).
    Bug(
        "ddp-missing-set-epoch",
        "DistributedSampler.set_epoch() never called",
        "the shuffle is seeded the same way every epoch, so every epoch visits the samples in the first epoch's order",
    ),
    Bug(
        "ddp-scheduler-per-process",
        "the scheduler stepped once per process for each optimizer step",
        "the learning rate runs world-size times faster through its schedule than one process would",
    ),
    Bug(
        "ddp-padded-validation",
        "validating through a padding DistributedSampler",
        "the sampler repeats samples until the set divides by the world size, so those are counted twice in the metrics",
    ),
    Bug(
        "ddp-accumulation-without-no-sync",
        "gradient accumulation under DDP without no_sync()",
        "every micro-batch's backward() all-reduces the gradients, not only the one that steps: same update, more communication",
        kind="hint",
    ),
)

BUGS_BY_ID: dict[str, Bug] = {bug.id: bug for bug in BUGS}


def get_bug(bug_id: str) -> Bug:
    """Return the catalogue entry for `bug_id`.

    Raises:
        KeyError: if the ID is not in the catalogue.
    """
    return BUGS_BY_ID[bug_id]


# --- Which task shows which mistake ---------------------------------------------------------
# train.py is the same loop for every task (copier's `task` answer changes data.py, model.py and
# the task's Config fields), so every mistake can be made on every task. Whether it *shows*
# depends on the model: a mode mistake (train()/eval()) matters only through layers that behave
# differently in the two modes. This table is the one place that says which task has which, and
# which mistakes need them; `scaffold teach`, docs/teaching.md and docs/check.md read it, and
# tests/teach/test_tasks.py checks it against the models each task renders.

MODE_LAYERS: dict[str, tuple[str, ...]] = {
    "tabular": ("dropout",),  # the MLP: dropout 0.1; BatchNorm1d is an option, off by default
    "image": ("dropout", "batchnorm"),  # resnet_small: BatchNorm2d per convolution, head dropout
    "lm": ("dropout",),  # the transformer: dropout; LayerNorm keeps no running statistics
}
"""The mode-dependent layers each task's default model has (the task's teaching render)."""

NEEDS_MODE_LAYER: dict[str, tuple[str, ...]] = {
    "missing-train-mode": ("dropout", "batchnorm"),
    "validation-in-train-mode": ("dropout", "batchnorm"),
}
"""Mistakes that show only through one of these layers (any of them); every other mistake shows
on every task."""

MEASURED_ON = "tabular"
"""The task whose render every measured symptom (scaffold/teach/measured.json) comes from."""


def teaching_tasks() -> tuple[str, ...]:
    """Every task, in copier.yml's order (tests check the table against its choices)."""
    return tuple(MODE_LAYERS)


def shown_by(bug_id: str, task: str) -> tuple[str, ...]:
    """The layers of `task`'s model through which `bug_id` shows (empty: it needs none)."""
    needed = NEEDS_MODE_LAYER.get(bug_id, ())
    return tuple(layer for layer in MODE_LAYERS[task] if layer in needed)


def applies(bug_id: str, task: str) -> bool:
    """Whether `task`'s teaching render shows `bug_id` (every task, unless it needs a layer)."""
    return bug_id not in NEEDS_MODE_LAYER or bool(shown_by(bug_id, task))


def tasks_for(bug_id: str) -> tuple[str, ...]:
    """The tasks where `bug_id` applies, in copier.yml's order."""
    return tuple(task for task in teaching_tasks() if applies(bug_id, task))


def applicability(bug_id: str) -> str:
    """One line for the docs: the tasks `bug_id` renders for and, for mode mistakes, through what."""
    tasks = tasks_for(bug_id)
    if bug_id not in NEEDS_MODE_LAYER:
        return f"every task ({', '.join(tasks)})"
    shown = "; ".join(f"{task} ({' and '.join(shown_by(bug_id, task))})" for task in tasks)
    missing = [task for task in teaching_tasks() if task not in tasks]
    needs = " or ".join(NEEDS_MODE_LAYER[bug_id])
    tail = f"; not {', '.join(missing)}, whose model has no {needs}" if missing else ""
    return f"needs {needs}: {shown}{tail}"
