"""One record per rule of `scaffold check`: the only place a rule's checker-side facts live.

Each `Rule` links to its catalogue entry (`scaffold.catalogue`: title, one-line why, teaching kind)
by ID and adds what is specific to the static check: how sure its findings are, whether they are
errors or hints, what it catches and misses, an example, and the closest published smell name.
`findings` reads severity and confidence from here; docs/check.md is generated from here by
`python -m tools.check.ruledocs`. A test requires exactly one record per catalogue ID.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.catalogue import Bug, get_bug

ERROR = "error"
HINT = "hint"


@dataclass(frozen=True)
class Rule:
    """What the static rule for one catalogue entry does.

    Attributes:
        id: The catalogue ID the rule reports.
        catches: What the rule flags, in prose (rendered into docs/check.md).
        misses: What it knowingly does not flag.
        example: A minimal snippet it flags.
        confidence: Default confidence of its findings: "high" for the ordering rules (read from
            the order of calls), "medium" where the rule leans on names (which loader is held
            out, which file is "best"). Hints and myth checks are always "low".
        smell: The closest entry of the ML code-smell catalogue of Zhang et al. (2022) and how
            close the match is, or None.
        hint_when: When an error rule reports a hint instead: the mistake holds on some paths
            only, behind a condition the checker cannot resolve ("" when it never does).
        exempt: Correct code the rule knows not to flag, in prose ("" for none worth naming).
    """

    id: str
    catches: str
    misses: str
    example: str
    confidence: str = "high"
    smell: tuple[str, str] | None = None
    hint_when: str = ""
    exempt: str = ""

    @property
    def bug(self) -> Bug:
        """The catalogue entry: title, why, and teaching kind."""
        return get_bug(self.id)

    @property
    def severity(self) -> str:
        """Default severity: "hint" for low-confidence checks and myths, else "error".

        A finding whose mistake depends on a condition the checker cannot resolve is a hint
        whatever its rule's default (see `flow`).
        """
        return HINT if self.bug.kind in ("hint", "myth") else ERROR

    @property
    def default_confidence(self) -> str:
        """`confidence`, lowered to "low" for hints and myth checks."""
        return "low" if self.severity == HINT else self.confidence

    @property
    def severity_doc(self) -> str:
        """One sentence for docs/check.md: how this rule's findings are graded."""
        if self.severity == HINT:
            return "always a hint (exit 0 unless `--strict`)."
        if self.hint_when:
            return f"an error when every path through the loop makes the mistake; a hint {self.hint_when}."
        return "an error: the rule fires only when every path it can follow makes the mistake."

    @property
    def anchor(self) -> str:
        """The rule's section in docs/check.md (the catalogue link users follow)."""
        return f"docs/check.md#{self.id}"


_RULES: tuple[Rule, ...] = (
    Rule(
        "zero-grad-missing",
        "A loop (or the innermost loop, when loops nest) that runs backward() and an optimizer step, "
        "directly or through functions and methods it calls, with no `zero_grad()`, "
        "`zero_grad(set_to_none=True)`, `model.zero_grad()`, `p.grad = None` or `p.grad.zero_()` "
        "anywhere in it. A zero_grad only before the loop does not count.",
        "Zeroing done by code the checker cannot see (another module, a framework callback).",
        "for x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()",
        smell=("Gradients Not Cleared before Backward Propagation", "same mistake"),
        exempt="`model.zero_grad()` clears every optimizer's parameters inside the model; `p.grad = None` under an `if` in a loop over the parameters cancels one layer's update and is not a zero_grad.",
    ),
    Rule(
        "zero-grad-after-backward",
        "An optimizer or scaler step reached, on some path, with gradients that a zero_grad wiped "
        "after backward() (no backward() in between). zero_grad first, last, right after "
        "step(), or at the start of an accumulation window are all fine.",
        "Zeroing through a second optimizer over the same parameters.",
        "loss.backward()\noptimizer.zero_grad()\noptimizer.step()",
        smell=("Gradients Not Cleared before Backward Propagation", "same family: the clear is misplaced, not missing"),
        hint_when="(naming the condition when one is known) when only some paths reach the step with wiped gradients",
        exempt="another optimizer's zero_grad() between a backward() and a step (each optimizer owns only its parameters); `model.zero_grad()` counts for every optimizer built over the model or a part of it.",
    ),
    Rule(
        "clip-before-backward",
        "A `clip_grad_norm_`/`clip_grad_value_` whose work a later zero_grad or backward() undoes "
        "before the optimizer step, with no clip of the new gradients on any path: clip, then "
        "backward, then step. Also inside accumulation windows and under `if grad_clip > 0`.",
        "Clipping inside code the checker cannot follow.",
        "optimizer.zero_grad()\nloss = criterion(model(x), y)\n"
        "clip_grad_norm_(model.parameters(), 1.0)\nloss.backward()\noptimizer.step()",
    ),
    Rule(
        "clip-after-step",
        "Clipping reached, on every path, after this iteration's optimizer step and before the next "
        "backward(), including inside a helper such as `def update(opt, model)`.",
        "Clipping meant for a second optimizer in a multi-optimizer loop is judged like any other.",
        "loss.backward()\noptimizer.step()\nclip_grad_norm_(model.parameters(), 1.0)",
    ),
    Rule(
        "scheduler-in-batch-loop",
        "`.step()` of an epoch scheduler (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, "
        "MultiplicativeLR, and ReduceLROnPlateau) inside a batch loop that also steps the optimizer. "
        "The scheduler is recognised by its constructor assignment (`sched = StepLR(...)`, "
        "`self.scheduler = ...`), by a factory function that returns one, or by a keyword of a "
        "user class (`Components(scheduler=...)`, then `c.scheduler`); it is followed through "
        "function arguments and `self.x = x` in `__init__`. "
        "An epoch class whose arguments count steps (`T_max=epochs * len(loader)`, `total_steps`) is "
        "treated as per-step and not flagged.",
        "Schedulers built by a factory function or of unknown class (never flagged: LambdaLR, "
        "SequentialLR and friends can be right at either cadence); a top-level `for step in "
        "range(n)` loop, which may be iteration-based training on purpose.",
        "sched = StepLR(optimizer, step_size=30)\nfor epoch in range(90):\n    for x, y in loader:\n"
        "        ...\n        optimizer.step()\n        sched.step()",
        exempt="a ReduceLROnPlateau stepped under an `if` in the batch loop (once per validation round, with the metric), and `scheduler.step(epoch)` with an explicit epoch.",
    ),
    Rule(
        "scheduler-before-optimizer-step",
        "A known LR scheduler stepped, on every path, before any optimizer step in the same "
        "iteration of its loop: a per-batch scheduler before `optimizer.step()`, or an epoch "
        "scheduler at the top of the epoch loop. An epoch `scheduler.step()` after the inner batch "
        "loop is correct and not flagged; ReduceLROnPlateau is exempt.",
        "Schedulers of unknown origin; loops where the order differs between branches.",
        "for x, y in loader:\n    ...\n    loss.backward()\n    scheduler.step()\n    optimizer.step()",
        exempt="`scheduler.step(epoch)` with an explicit epoch at the top of the loop.",
    ),
    Rule(
        "missing-train-mode",
        "A `model.eval()` (inline or in a called function such as `evaluate()`) that is still in "
        "effect, on every path, when the next iteration's backward() runs, i.e. train() is not "
        "called again inside the epoch loop. The finding points at the eval() call.",
        "Validation that only runs on some epochs (`if epoch % 5 == 0`), since then not every path "
        "is in eval mode; models other than the one being optimised or trained.",
        "model.train()\nfor epoch in range(n):\n    for x, y in train_loader: ...\n"
        "    model.eval()\n    with torch.no_grad(): ...",
        smell=("Training / Evaluation Mode Improper Toggling", "same mistake (train side)"),
        hint_when="naming the condition when only the paths through one branch (`if do_validation:`) leave the model in eval mode",
        exempt="a deliberate eval(): parameters frozen (`requires_grad = False`, `requires_grad_(False)`, an optimizer over `filter(lambda p: p.requires_grad, ...)`), optimizers that own only a part of the model (a linear probe's classifier), or a comment by the eval() that says why (frozen, linear probe, on purpose); a shared train/eval helper whose backward runs only on the train branch.",
    ),
    Rule(
        "validation-in-train-mode",
        "A model call inside a no_grad/inference_mode region that looks like validation (a loop "
        "over held-out data, a function named validate/evaluate/test, or a loop or comprehension "
        "inside the no_grad block without backward) where no path has called eval(). eval() done "
        "by the caller before calling the helper counts.",
        "An eval() on a wrapper (`net.eval()` while `model = DataParallel(net)` is called) counts as "
        "eval for every model; evaluation that is not under no_grad is covered by "
        "validation-without-no-grad instead.",
        "@torch.no_grad()\ndef validate(model, val_loader):\n    for x, y in val_loader:\n        out = model(x)",
        confidence="medium",
        smell=("Training / Evaluation Mode Improper Toggling", "same mistake (eval side)"),
    ),
    Rule(
        "validation-without-no-grad",
        "A model call in a validation loop (iterating a loader named val/valid/test/eval...) or in a "
        "function named validate/evaluate/test..., with no backward() there and autograd on: no "
        "`torch.no_grad()`/`inference_mode()` around it, on the function, or around the call site.",
        "Evaluation under names that do not say so; `torch.set_grad_enabled(flag)` with a variable "
        "is treated as unknown and not flagged.",
        "model.eval()\nfor x, y in val_loader:\n    out = model(x)",
    ),
    Rule(
        "log-loss-tensor",
        "`total += loss`, `total = total + loss`, `losses.append(loss)` (also `loss * n`) where "
        "`loss` is the tensor backward() is called on in the same function (or a tensor operand "
        "of it: `share = loss * w; share.backward()`), with no .item(), .detach(), float() "
        "around it, outside no_grad.",
        "Losses returned by a helper and accumulated by the caller; other tensors that hold a graph.",
        "loss.backward()\noptimizer.step()\nrunning_loss += loss",
        smell=("Memory not Freed", "one cause of it: graphs kept alive by logged tensors"),
    ),
    Rule(
        "softmax-before-cross-entropy",
        "In a file that uses CrossEntropyLoss or F.cross_entropy: a `forward()` whose final return "
        "is a softmax (directly, via a variable, or via an `nn.Softmax` attribute), an "
        "`nn.Sequential(...)` ending in `nn.Softmax`, or `cross_entropy(softmax(x), y)` in one call. "
        "log_softmax with NLLLoss is correct and not flagged.",
        "A softmax model and a cross-entropy loss in different files; softmax returned only under a condition.",
        "def forward(self, x):\n    return F.softmax(self.fc(x), dim=1)\n...\nloss = nn.CrossEntropyLoss()(model(x), y)",
    ),
    Rule(
        "checkpoint-last-not-best",
        "A hint: `torch.save(...)` or any call whose name contains `save` (`save_checkpoint`, "
        '`save_atomic`), whose arguments mention "best", inside a loop and under no `if` that '
        "tests a metric (a comparison, or a test naming best/improved/loss/acc/metric/score). "
        "`if not dry_run:` or `if epoch % 5 == 0:` do not count as a guard.",
        "A 'best' file written after training without ever comparing metrics; a metric-looking "
        "guard that does not actually compare with the best value.",
        "for epoch in range(n):\n    ...\n    torch.save(model.state_dict(), 'best.pt')",
        confidence="medium",
    ),
    Rule(
        "clip-without-unscale",
        "Clipping when, on every path, the gradients come from `scaler.scale(loss).backward()` and "
        "`scaler.unscale_(optimizer)` has not run since.",
        "Scalers used through a wrapper the checker cannot see.",
        "scaler.scale(loss).backward()\nclip_grad_norm_(model.parameters(), 1.0)\nscaler.step(optimizer)",
    ),
    Rule(
        "accumulation-loss-not-scaled",
        "A loop that accumulates: backward() runs on every iteration but the optimizer steps on "
        "only some (an `if (i + 1) % accum == 0:` guard, or `if not window_end: continue`), and "
        "backward() is called on a loss that is never divided or multiplied (`loss / accum`, "
        "`loss * (n / window)`, `loss /= accum` all count).",
        "Scaling done inside a helper or the criterion (the rule stays silent when the loss comes "
        "from a call with a `reduction=` argument or cannot be traced).",
        "loss = criterion(model(x), y)\nloss.backward()\nif (i + 1) % accum_steps == 0:\n"
        "    optimizer.step()\n    optimizer.zero_grad()",
        exempt='a loss summed over the samples (`reduction="sum"`, `size_average=False`) in the training function, or an lr divided by the batch or the accumulation count (the darknet convention).',
    ),
    Rule(
        "validate-on-train-split",
        "A validation function (validate/evaluate/test...) that is only ever called with training "
        "data (`train_loader`, `train_ds`...), or a validation loader built from the training "
        "dataset (`val_loader = DataLoader(train_ds)`, `val_ds = train_ds`). Evaluating on the "
        "training set as well as on held-out data is fine.",
        "Leaks through indices or splits (overlapping `Subset`s), and names that do not say train/val.",
        "acc = evaluate(model, train_loader)",
        confidence="medium",
        smell=("Data Leakage", "one form of it: scoring on the data trained on"),
    ),
    Rule(
        "to-device-after-optimizer",
        "A hint, for a myth: moving (`.to(device)`, `.cuda()`) or casting (`.half()`, `.double()`, "
        "`.bfloat16()`, `.to(dtype)`, `.to(device, dtype)`) a model after an optimizer over its "
        "parameters was built (`torch.optim.X(model.parameters())` or a factory such as "
        "`build_optimizer(model, cfg)`). By default this is harmless (parameters are converted in "
        "place, so the optimizer still holds them), and the message says so; it matters with "
        "optimizer state loaded before the move, with "
        "`set_overwrite_module_params_on_conversion(True)`, or for fp16 parameters under plain Adam. "
        "Hints alone exit 0 unless `--strict`.",
        "Casts through another name than the one passed to the optimizer.",
        "optimizer = torch.optim.Adam(model.parameters())\nmodel.half()",
    ),
    # --- DDP rules, in scaffold/check/ddp.py
    Rule(
        "ddp-missing-set-epoch",
        "A `DistributedSampler(...)` that shuffles (no `shuffle=False`), or an instance of a class "
        "of the same file that defines `set_epoch` or subclasses DistributedSampler, in a file "
        "where nothing calls `.set_epoch(x)` with a non-constant argument (`set_epoch(0)` once "
        "does not count). Any such call counts, wherever it is (the checker does not follow it "
        "to the sampler).",
        "Samplers built in another module (`create_dataloader(...)` returning one), and a "
        "`set_epoch(epoch)` call on some other object that hides the missing one.",
        "sampler = DistributedSampler(train_set)\nloader = DataLoader(train_set, sampler=sampler)\n"
        "for epoch in range(epochs):\n    train_one_epoch(model, loader)",
        exempt="validation samplers (their order changes no metric).",
    ),
    Rule(
        "ddp-scheduler-per-process",
        "`scheduler.step()` (a variable built as a scheduler, or named *sched*) inside "
        "`for _ in range(N)` where N names the world size (`world_size`, `get_world_size()`, "
        "`num_processes`, `num_replicas`, `nprocs`, `ngpus`): the schedule advances N steps per "
        "optimizer step.",
        "A scheduler stepped per process by a wrapper (accelerate's prepared scheduler with a "
        "schedule sized for one process), or a schedule length multiplied or divided by the "
        "world size: both need the numbers, not the text.",
        "optimizer.step()\nfor _ in range(dist.get_world_size()):\n    scheduler.step()",
    ),
    Rule(
        "ddp-padded-validation",
        "A `DistributedSampler(...)` without `drop_last=True` over held-out data: its dataset, the "
        "variable or keyword it is assigned to, or (when those say nothing) the function that "
        "builds it is named val/valid/test/eval/dev; a train name says no. Whenever the split does "
        "not divide by the world size the sampler repeats samples, and metrics reduced over ranks "
        "count them twice. `drop_last=True` drops the remainder instead (exact only with an extra "
        "pass over it, as pytorch/examples' imagenet does).",
        "One helper building the training and the validation loader alike "
        "(`prepare_dataloader(dataset)` with a DistributedSampler inside), and padding samplers "
        "of other libraries.",
        "val_sampler = DistributedSampler(val_set, shuffle=False)\n"
        "val_loader = DataLoader(val_set, sampler=val_sampler)",
        confidence="medium",
        exempt="files that never reduce or gather a value across ranks (each rank's metric is its own).",
    ),
    Rule(
        "ddp-accumulation-without-no-sync",
        "A hint: in a file that calls `DistributedDataParallel(...)` (or `DDP(...)`, `smart_DDP(...)`), "
        "a backward() in a loop whose optimizer step is conditional (inside an `if`, after an "
        "`if ...: continue` that follows the backward, or after a `for micro_step in "
        "range(accum_steps)` loop), not inside a `with` whose expression mentions sync or "
        "accumulate (`model.no_sync()`, `maybe_no_sync(...)`, `accelerator.accumulate(model)`), "
        "and no assignment to `require_backward_grad_sync` in the file. The update is the same; "
        "each skipped no_sync costs one all-reduce of every gradient. Hints alone exit 0 unless "
        "`--strict`.",
        "Backward through a helper (`_backward(loss)`, `accelerator.backward`) and DDP models "
        "wrapped in another module.",
        "model = DDP(model)\nfor i, (x, y) in enumerate(loader):\n    (criterion(model(x), y) / accum).backward()\n"
        "    if (i + 1) % accum == 0:\n        optimizer.step()\n        optimizer.zero_grad()",
    ),
)


RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(bug_id: str) -> Rule:
    """The record of one rule ID (KeyError for an unknown ID)."""
    return RULES[bug_id]
