"""The DDP mistakes of the catalogue as minimal edits of the ddp render's train.py.

Each variant is the default task rendered with `distributed=ddp`; the edit touches one DDP hook
line (annotated `# [ddp]` in train.py). Like scaffold.teach.mutations, every edit is anchored on
the exact statement text and fails loudly (MutationError) when the template moves it.
scaffold.teach.mutations builds its Mutation entries from DDP_MUTATIONS; the edits are written
against `scaffold.teach.edits.Source`, so this module does not import scaffold.teach.mutations.
No torch.
"""

from __future__ import annotations

from typing import Any

from scaffold.teach.edits import Source

DDP = {"distributed": "ddp"}
SET_EPOCH = "train_loader.batch_sampler.set_epoch(epoch)"
SCHED_STEP = "c.scheduler.step()"
SHARD_VAL = "return Subset(dataset, range(rank(), len(dataset), world_size()))"
NO_SYNC = "with maybe_no_sync(c.net, sync=window_end):"


def _missing_set_epoch(s: Source) -> None:
    s.delete(
        SET_EPOCH, "the epoch no longer reaches the sampler, so its shuffle seed never changes"
    )


def _scheduler_per_process(s: Source) -> None:
    s.replace(
        SCHED_STEP,
        ["for _ in range(world_size()):", "    " + SCHED_STEP],
        "one step per process, as if each process owned a share of the schedule",
    )


def _padded_validation(s: Source) -> None:
    s.replace(
        SHARD_VAL,
        [
            "from torch.utils.data import DistributedSampler",
            "",
            "val_sampler = DistributedSampler(dataset, shuffle=False)",
            "return Subset(dataset, list(val_sampler))",
        ],
        "DistributedSampler pads the split to a multiple of the world size",
    )


def _accumulation_without_no_sync(s: Source) -> None:
    s.replace(
        NO_SYNC,
        "with contextlib.nullcontext():",
        "no no_sync(): every micro-step's backward() all-reduces the gradients",
    )


# (bug_id, edit, change, base answers), as Mutation takes them
DDP_MUTATIONS: tuple[tuple[str, Any, str, dict[str, Any]], ...] = (
    (
        "ddp-missing-set-epoch",
        _missing_set_epoch,
        "Deletes `train_loader.batch_sampler.set_epoch(epoch)` from the epoch loop in `fit()` (ddp render).",
        DDP,
    ),
    (
        "ddp-scheduler-per-process",
        _scheduler_per_process,
        "Wraps the epoch scheduler's `c.scheduler.step()` in `for _ in range(world_size()):` (ddp render): what a wrapper that steps the scheduler once per process does.",
        DDP,
    ),
    (
        "ddp-padded-validation",
        _padded_validation,
        "Replaces the unpadded validation shard `Subset(dataset, range(rank(), len(dataset), world_size()))` by the indices of `DistributedSampler(dataset, shuffle=False)` (ddp render).",
        DDP,
    ),
    (
        "ddp-accumulation-without-no-sync",
        _accumulation_without_no_sync,
        "Replaces `with maybe_no_sync(c.net, sync=window_end):` around the micro-step by `with contextlib.nullcontext():` (ddp render, accum_steps=4).",
        {**DDP, "accum_steps": 4},
    ),
)
