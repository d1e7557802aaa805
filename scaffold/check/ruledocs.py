"""The checker's documentation per rule, and the generator of docs/check.md.

Titles and explanations come from `scaffold.catalogue`; this module adds only what is specific to
the static check: what it catches, what it misses, and an example.
Regenerate with `python -m scaffold.check.ruledocs > docs/check.md` (a test fails when stale).
"""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.catalogue import BUGS, applicability
from scaffold.check.evaldocs import evaluation_section


@dataclass(frozen=True)
class RuleDoc:
    """What the static rule for one catalogue entry does."""

    catches: str
    misses: str
    example: str


RULE_DOCS: dict[str, RuleDoc] = {
    "zero-grad-missing": RuleDoc(
        "A loop (or the innermost loop, when loops nest) that runs backward() and an optimizer step, "
        "directly or through functions and methods it calls, with no `zero_grad()`, "
        "`zero_grad(set_to_none=True)`, `model.zero_grad()`, `p.grad = None` or `p.grad.zero_()` "
        "anywhere in it. A zero_grad only before the loop does not count.",
        "Zeroing done by code the checker cannot see (another module, a framework callback).",
        "for x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()",
    ),
    "zero-grad-after-backward": RuleDoc(
        "An optimizer or scaler step reached, on some path, with gradients that a zero_grad wiped "
        "after backward() (no backward() in between). zero_grad first, last, right after "
        "step(), or at the start of an accumulation window are all fine.",
        "Zeroing through a second optimizer over the same parameters.",
        "loss.backward()\noptimizer.zero_grad()\noptimizer.step()",
    ),
    "clip-before-backward": RuleDoc(
        "A `clip_grad_norm_`/`clip_grad_value_` whose work a later zero_grad or backward() undoes "
        "before the optimizer step, with no clip of the new gradients on any path: clip, then "
        "backward, then step. Also inside accumulation windows and under `if grad_clip > 0`.",
        "Clipping inside code the checker cannot follow.",
        "optimizer.zero_grad()\nloss = criterion(model(x), y)\n"
        "clip_grad_norm_(model.parameters(), 1.0)\nloss.backward()\noptimizer.step()",
    ),
    "clip-after-step": RuleDoc(
        "Clipping reached, on every path, after this iteration's optimizer step and before the next "
        "backward(), including inside a helper such as `def update(opt, model)`.",
        "Clipping meant for a second optimizer in a multi-optimizer loop is judged like any other.",
        "loss.backward()\noptimizer.step()\nclip_grad_norm_(model.parameters(), 1.0)",
    ),
    "scheduler-in-batch-loop": RuleDoc(
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
    ),
    "scheduler-before-optimizer-step": RuleDoc(
        "A known LR scheduler stepped, on every path, before any optimizer step in the same "
        "iteration of its loop: a per-batch scheduler before `optimizer.step()`, or an epoch "
        "scheduler at the top of the epoch loop. An epoch `scheduler.step()` after the inner batch "
        "loop is correct and not flagged; ReduceLROnPlateau is exempt.",
        "Schedulers of unknown origin; loops where the order differs between branches.",
        "for x, y in loader:\n    ...\n    loss.backward()\n    scheduler.step()\n    optimizer.step()",
    ),
    "missing-train-mode": RuleDoc(
        "A `model.eval()` (inline or in a called function such as `evaluate()`) that is still in "
        "effect, on every path, when the next iteration's backward() runs, i.e. train() is not "
        "called again inside the epoch loop. The finding points at the eval() call.",
        "Validation that only runs on some epochs (`if epoch % 5 == 0`), since then not every path "
        "is in eval mode; models other than the one being optimised or trained.",
        "model.train()\nfor epoch in range(n):\n    for x, y in train_loader: ...\n"
        "    model.eval()\n    with torch.no_grad(): ...",
    ),
    "validation-in-train-mode": RuleDoc(
        "A model call inside a no_grad/inference_mode region that looks like validation (a loop "
        "over held-out data, a function named validate/evaluate/test, or a loop or comprehension "
        "inside the no_grad block without backward) where no path has called eval(). eval() done "
        "by the caller before calling the helper counts.",
        "An eval() on a wrapper (`net.eval()` while `model = DataParallel(net)` is called) counts as "
        "eval for every model; evaluation that is not under no_grad is covered by "
        "validation-without-no-grad instead.",
        "@torch.no_grad()\ndef validate(model, val_loader):\n    for x, y in val_loader:\n        out = model(x)",
    ),
    "validation-without-no-grad": RuleDoc(
        "A model call in a validation loop (iterating a loader named val/valid/test/eval...) or in a "
        "function named validate/evaluate/test..., with no backward() there and autograd on: no "
        "`torch.no_grad()`/`inference_mode()` around it, on the function, or around the call site.",
        "Evaluation under names that do not say so; `torch.set_grad_enabled(flag)` with a variable "
        "is treated as unknown and not flagged.",
        "model.eval()\nfor x, y in val_loader:\n    out = model(x)",
    ),
    "log-loss-tensor": RuleDoc(
        "`total += loss`, `total = total + loss`, `losses.append(loss)` (also `loss * n`) where "
        "`loss` is the tensor backward() is called on in the same function (or a tensor operand "
        "of it: `share = loss * w; share.backward()`), with no .item(), .detach(), float() "
        "around it, outside no_grad.",
        "Losses returned by a helper and accumulated by the caller; other tensors that hold a graph.",
        "loss.backward()\noptimizer.step()\nrunning_loss += loss",
    ),
    "softmax-before-cross-entropy": RuleDoc(
        "In a file that uses CrossEntropyLoss or F.cross_entropy: a `forward()` whose final return "
        "is a softmax (directly, via a variable, or via an `nn.Softmax` attribute), an "
        "`nn.Sequential(...)` ending in `nn.Softmax`, or `cross_entropy(softmax(x), y)` in one call. "
        "log_softmax with NLLLoss is correct and not flagged.",
        "A softmax model and a cross-entropy loss in different files; softmax returned only under a condition.",
        "def forward(self, x):\n    return F.softmax(self.fc(x), dim=1)\n...\nloss = nn.CrossEntropyLoss()(model(x), y)",
    ),
    "checkpoint-last-not-best": RuleDoc(
        "A hint: `torch.save(...)` or any call whose name contains `save` (`save_checkpoint`, "
        '`save_atomic`), whose arguments mention "best", inside a loop and under no `if` that '
        "tests a metric (a comparison, or a test naming best/improved/loss/acc/metric/score). "
        "`if not dry_run:` or `if epoch % 5 == 0:` do not count as a guard.",
        "A 'best' file written after training without ever comparing metrics; a metric-looking "
        "guard that does not actually compare with the best value.",
        "for epoch in range(n):\n    ...\n    torch.save(model.state_dict(), 'best.pt')",
    ),
    "clip-without-unscale": RuleDoc(
        "Clipping when, on every path, the gradients come from `scaler.scale(loss).backward()` and "
        "`scaler.unscale_(optimizer)` has not run since.",
        "Scalers used through a wrapper the checker cannot see.",
        "scaler.scale(loss).backward()\nclip_grad_norm_(model.parameters(), 1.0)\nscaler.step(optimizer)",
    ),
    "accumulation-loss-not-scaled": RuleDoc(
        "A loop that accumulates: backward() runs on every iteration but the optimizer steps on "
        "only some (an `if (i + 1) % accum == 0:` guard, or `if not window_end: continue`), and "
        "backward() is called on a loss that is never divided or multiplied (`loss / accum`, "
        "`loss * (n / window)`, `loss /= accum` all count).",
        "Scaling done inside a helper or the criterion (the rule stays silent when the loss comes "
        "from a call with a `reduction=` argument or cannot be traced).",
        "loss = criterion(model(x), y)\nloss.backward()\nif (i + 1) % accum_steps == 0:\n"
        "    optimizer.step()\n    optimizer.zero_grad()",
    ),
    "validate-on-train-split": RuleDoc(
        "A validation function (validate/evaluate/test...) that is only ever called with training "
        "data (`train_loader`, `train_ds`...), or a validation loader built from the training "
        "dataset (`val_loader = DataLoader(train_ds)`, `val_ds = train_ds`). Evaluating on the "
        "training set as well as on held-out data is fine.",
        "Leaks through indices or splits (overlapping `Subset`s), and names that do not say train/val.",
        "acc = evaluate(model, train_loader)",
    ),
    "to-device-after-optimizer": RuleDoc(
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
    # --- DDP rules (issue 13), in scaffold/check/ddp.py
    "ddp-missing-set-epoch": RuleDoc(
        "A `DistributedSampler(...)` that shuffles (no `shuffle=False`), or an instance of a class "
        "of the same file that defines `set_epoch` or subclasses DistributedSampler, in a file "
        "where nothing calls `.set_epoch(x)` with a non-constant argument (`set_epoch(0)` once "
        "does not count). Any such call counts, wherever it is (the checker does not follow it "
        "to the sampler).",
        "Samplers built in another module (`create_dataloader(...)` returning one), and a "
        "`set_epoch(epoch)` call on some other object that hides the missing one.",
        "sampler = DistributedSampler(train_set)\nloader = DataLoader(train_set, sampler=sampler)\n"
        "for epoch in range(epochs):\n    train_one_epoch(model, loader)",
    ),
    "ddp-scheduler-per-process": RuleDoc(
        "`scheduler.step()` (a variable built as a scheduler, or named *sched*) inside "
        "`for _ in range(N)` where N names the world size (`world_size`, `get_world_size()`, "
        "`num_processes`, `num_replicas`, `nprocs`, `ngpus`): the schedule advances N steps per "
        "optimizer step.",
        "A scheduler stepped per process by a wrapper (accelerate's prepared scheduler with a "
        "schedule sized for one process), or a schedule length multiplied or divided by the "
        "world size: both need the numbers, not the text.",
        "optimizer.step()\nfor _ in range(dist.get_world_size()):\n    scheduler.step()",
    ),
    "ddp-padded-validation": RuleDoc(
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
    ),
    "ddp-accumulation-without-no-sync": RuleDoc(
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
}


def render() -> str:
    """The full text of docs/check.md."""
    out = [
        "# `scaffold check`: rules",
        "",
        "<!-- Generated by `python -m scaffold.check.ruledocs > docs/check.md`; do not edit. -->",
        "",
        "`scaffold check PATH... [--format text|json|sarif|github] [--select IDS] [--ignore IDS]",
        "[--strict] [--exit-zero] [-q] [--progress]` reads Python files (directories are walked for",
        "`*.py`) without running them and reports the classic training-loop mistakes of the teaching",
        "catalogue, one ID per mistake.",
        "",
        "- Text output: `path:line:col: ID message (why)`; hints carry `(hint)` after the ID. On",
        "  stderr: one `error:` line per file that could not be checked, a per-file count when",
        "  several files have findings, and a total (`-q` prints findings only).",
        '- JSON output (`--format json`): `{"files_checked": N, "findings": [{path, line, col, id,',
        '  message, severity, confidence, title, why}], "file_errors": [{path, line, col,',
        "  message}]}`; `severity` is `error` or `hint`, `confidence` is `high`, `medium` or `low`",
        "  (ordering rules are high; rules that lean on names are medium; hints are low).",
        "- `--format sarif` writes SARIF 2.1.0 (for code-scanning uploads); `--format github` writes",
        "  `::error file=...,line=...::` workflow commands, shown as pull-request annotations.",
        "- Exit status: 0 when there are no errors, 1 with errors, 2 for usage errors or when any file",
        "  could not be read, decoded or parsed (the other files are still checked and reported; see",
        "  docs/errors.md). Hints alone exit 0; `--strict` makes them exit 1; `--exit-zero` makes",
        "  findings exit 0 (an unchecked file still exits 2).",
        "- `--select`/`--ignore` take comma-separated IDs or prefixes (`clip` = every `clip-*` rule,",
        "  `ALL`); a code that matches no rule is a usage error.",
        "- Progress (`[i/N] path`) goes to stderr when it is a terminal, or with `--progress`.",
        "- Files are decoded as Python does: a UTF-8 BOM or a `# -*- coding: ... -*-` line counts.",
        "- Silence one line with `# scaffold: ignore[ID]` or `# scaffold: ignore[ID1,ID2]` on the",
        "  line the finding points at.",
        "- pre-commit: this repository ships `.pre-commit-hooks.yaml` with the hook `scaffold-check`.",
        "",
        "## How it works",
        "",
        "The file is parsed with `ast`. Ordering rules run an abstract interpreter over a set of",
        "states (gradients empty/fresh/used/wiped, scaled/unscaled, models in eval mode, whether this",
        "iteration already stepped). Each loop body is walked twice: the second walk starts from the",
        "state the first one ended in, so zero_grad last in the body and an `evaluate()` that",
        "leaves the model in eval mode are both seen as the next iteration sees them. Calls to",
        "functions and methods of the same file are followed with their parameters bound to the",
        "caller's variables (`self.optimizer`, Trainer classes, `train_one_epoch(...)`). Most",
        "rules fire only when every path agrees, so the checker prefers missing a bug hidden behind",
        "a condition to inventing one. Functions that nothing in the file calls are checked on",
        "their own. Hints (low-confidence rules and myths) are marked as such.",
        "",
        "## Accuracy and speed",
        "",
        "`tests/check_corpus/` holds hand-written training scripts in many styles (functions,",
        "Trainer classes, while loops over iterators, tqdm, AMP, accumulation, Hugging Face,",
        "Lightning, DDP), each labelled in its first line: `# expect: clean` or",
        "`# expect: ID@LINE`. `python -m scaffold.check.evaluate` prints precision and recall per",
        "rule; the test suite requires at least 0.95 and 0.90 overall. Every correct render of",
        "the project template must give no finding, and one-line mutations of it are flagged with",
        "their own ID (`tests/check/test_template_variants.py`). `python bench/check_speed.py`",
        "times a 2,000-line file (a few hundred milliseconds).",
        "",
        *evaluation_section(),
        "## Rules",
        "",
    ]
    for bug in BUGS:
        doc = RULE_DOCS[bug.id]
        kind = {"hint": " (hint)", "myth": " (myth check, hint)"}.get(bug.kind, "")
        out += [
            f"### `{bug.id}`{kind}",
            "",
            f"**{bug.title}.** {bug.why[0].upper()}{bug.why[1:]}.",
            "",
            f"- Catches: {doc.catches}",
            f"- Does not catch: {doc.misses}",
            f"- Teaching variant (`scaffold teach {bug.id} DEST --task TASK`): {applicability(bug.id)}",
            "",
            "```python",
            doc.example,
            "```",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
