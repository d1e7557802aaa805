"""The prose of each lesson, keyed by catalogue ID, with slots for the measured numbers.

`{v[key]}` is the variant's measurement and `{c[key]}` the correct loop's, both from
measured.json (written by `python -m tools.teach_measure` in the repository). Titles and one-line
explanations come from scaffold.catalogue; the edit itself from scaffold.teach.mutations.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.catalogue import (
    BUGS,
    MEASURED_ON,
    NEEDS_MODE_LAYER,
    get_bug,
    shown_by,
    tasks_for,
    teaching_tasks,
)
from scaffold.teach.course import MEASURE_COMMAND, course_ids, measured
from scaffold.teach.ddp_lessons import DDP_LESSONS
from scaffold.teach.mutations import MUTATIONS


@dataclass(frozen=True)
class Lesson:
    headline: str  # one line with the key number (course index, docs, --list)
    symptom: str  # what the test measured, with numbers
    why: str  # the mechanism
    spot: str  # how to notice it in a real run
    references: str = ""  # where the reference texts are right, wrong or exaggerate
    tasks: str = ""  # how the symptom differs between the tasks' models (mode mistakes)


LESSONS: dict[str, Lesson] = {
    "zero-grad-missing": Lesson(
        headline="step 2 applied batch 1 + batch 2 (relative error {v[step2_vs_sum_of_two_rel_err]:.1e}); "
        "the applied gradient norm grew from {v[grad_norm_first_step]:.2f} to {v[grad_norm_last_step]:.2f} in {v[steps]} steps",
        symptom="With dropout and clipping off, the test records the gradient that `optimizer.step()` "
        "receives at the second step and recomputes gradients from scratch in float64. In the broken loop "
        "it matches the sum of the first two batches' gradients to a relative error of "
        "{v[step2_vs_sum_of_two_rel_err]:.1e}, and differs from batch 2's own gradient by "
        "{v[step2_vs_own_batch_rel_err]:.0%}. The correct loop is the mirror image: it matches batch 2 alone "
        "({c[step2_vs_own_batch_rel_err]:.1e}). Over the first {v[steps]} steps the norm of the applied "
        "gradient rose from {v[grad_norm_first_step]:.2f} to {v[grad_norm_last_step]:.2f} "
        "(correct loop: {c[grad_norm_last_step]:.2f} at the same step), because each step adds one more "
        "batch to a running total.",
        why="`backward()` never overwrites `.grad`; it adds to whatever is there. Clearing is the loop's job. "
        "Without it, step k applies the sum of all k gradients computed so far, each taken at older weights, "
        "so the update direction is dominated by stale history and its size grows with the step count.",
        spot="Log the global gradient norm each step: it creeps upward roughly in proportion to the step "
        "count instead of hovering. Gradient clipping (on by default here) hides the growth in the update "
        "size but not the stale direction. A search for `zero_grad` in the batch loop settles it.",
        references="All three texts describe this correctly. The tutorial's incident (training loss going "
        "down while validation stays near chance) is one possible outcome, not a guaranteed one; what is "
        "guaranteed is the sum measured above.",
    ),
    "zero-grad-after-backward": Lesson(
        headline="{v[steps_without_gradients]} of {v[steps]} steps found no gradients; the weights moved by "
        "{v[max_weight_change]:g} and val loss stayed at {v[val_loss_after]:.3f}",
        symptom="Over {v[epochs]} epochs ({v[steps]} optimizer steps) every step found `.grad` empty on every "
        "parameter, and the largest change of any weight was {v[max_weight_change]:g}. Validation loss was "
        "{v[val_loss_before]:.4f} before training and {v[val_loss_after]:.4f} after it (chance level for three "
        "classes is ln 3 = 1.0986). The correct loop reached {c[val_loss_after]:.3f} and "
        "{c[val_acc_after]:.0%} accuracy in the same run.",
        why="`zero_grad(set_to_none=True)` between `backward()` and `step()` deletes the gradients the step "
        "was about to use. Optimizers skip parameters whose `.grad` is None, so AdamW does not even apply "
        "its weight decay: nothing changes at all. (With `set_to_none=False` the step would see zeros "
        "instead; AdamW would then only decay the weights.)",
        spot="The training loss is flat from the very first epoch and the weights are bit-identical between "
        "checkpoints. Printing gradient norms right before `step()` shows None or zero.",
        references="The essay's crib sheet lists zero_grad after backward() as making gradients from "
        "several batches accumulate. That describes a *missing* zero_grad. Placed between backward() "
        "and step(), as here, the measured effect is the opposite: the step sees no gradient, so nothing "
        "is learned. (A zero_grad at the end of the iteration, after step(), is correct.)",
    ),
    "clip-before-backward": Lesson(
        headline="the clip saw a gradient norm of {v[norm_seen_by_clip_max]:g}; all {v[steps]} steps applied "
        "unclipped gradients (mean norm {v[norm_applied_by_step_mean]:.2f} vs threshold {v[threshold]})",
        symptom="With a threshold of {v[threshold]} (chosen so the correct loop clips every step), the clip "
        "call reported a total norm of {v[norm_seen_by_clip_max]:g}: with `set_to_none=True` there are no "
        "gradients yet when it runs. All {v[steps]} steps then applied unclipped gradients, mean norm "
        "{v[norm_applied_by_step_mean]:.2f} and max {v[norm_applied_by_step_max]:.2f}. In the correct loop "
        "every step applied exactly {c[norm_applied_by_step_max]:.3f}.",
        why="Clipping rescales whatever `.grad` holds at the moment it runs. Before `backward()` that is "
        "nothing (set_to_none) or the previous step's gradients, which are about to be discarded or "
        "added to. The fresh gradients arrive afterwards and reach `step()` untouched.",
        spot="Log the value `clip_grad_norm_` returns. A constant 0 (or a value that lags one step behind "
        "the loss) means the clip runs at the wrong time. Loss spikes that clipping should have prevented "
        "are the symptom in a long run.",
        references="The essay and the note are right that the call does nothing useful here; the test shows "
        "the returned norm is exactly 0 because the gradients were set to None.",
    ),
    "clip-after-step": Lesson(
        headline="all {v[steps]} steps applied unclipped gradients (max norm {v[norm_applied_by_step_max]:.2f} vs "
        "threshold {v[threshold]}); the clip then trimmed gradients that were already used",
        symptom="With the threshold at {v[threshold]}, every one of the {v[steps]} steps applied the raw gradient "
        "(mean norm {v[norm_applied_by_step_mean]:.2f}, max {v[norm_applied_by_step_max]:.2f}). The clip still "
        "ran and reported those same norms, but only after `step()` had consumed them, and the next "
        "`zero_grad()` threw its work away. The correct loop applied {c[norm_applied_by_step_max]:.3f} at every step.",
        why="The optimizer reads `.grad` inside `step()`. Anything done to the gradients afterwards changes "
        "nothing about the update that was just made.",
        spot="The clip's returned norm is often above the threshold, yet the run behaves exactly as with "
        "clipping off (same loss spikes, bit-identical weights with grad_clip=0).",
        references="The essay states this correctly.",
    ),
    "scheduler-in-batch-loop": Lesson(
        headline="after epoch 1 the lr was {v[lr_after_epoch_1]:.3g}, the schedule's value at "
        "{v[batches_per_epoch]} epochs, instead of {c[lr_after_epoch_1]:.3g}",
        symptom="A {v[epochs]}-epoch cosine schedule with {v[batches_per_epoch]} batches per epoch: after the "
        "first epoch the broken loop logged lr {v[lr_after_epoch_1]:.4g}, exactly the value the schedule "
        "intends after {v[batches_per_epoch]} epochs ({v[schedule_at_len_loader_epochs]:.4g}), while the "
        "correct loop logged {c[lr_after_epoch_1]:.4g}. Because CosineAnnealingLR is periodic past T_max, "
        "the broken lr then swings between near zero and the peak: per epoch it read {v[lr_by_epoch]}.",
        why="An epoch schedule counts calls to `step()` as epochs. Called once per batch, it advances "
        "len(loader) epochs for every real one, so its whole horizon is used up in epochs/len(loader) epochs.",
        spot="Log the lr every epoch (metrics.csv does) and compare it with the schedule you meant. An lr that "
        "hits its minimum after a few epochs, or oscillates, gives it away.",
        references="The essay's description (decays len(loader) times per epoch) matches the measurement. "
        "It leaves out what happens after the horizon: cosine annealing does not stay at its minimum, "
        "it climbs back up, as the numbers above show.",
    ),
    "scheduler-before-optimizer-step": Lesson(
        headline="the first update used lr {v[first_update_lr]:.6g} instead of {v[schedule_first_value]:.6g}; "
        "(PyTorch's order warning fired: {v[warned]})",
        symptom="In a per-step cosine loop the learning rates used by the first four updates were "
        "{v[lr_used_by_steps]}, the schedule shifted by one: the intended first value {v[schedule_first_value]} "
        "was never used (correct loop: {c[lr_used_by_steps]}). PyTorch emitted its order warning "
        '("{v[warning]}...").',
        why="`scheduler.step()` moves the lr to the next value immediately. Called before the optimizer "
        "step, every update runs one value ahead of the schedule.",
        spot='Watch for PyTorch\'s "Detected call of `lr_scheduler.step()` before `optimizer.step()`" '
        "warning at the first step. For warmup schedules the effect is largest: the first value (often "
        "zero or tiny) is skipped.",
        references="The tutorial's advice to step per-update schedulers after optimizer.step() is right. "
        "The size of the damage is small for smooth schedules (one value of shift), as measured; it "
        "matters for warmup starts and for exact reproducibility.",
    ),
    "missing-train-mode": Lesson(
        headline="{v[training_batches_in_eval_mode]} of {v[training_batches]} training batches ran in eval mode "
        "(share per epoch {v[eval_mode_share_by_epoch]})",
        symptom="Over {v[epochs]} epochs, {v[training_batches_in_eval_mode]} of {v[training_batches]} training "
        "forward passes ran with the model in eval mode: the share per epoch was "
        "{v[eval_mode_share_by_epoch]}. Only the first epoch, before any validation, trained as intended; "
        "dropout (p={v[dropout]}) was off for the rest. The correct loop: {c[training_batches_in_eval_mode]}.",
        why="`model.eval()` is a switch that stays set. Validation turns it on; unless something turns it "
        "back, every later training batch runs with dropout disabled and batchnorm using (and no longer "
        "updating) its running statistics. Nothing raises.",
        spot="Training loss drops noticeably right after the first validation (dropout just went away) and "
        "the train/val gap behaves as if regularisation were off. Assert `model.training` inside the "
        "training step, as this project's generated tests do.",
        references="The template guards the mode twice (train() at the start of each epoch and a restore at "
        "the end of evaluate()), so this variant had to remove both lines: one alone is harmless here.",
        tasks="The measurement counts forward passes in eval mode, which is the same on every task; what "
        "the eval mode then costs differs. On lm it switches off dropout in the embeddings, the residual "
        "branches and attention (the model passes dropout_p=0 to scaled_dot_product_attention in eval "
        "mode). On image it also freezes BatchNorm2d's running statistics, which stop tracking the "
        "training data.",
    ),
    "validation-in-train-mode": Lesson(
        headline="the same weights gave val losses spread over {v[val_loss_spread]:.4f} across 5 calls; "
        "batchnorm running means moved by up to {v[batchnorm_running_mean_drift]:.3f}",
        symptom="With batchnorm and dropout enabled, five validations of the same weights returned "
        "{v[val_losses_same_weights]} (spread {v[val_loss_spread]:.4f}); the correct loop returned "
        "{c[val_losses_same_weights][0]:.4f} every time. Each validation also moved batchnorm's running "
        "mean by up to {v[batchnorm_running_mean_drift]:.3f}, so validation data leaked into the model's "
        "statistics without any gradient step.",
        why="In train mode dropout samples fresh masks on every call and batchnorm normalises with the "
        "current batch and updates its running estimates. Validation then measures a noisy, different "
        "model and changes the one it is supposed to measure.",
        spot="Run validation twice in a row on the same checkpoint: any difference means a layer is still in "
        "train mode. Best-epoch selection that jumps around without a clear trend is a hint.",
        references="The tutorial's description (noisy validation, batchnorm changes) matches the measurement.",
        tasks="The measurement turns on tabular's batchnorm option (batchnorm=True), which is off in the "
        "default tabular render, so that both halves show. On image (BatchNorm2d after every convolution, "
        "dropout before the classifier) both halves show by default. On lm only the first does: the "
        "transformer's dropout makes repeated validations disagree, but its LayerNorm keeps no running "
        "statistics, so no validation data leaks into the weights or buffers.",
    ),
    "validation-without-no-grad": Lesson(
        headline="all {v[forwards]} validation outputs carried grad_fn; autograd kept "
        "{v[saved_kib_alive_after_each_batch]} KiB after each batch, freed on return (not growing across epochs)",
        symptom="Every validation output carried a `grad_fn` ({v[outputs_with_grad_fn]} of {v[forwards]}). "
        "Autograd stored {v[saved_bytes_per_validation][0]} bytes of activations per validation pass of "
        "{v[val_samples]} samples. Because this loop sums the per-batch losses as tensors, each batch's graph "
        "stayed alive until the pass ended: after batches 1, 2, 3 the saved activations held were "
        "{v[saved_kib_alive_after_each_batch]} KiB. After evaluate() returned, {v[saved_bytes_alive_after_return][0]} "
        "bytes were still held, and the second validation stored exactly as much as the first "
        "({v[saved_bytes_per_validation][1]} bytes). The correct loop stored 0.",
        why="Outside `no_grad()`/`inference_mode()`, every operation on a tensor that requires grad records "
        "a node and saves its inputs for a backward pass that never comes. Memory scales with the size of "
        "the validation pass for as long as something references the outputs.",
        spot="Validation uses more memory than inference should and is slower; `val_loss.requires_grad` is "
        "True; a CUDA OOM appears in validation but not in training on a large val set.",
        references="The essay says the graph builds on every batch until memory runs out. The measurement "
        "supports a narrower claim: the memory grows with the number of validation batches within one "
        "pass (when the loss is accumulated as a tensor, as here) and is released when the pass ends; it "
        "does not pile up from epoch to epoch. A large validation set can still run out of memory, which "
        "is the real risk. The essay's 'roughly halves memory' for no_grad is not something this test "
        "measured.",
    ),
    "log-loss-tensor": Lesson(
        headline="the running loss's graph grew by {v[nodes_per_step]:g} autograd nodes per step "
        "({v[graph_nodes_after_8_steps]} after 8 steps); activation memory still held: "
        "{v[activation_bytes_alive_after_8_steps]} bytes",
        symptom="The test reads the running loss as `train_one_epoch` returns. In the broken loop it "
        "requires grad, and the autograd graph reachable from it grew by {v[nodes_per_step]:g} nodes per "
        "step, to {v[graph_nodes_after_8_steps]} nodes after 8 steps. The activations those graphs had "
        "saved were already released by each `backward()`: {v[activation_bytes_alive_after_8_steps]} bytes "
        "of them were still alive. The correct loop's running loss has no graph (0 nodes).",
        why="Adding a tensor that requires grad to a running total makes the total part of the graph, so "
        "every step's graph stays referenced until the total is dropped. `backward()` frees the saved "
        "activations of the graph it ran through, so what accumulates is the graph's structure (small host "
        "objects), not the activations.",
        spot="`loss_sum.requires_grad` is True; host memory creeps up slowly over a long epoch; profilers show "
        "a growing number of autograd nodes. It becomes a serious leak when the kept loss never goes through "
        "backward (validation, or a loss appended to a list before backward).",
        references="The tutorial calls this a common memory leak and says GPU memory keeps growing; the "
        "essay says the tensor pins the full graph. The measurement disagrees in size: once `backward()` "
        "has run, the saved activations are gone ({v[activation_bytes_alive_after_8_steps]} bytes here) and only the node "
        "structure grows ({v[nodes_per_step]:g} nodes per step). The claim holds for loss tensors kept without a backward pass.",
    ),
    "softmax-before-cross-entropy": Lesson(
        headline="memorising one batch for 150 steps, the loss never went below {v[min_train_loss_150_steps_one_batch]:.3f} "
        "(floor {v[loss_floor]:.3f}); the correct loop reached {c[min_train_loss_150_steps_one_batch]:.1e}",
        symptom="Training on a single batch of 32 for 150 steps, the correct loop drove the loss to "
        "{c[min_train_loss_150_steps_one_batch]:.1e}. The broken loop bottomed out at "
        "{v[min_train_loss_150_steps_one_batch]:.4f}, above the hard floor log(C-1+e)-1 = {v[loss_floor]:.4f} "
        "for C={v[classes]} classes, which no model can beat. The first step's gradient norm was "
        "{v[first_step_grad_norm]:.3f} instead of {c[first_step_grad_norm]:.3f}.",
        why="CrossEntropyLoss applies log-softmax itself. Feeding it probabilities squashes its inputs into "
        "[0, 1], so even a perfect prediction only reaches 1 vs 0 in 'logit' space, and the softmax's "
        "Jacobian multiplies the gradients by factors below one. The loss is bounded away from zero and "
        "learning slows.",
        spot="The training loss plateaus at a suspicious value (about 0.55 for 3 classes, log(C-1+e)-1 in "
        "general) even on data the model can memorise. A softmax inside the model's forward or right "
        "before the criterion is the place to look.",
        references="The note and the essay are right.",
    ),
    "checkpoint-last-not-best": Lesson(
        headline="best.pt held epoch {v[best_pt_epoch]} with val loss {v[best_pt_val_loss]:.3f}; the best epoch "
        "was {v[best_epoch]} with {v[best_val_loss]:.3f}",
        symptom="In an overfitting run ({v[epochs_run]} epochs on little data), validation loss was lowest at "
        "epoch {v[best_epoch]} ({v[best_val_loss]:.4f}) and ended at {v[final_val_loss]:.4f}. The broken "
        "loop's best.pt held epoch {v[best_pt_epoch]}, which scores {v[best_pt_val_loss]:.4f} when reloaded; "
        "the correct loop's best.pt held epoch {c[best_pt_epoch]} and scores {c[best_pt_val_loss]:.4f}. "
        "(By accuracy the final epoch happens to look better here, {v[best_pt_val_acc]:.1%} vs "
        "{c[best_pt_val_acc]:.1%}: 'best' means best by the monitored metric, so choose the monitor you care about.)",
        why="A file named best that is written every epoch is the last epoch under another name. The "
        "decision (did the monitor improve?) and the write have to be the same branch.",
        spot="best.pt's stored epoch always equals the last epoch; reloading it does not reproduce the best "
        "val metric in the log.",
        references="The note's advice (tie the saved checkpoint to the best held-out metric) is what the "
        "correct loop does and the test confirms.",
    ),
    "clip-without-unscale": Lesson(
        headline="the clip saw norms around {v[norm_seen_by_clip_mean]:.3g} (loss scale {v[loss_scale]:g}); "
        "the updates applied gradients of norm {v[norm_applied_by_step_mean]:.2e} instead of about {c[norm_applied_by_step_mean]:.2f}",
        symptom="In the fp16 loop (loss scale {v[loss_scale]:g}, threshold {v[threshold]}), the clip saw a "
        "mean gradient norm of {v[norm_seen_by_clip_mean]:.4g}, the true norm times the scale, and cut it "
        "to {v[threshold]}. The scaler then divided by the scale, so the optimizer applied gradients of norm "
        "{v[norm_applied_by_step_mean]:.3e} (threshold / scale) at every one of {v[steps]} steps. The correct "
        "loop clipped the unscaled norm of {c[norm_seen_by_clip_mean]:.3f} and applied "
        "{c[norm_applied_by_step_mean]:.3f} on average.",
        why="GradScaler multiplies the loss, hence every gradient, by a large factor so fp16 values do not "
        "underflow. `unscale_` divides that factor back out; clip before it and the threshold is compared "
        "with inflated numbers, so every step is clipped as if the gradients were enormous.",
        spot="The norm returned by `clip_grad_norm_` is in the thousands or more and tracks "
        "`scaler.get_scale()`. With SGD the model barely learns; with Adam-type optimizers the effect is "
        "damped by their normalisation, so also check the clip's returned value directly.",
        references="The essay and the tutorial place unscale_ before clipping, correctly.",
    ),
    "accumulation-loss-not-scaled": Lesson(
        headline="the accumulated gradient was {v[grad_norm_ratio_vs_large_batch]:.4f}x the large-batch gradient "
        "(accum_steps={v[accum_steps]}); AdamW's first update changed by only "
        "{v[first_update_norm]:.4f}/{c[first_update_norm]:.4f}",
        symptom="With accum_steps={v[accum_steps]}, dropout and clipping off, the gradient reaching the first "
        "optimizer step was {v[grad_norm_ratio_vs_large_batch]:.4f} times the float64 gradient of the same "
        "{v[accum_steps]} micro-batches taken as one large batch, pointing the same way (cosine "
        "{v[cosine_vs_large_batch]:.6f}). The correct loop's ratio was {c[grad_norm_ratio_vs_large_batch]:.4f}. "
        "The size of the first AdamW update, however, was {v[first_update_norm]:.4f} vs "
        "{c[first_update_norm]:.4f}: Adam divides by the gradient's running RMS, so a constant factor "
        "almost cancels.",
        why="Each micro-batch loss is already a mean over its own samples. Summing accum_steps of them in "
        ".grad gives accum_steps times the mean over the window. Plain SGD turns that into an lr that is "
        "accum_steps times too large; with Adam-type optimizers it mostly shows through the gradient "
        "clipping threshold and the epsilon term.",
        spot="Changing accum_steps changes the training curve even though the effective batch is meant to "
        "be the same; the clip's returned norm scales with accum_steps. This project's generated test "
        "'accumulation equals the large batch' fails on this variant.",
        references="The tutorial's rule (divide the loss by the accumulation steps) is right for equal "
        "micro-batches; for a short last window the correct weight is micro-batch size / window size, which "
        "is what the template does.",
    ),
    "validate-on-train-split": Lesson(
        headline="reported val accuracy {v[reported_val_acc]:.1%} vs held-out {v[heldout_acc]:.1%} "
        "(val loss {v[reported_val_loss]:.3f} reported vs {v[heldout_loss]:.3f} held-out)",
        symptom="In an overfitting run, the broken loop reported a final validation accuracy of "
        "{v[reported_val_acc]:.1%} and loss {v[reported_val_loss]:.4f}; the same final weights scored "
        "{v[heldout_acc]:.1%} and {v[heldout_loss]:.4f} on the held-out split, an overestimate of "
        "{v[acc_overestimate]:.1%} in accuracy. The reported number was exactly the training accuracy. In "
        "the correct loop the reported and held-out numbers agree ({c[reported_val_acc]:.1%}).",
        why="A model is fitted to its training data, so its score there measures memorisation as well as "
        "generalisation. Early stopping and best-checkpoint selection then optimise that inflated number.",
        spot="Validation loss keeps falling as long as training loss does and never turns up; validation and "
        "training metrics are suspiciously close or identical. Check which loader evaluate() receives.",
        references="The note lists this mistake; the measurement shows the size of the gap on a small run.",
    ),
    "to-device-after-optimizer": Lesson(
        headline="myth: by default the optimizer kept the model's own parameters (weights moved {v[default_weight_change_3_steps]:.3f}); "
        "with the overwrite flag it lost them (weights moved {v[flag_weight_change_3_steps]:g})",
        symptom="With default settings, moving the model after building the optimizer changed nothing: the "
        "optimizer still held the model's Parameter objects ({v[default_optimizer_holds_model_params]}) and "
        "three steps moved the weights by up to {v[default_weight_change_3_steps]:.4f}, exactly as in the "
        "correct loop. A `.half()` after the optimizer also kept the same objects "
        "({v[half_after_optimizer_keeps_params]}). The real hazards, each measured: with "
        "`torch.__future__.set_overwrite_module_params_on_conversion(True)` the late `.to()` replaced the "
        "parameters, the optimizer kept the orphans ({v[flag_optimizer_holds_model_params]}), and the "
        "model's weights moved by {v[flag_weight_change_3_steps]:g}; optimizer state loaded before a "
        '`.half()` stays float32 and the next step fails ("{v[state_loaded_before_half_step_error]}"); '
        "fp16 parameters with plain Adam turned [1e-4, 0, 1] gradients into {v[fp16_adam_after_one_step]} "
        "after one step, because eps=1e-8 rounds to 0 in fp16 and small squared gradients underflow.",
        why="`nn.Module.to()`/`.half()` convert each parameter by assigning `param.data` in place unless "
        "the overwrite flag is set, so the Parameter objects the optimizer holds stay the model's. The "
        "flag makes the module build new Parameter objects, which the optimizer never sees. Optimizer "
        "state is cast to the parameters' dtype and device only when `load_state_dict` runs, not later.",
        spot="Compare `{{id(p) for p in model.parameters()}}` with the ids in `optimizer.param_groups` after "
        "any conversion; watch for a loss that never moves. Build the optimizer after the model is in its "
        "final place and dtype, and load optimizer state after that, to stay clear of all three hazards.",
        references="The essay claims that a dtype conversion such as `model.half()` after building the "
        "optimizer makes `.to()` allocate new Parameter objects, leaving the optimizer updating discarded "
        "ones. With default PyTorch settings that is false: the test shows the same objects before and "
        "after `.half()`, and training proceeds normally. It is true only with the overwrite-on-conversion "
        "flag set.",
    ),
}


def _numbers(bug_id: str) -> tuple[dict, dict] | None:
    entry = measured().get(bug_id)
    if not entry or "variant" not in entry or "correct" not in entry:
        return None
    return entry["variant"], entry["correct"]


def fill(template: str, bug_id: str) -> str:
    numbers = _numbers(bug_id)
    if numbers is None:
        return f"(not measured yet: run `{MEASURE_COMMAND}`)"
    return template.format(v=numbers[0], c=numbers[1])


def headline(bug_id: str) -> str:
    return fill(LESSONS[bug_id].headline, bug_id)


def base_text(bug_id: str, task: str = MEASURED_ON) -> str:
    answers = {**({} if task == MEASURED_ON else {"task": task}), **MUTATIONS[bug_id].base}
    return ", ".join(f"{k}={v}" for k, v in answers.items()) if answers else "the defaults"


def measured_on_text(task: str) -> str:
    """Where the lesson's numbers come from, said in every lesson."""
    where = (
        f"`{MEASURE_COMMAND}` (a tool in scaffold's source repository) on the task={MEASURED_ON} "
        "loop (CPU, seeded, one thread)"
    )
    if task == MEASURED_ON:
        return (
            "`tests/test_symptom.py` measures this (run `pytest tests/` here). It passes on `train.py`, "
            "and the same measurement on `correct_train.py` fails the same check. The numbers above "
            f"come from {where}."
        )
    return (
        f"The numbers above come from {where}, not from this task={task} loop: the measurement is "
        f"written for the {MEASURED_ON} loop, so this folder has no `tests/test_symptom.py`. The "
        f"mistake in `train.py` is the same edit of the same loop; `scaffold teach {{id}} DEST` "
        f"(task {MEASURED_ON}) writes the lesson with its symptom test."
    )


def tasks_text(bug_id: str) -> str:
    """Which tasks show the mistake, from the catalogue's table (and the lesson's own note)."""
    tasks = tasks_for(bug_id)
    if bug_id not in NEEDS_MODE_LAYER:
        text = (
            f"Every task shows it: train.py is the same loop for {', '.join(tasks)} (apart from the "
            "task's Config fields), and the edit applies to each. Write it for another task with "
            f"`scaffold teach {bug_id} DEST --task TASK`."
        )
    else:
        needs = " or ".join(NEEDS_MODE_LAYER[bug_id])
        shown = "; ".join(f"{t} through {' and '.join(shown_by(bug_id, t))}" for t in tasks)
        lacking = [t for t in teaching_tasks() if t not in tasks]
        text = (
            f"It shows only through layers that behave differently in train and eval mode ({needs}). "
            f"The default model of each task has: {shown}."
        )
        if lacking:
            text += f" {', '.join(lacking)} cannot show it, so `scaffold teach` refuses it there."
    note = LESSONS[bug_id].tasks
    return f"{text} {note}" if note else text


def lesson_markdown(bug_id: str, diff_text: str, task: str = MEASURED_ON) -> str:
    bug, lesson, mutation = get_bug(bug_id), LESSONS[bug_id], MUTATIONS[bug_id]
    kind = {"myth": " (a myth check)", "hint": " (a heuristic check)"}.get(bug.kind, "")
    parts = [
        f"# {bug.title}",
        "",
        f"ID `{bug_id}`{kind}: {bug.why}.",
        "",
        "## What changed",
        "",
        f"{mutation.change} The loop is the one `scaffold new` renders for {base_text(bug_id, task)}; "
        f"`correct_train.py` beside it is that loop unchanged, and `# BUG({bug_id})` marks the edit in "
        "`train.py`.",
        "",
        "```diff",
        diff_text.rstrip("\n"),
        "```",
        "",
        "## The symptom, measured",
        "",
        fill(lesson.symptom, bug_id),
        "",
        measured_on_text(task).format(id=bug_id),
        "",
        "## Why it happens",
        "",
        lesson.why,
        "",
        "## How to spot it in a real run",
        "",
        lesson.spot,
        "",
        "## Which task shows it",
        "",
        tasks_text(bug_id),
    ]
    parts += [
        "",
        "## Would the generated project's own tests catch it?",
        "",
        project_tests_text(bug_id, task),
    ]
    if lesson.references:
        parts += ["", "## What the reference texts say", "", fill(lesson.references, bug_id)]
    return "\n".join(parts) + "\n"


def project_tests_text(bug_id: str, task: str = MEASURED_ON) -> str:
    text = _project_tests_text(bug_id)
    if task == MEASURED_ON:
        return text
    return f"Measured on the task={MEASURED_ON} project, not on this {task} one. {text}"


def _project_tests_text(bug_id: str) -> str:
    failing = measured().get(bug_id, {}).get("project_tests_failing")
    if failing is None:
        return f"(not measured yet: run `{MEASURE_COMMAND}`)"
    if not failing and get_bug(bug_id).kind == "myth":
        return (
            "No, as expected for a myth: with this train.py in place of the correct one, every test "
            "in the project's `tests/test_train.py` still passes, because by default the late move is harmless."
        )
    if not failing:
        return (
            "No: with this train.py in place of the correct one, every test in the project's "
            "`tests/test_train.py` still passes. This lesson's symptom test is the check that catches it."
        )
    names = ", ".join(f"`{name}`" for name in failing)
    return (
        f"Yes: with this train.py in place of the correct one, the project's `tests/test_train.py` "
        f"fails {names}."
    )


def course_index(task: str = MEASURED_ON) -> str:
    ids = course_ids(task)
    if task == MEASURED_ON:
        intro = [
            "Each folder is the correct training loop with one minimal change (marked `# BUG(ID)` in its "
            "`train.py`), the correct loop beside it (`correct_train.py`), a `LESSON.md`, and "
            "`tests/test_symptom.py`, which measures the symptom on both. None of these mistakes raises an error.",
            "",
            "Run every symptom test: `OMP_NUM_THREADS=1 python -m pytest --import-mode=importlib .` "
            "(needs torch and tqdm; CPU, about a minute).",
        ]
    else:
        intro = [
            f"Each folder is the task={task} training loop with one minimal change (marked `# BUG(ID)` in "
            "its `train.py`), the correct loop beside it (`correct_train.py`) and a `LESSON.md`. None of "
            "these mistakes raises an error.",
            "",
            f"The measured column comes from the task={MEASURED_ON} loop, where each lesson's symptom "
            f"test runs (`scaffold teach --all DEST` writes that course with its tests).",
        ]
    skipped = [bug.id for bug in BUGS if bug.id not in ids]
    if skipped:
        intro += ["", f"Not in this course (task={task} cannot show them): {', '.join(skipped)}."]
    lines = [
        "# Training-loop mistakes: a course" + ("" if task == MEASURED_ON else f" (task={task})"),
        "",
        *intro,
        "",
        "| ID | mistake | measured |",
        "|---|---|---|",
    ]
    for bug in BUGS:
        if bug.id not in ids:
            continue
        label = {"myth": " (myth)", "hint": " (hint)"}.get(bug.kind, "")
        lines.append(
            f"| [{bug.id}]({bug.id}/LESSON.md) | {bug.title}{label} | {headline(bug.id)} |"
        )
    return "\n".join(lines) + "\n"


# The DDP lessons: their prose lives in scaffold.teach.ddp_lessons.
LESSONS.update({bug_id: Lesson(**fields) for bug_id, fields in DDP_LESSONS.items()})
