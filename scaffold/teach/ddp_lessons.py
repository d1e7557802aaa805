"""The prose of the DDP lessons, keyed by catalogue ID, merged into
scaffold.teach.lessons.LESSONS. Every variant is the ddp render (distributed=ddp) of the default
task, and every number is measured by the lesson's symptom test with 2 processes on gloo (CPU).

Each entry holds the fields of scaffold.teach.lessons.Lesson, which builds them; this module
imports nothing from it, so either can be imported first."""

from __future__ import annotations

_DDP_RUN = (
    "The symptom test starts the lesson's train.py as a 2-process job on CPU (gloo; RANK, "
    "WORLD_SIZE and MASTER_ADDR/PORT set as torchrun sets them) and, where a comparison needs it, "
    "as one process with twice the per-process batch. "
)

DDP_LESSONS: dict[str, dict[str, str]] = {
    "ddp-missing-set-epoch": dict(
        headline="{v[epochs]} epochs, {v[distinct_epoch_orders_per_rank][0]} distinct sample order per rank "
        "(correct loop: {c[distinct_epoch_orders_per_rank][0]})",
        symptom=_DDP_RUN + "It records the order in which each rank received its training samples in each "
        "epoch. Over {v[epochs]} epochs the broken loop produced {v[distinct_epoch_orders_per_rank]} distinct "
        "orders per rank: every epoch repeated epoch 1 exactly (first samples of rank 0, epoch by epoch: "
        "{v[first_samples_by_epoch_rank0]}). The correct loop produced {c[distinct_epoch_orders_per_rank]} "
        "distinct orders ({c[first_samples_by_epoch_rank0]}).",
        why="DistributedSampler (and the loop's ShardedBatches, which follows its contract) must give every "
        "rank the same permutation, so it cannot draw from each process's own random stream: it seeds a "
        "generator with seed + epoch. The epoch only changes when the loop calls `set_epoch(epoch)`. "
        "Without the call the seed is the same every epoch, so the permutation, the split into batches and "
        "each rank's shard repeat. Training still converges on easy data, but the batches are never "
        "reshuffled, which behaves like a fixed curriculum and weakens SGD's noise; with one process the "
        "same train.py reshuffles through its loader's generator, so the mistake only shows under torchrun.",
        spot="Print the first few sample indices of the first batch of each epoch on rank 0: they repeat. "
        "In the code, every shuffling `DistributedSampler` needs a `sampler.set_epoch(epoch)` at the top of "
        "the epoch loop (`scaffold check` flags a file that never calls it).",
    ),
    "ddp-scheduler-per-process": dict(
        headline="2 processes: lr {v[lr_by_epoch_two_processes][3]:.2e} at epoch 4 where one process has "
        "{v[lr_by_epoch_one_process][3]:.2e} (largest gap {v[max_relative_lr_gap]:.0%})",
        symptom=_DDP_RUN + "Both runs take {v[optimizer_steps_two_processes]} optimizer steps over {v[epochs]} "
        "epochs (cosine schedule, stepped per epoch). The lr at the first step of each epoch was "
        "{v[lr_by_epoch_one_process]} for one process and {v[lr_by_epoch_two_processes]} for two: the "
        "2-process run goes through the schedule twice as fast, reaches the schedule's end half-way and "
        "then climbs back up (CosineAnnealingLR is periodic). The largest relative gap was "
        "{v[max_relative_lr_gap]:.0%}. In the correct loop the two lists are identical (gap "
        "{c[max_relative_lr_gap]:g}).",
        why="Each process owns its own scheduler object, and all of them must follow the single-process "
        "trajectory: one `scheduler.step()` per optimizer step (or epoch) on every rank. Stepping it "
        "once per process, here an explicit loop over the world size, is what a wrapper does when it "
        "assumes the schedule was sized for one process's share of the steps (accelerate's prepared "
        "scheduler steps `num_processes` times per call unless told the batches are split). With a "
        "schedule sized for the real number of optimizer steps, the lr decays world-size times too fast.",
        spot="Log the lr per optimizer step and compare a 1-process run with an N-process run of the same "
        "global batch: the curves must coincide. The same train.py run as one process shows nothing, "
        "which is why this slips through single-GPU testing.",
    ),
    "ddp-padded-validation": dict(
        headline="{v[val_counted_total]} samples validated for a {v[val_size]}-sample split; val_loss off by "
        "{v[val_loss_relative_gap]:.1e} (relative)",
        symptom=_DDP_RUN + "Dropout is off, so both runs train the same weights. The validation split has "
        "{v[val_size]} samples, an odd number. The padding sampler gave the ranks {v[val_counted_per_rank]} "
        "samples, {v[val_counted_total]} in all: one sample counted twice. The all-reduced metrics then "
        "differ from the single process's exact ones: final val_loss {v[final_val_loss_two_processes]:.6f} "
        "vs {v[final_val_loss_one_process]:.6f} (relative gap {v[val_loss_relative_gap]:.1e}), val_acc "
        "{v[final_val_acc_two_processes]:.4f} vs {v[final_val_acc_one_process]:.4f}. The correct loop "
        "validates {c[val_counted_per_rank]} = {c[val_counted_total]} samples and agrees with one process to "
        "{c[val_loss_relative_gap]:.1e} (float32 summation order).",
        why="DistributedSampler gives every rank the same number of samples, so when the dataset size does "
        "not divide by the world size it appends samples from the start of the dataset until it does. "
        "Summing losses and counts over ranks then counts those samples twice. The error is at most "
        "world-1 samples, so it is small on big splits, but it makes N-process metrics differ from "
        "1-process metrics, breaks exact comparisons between runs of different sizes, and can flip a "
        "best-checkpoint or early-stopping decision. drop_last=True drops samples instead; exact metrics "
        "need disjoint shards without padding (what the correct loop does) or a pass over the remainder.",
        spot="Count the validation samples: all-reduce the count together with the sums and compare it with "
        "`len(val_set)`. Any mismatch is padding (or dropping).",
    ),
    "ddp-accumulation-without-no-sync": dict(
        headline="{v[allreduces_per_optimizer_step]:.2f} gradient all-reduces per optimizer step instead of "
        "{c[allreduces_per_optimizer_step]:.2f} ({v[samples_per_s]:.0f} vs {c[samples_per_s]:.0f} samples/s)",
        symptom=_DDP_RUN + "With accum_steps={v[accum_steps]}, a DDP communication hook counts the backward "
        "passes that all-reduce gradients. The broken loop all-reduced in {v[synced_backwards]} backward "
        "passes for {v[optimizer_steps]} optimizer steps ({v[allreduces_per_optimizer_step]:.2f} per step; "
        "fewer than 4 because the short tail window has fewer micro-batches); the correct loop in "
        "{c[synced_backwards]} for {c[optimizer_steps]} ({c[allreduces_per_optimizer_step]:.2f}). Training "
        "throughput was {v[samples_per_s]:.0f} vs {c[samples_per_s]:.0f} samples/s on this shared CPU "
        "(hidden=512; noisy, only indicative: on one machine gloo's all-reduce is a memory copy, across "
        "machines it is the network). The update is the same in exact arithmetic (averaging a partial "
        "sum over ranks and then adding the next micro-batch's local gradient averages to the same "
        "total); only the communication grows.",
        why="DDP all-reduces every gradient bucket at the end of each backward(). Under accumulation only "
        "the backward that ends a window needs it; `model.no_sync()` (or nanoGPT's "
        "`require_backward_grad_sync = False`) skips the all-reduce on the others, and the gradients "
        "accumulate locally. Without it each window pays accum_steps all-reduces of the whole model.",
        spot="Profile one optimizer step: the number of all-reduce calls should equal the number of "
        "gradient buckets, not buckets x accum_steps. `scaffold check` hints at a DDP file whose "
        "accumulating backward() runs outside `no_sync()`.",
    ),
}
