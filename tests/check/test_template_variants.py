"""The generated train.py is clean, and one-line mutations in the style of the teaching variants
are each flagged with their own ID. Skipped where `scaffold new` cannot render (no copier)."""

from __future__ import annotations

import pytest

from scaffold.check import check_source

pytest.importorskip("copier")


TRAIN_LINE = "c.model.train()\n"
RESTORE = "c.model.train(was_training)\n"

# (expected ID, [(old, new), ...]); every `old` must occur exactly once in the render.
FP16_MUTATIONS = [
    ("zero-grad-missing", [("c.optimizer.zero_grad(set_to_none=True)", "pass")]),
    (
        "zero-grad-after-backward",
        [
            ("c.optimizer.zero_grad(set_to_none=True)", "pass"),
            (
                "        c.scaler.step(c.optimizer)",
                "        c.optimizer.zero_grad()\n        c.scaler.step(c.optimizer)",
            ),
        ],
    ),
    (
        "clip-before-backward",
        [
            ("grad_norm = torch.nn.utils.clip_grad_norm_(c.model.parameters(), cfg.grad_clip)", "pass"),
            (
                "            c.scaler.scale(share).backward()",
                (
                    "            torch.nn.utils.clip_grad_norm_(c.model.parameters(), 1.0)\n"
                    "            c.scaler.scale(share).backward()"
                ),
            ),
        ],
    ),
    (
        "clip-after-step",
        [
            ("grad_norm = torch.nn.utils.clip_grad_norm_(c.model.parameters(), cfg.grad_clip)", "pass"),
            (
                "        c.scaler.update()",
                "        c.scaler.update()\n        torch.nn.utils.clip_grad_norm_(c.model.parameters(), 1.0)",
            ),
        ],
    ),
    ("clip-without-unscale", [("c.scaler.unscale_(c.optimizer)", "pass")]),
    (
        "scheduler-in-batch-loop",
        [
            ("        c.scheduler.step()\n", "        pass\n"),
            ("        c.scaler.update()", "        c.scaler.update()\n        c.scheduler.step()"),
        ],
    ),
    (
        "scheduler-before-optimizer-step",
        [
            ("        c.scheduler.step()\n", "        pass\n"),
            (
                "        train_loss = train_one_epoch(",
                "        c.scheduler.step()\n        train_loss = train_one_epoch(",
            ),
        ],
    ),
    ("missing-train-mode", [(TRAIN_LINE, "pass\n"), (RESTORE, "pass\n")]),
    ("validation-in-train-mode", [("c.model.eval()", "pass")]),
    ("validation-without-no-grad", [("with torch.no_grad():", "if True:")]),
    ("log-loss-tensor", [("loss_sum += loss.detach() *", "loss_sum += loss *")]),
    (
        "softmax-before-cross-entropy",
        [("return self.layers(x)", "return torch.softmax(self.layers(x), dim=1)")],
    ),
    (
        "softmax-before-cross-entropy",
        [
            (
                "        self.layers = nn.Sequential(*layers)",
                "        layers.append(nn.Softmax(dim=1))\n        self.layers = nn.Sequential(*layers)",
            )
        ],
    ),
    (
        "validate-on-train-split",
        [("TensorDataset(x[val_idx], y[val_idx])", "TensorDataset(x[train_idx], y[train_idx])")],
    ),
    (
        "checkpoint-last-not-best",
        [("if improved(metric, progress.best_metric):", "if True:")],
    ),
    (
        "accumulation-loss-not-scaled",
        [("c.scaler.scale(share).backward()", "c.scaler.scale(loss).backward()")],
    ),
    (
        "validate-on-train-split",
        [("evaluate(c, val_loader, max_batches)", "evaluate(c, train_loader, max_batches)")],
    ),
    (
        "to-device-after-optimizer",
        [
            (
                "    optimizer = build_optimizer(model, cfg, device)\n",
                "    optimizer = build_optimizer(model, cfg, device)\n    model.half()\n",
            )
        ],
    ),
]

ONECYCLE_MUTATIONS = [
    (
        "scheduler-before-optimizer-step",
        [
            ("        c.scheduler.step()\n", ""),
            ("        c.optimizer.step()", "        c.scheduler.step()\n        c.optimizer.step()"),
        ],
    ),
    (
        "zero-grad-after-backward",
        [
            ("        c.optimizer.zero_grad(set_to_none=True)\n", ""),
            ("        c.optimizer.step()", "        c.optimizer.zero_grad()\n        c.optimizer.step()"),
        ],
    ),
    (
        "zero-grad-missing",
        [("        c.optimizer.zero_grad(set_to_none=True)\n", "")],
    ),
]


def _render(**answers: object) -> str:
    return _render_files(**answers)["train.py"]


def _render_files(**answers: object) -> dict[str, str]:
    try:
        from scaffold import options, render
    except ImportError as exc:  # pragma: no cover - rendering needs the render library
        pytest.skip(f"cannot render: {exc}")
    return render.render_in_memory(options.resolve_answers(answers))


def _one_file(files: dict[str, str]) -> str:
    """data.py, model.py and train.py as the one script they were before the split.

    `scaffold check` reads one file at a time; the mutations that live in the model or the data
    (a softmax in forward(), a validation split built from training rows) are rules about a
    script that holds the loop too, so they are checked on the project joined into one file.
    """
    own = ("from __future__ import", "from data import", "from model import")
    parts = [
        "\n".join(line for line in files[name].splitlines() if not line.startswith(own))
        for name in ("data.py", "model.py", "train.py")
    ]
    return "from __future__ import annotations\n" + "\n\n".join(parts)


@pytest.fixture(scope="module")
def fp16_source() -> str:
    return _one_file(_render_files(precision="fp16", accum_steps=3, annotations="none"))


@pytest.fixture(scope="module")
def onecycle_source() -> str:
    return _render(scheduler="onecycle", annotations="none")


def _mutate(source: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times"
        source = source.replace(old, new)
    return source


def test_renders_are_clean(fp16_source: str, onecycle_source: str) -> None:
    assert check_source(fp16_source) == []
    assert check_source(onecycle_source) == []


@pytest.mark.parametrize("bug_id,edits", FP16_MUTATIONS, ids=[f"{i}-{m[0]}" for i, m in enumerate(FP16_MUTATIONS)])
def test_fp16_accumulation_mutations(fp16_source: str, bug_id: str, edits) -> None:
    found = {f.id for f in check_source(_mutate(fp16_source, edits))}
    assert found == {bug_id}


@pytest.mark.parametrize("bug_id,edits", ONECYCLE_MUTATIONS, ids=[m[0] for m in ONECYCLE_MUTATIONS])
def test_onecycle_mutations(onecycle_source: str, bug_id: str, edits) -> None:
    found = {f.id for f in check_source(_mutate(onecycle_source, edits))}
    assert found == {bug_id}


# The mutations main's tests/test_generated_tests_can_fail.py uses against the generated tests,
# with what the checker should say: the catalogue ID, or nothing for mistakes outside its reach.
LEAD_MUTATIONS = [
    (
        {"clip-after-step"},
        [
            ("            grad_norm = torch.nn.utils.clip_grad_norm_(c.model.parameters(), cfg.grad_clip)\n", ""),
            (
                "        c.scaler.update()\n",
                "        c.scaler.update()\n        torch.nn.utils.clip_grad_norm_(c.model.parameters(), 1.0)\n",
            ),
        ],
    ),
    (set(), [("share = loss * (y.numel() / windows[i // cfg.accum_steps])", "share = loss / cfg.accum_steps")]),
    ({"validation-in-train-mode"}, [("    c.model.eval()\n", "")]),
    (set(), [("        c.scaler.step(c.optimizer)\n", "")]),
    (
        {"scheduler-before-optimizer-step"},
        [("\n        seen += y.numel()\n", "\n        seen += y.numel()\n        c.scheduler.step()\n")],
    ),
]


@pytest.fixture(scope="module")
def lead_source() -> str:
    return _render(accum_steps=4, precision="fp16", scheduler="onecycle", annotations="none")


@pytest.mark.parametrize("expected,edits", LEAD_MUTATIONS, ids=[str(i) for i in range(len(LEAD_MUTATIONS))])
def test_lead_mutations(lead_source: str, expected: set[str], edits) -> None:
    assert check_source(lead_source) == []
    assert {f.id for f in check_source(_mutate(lead_source, edits))} == expected


# Every headline value at least once, with the interactions that change the loop's shape.
RENDERS = [
    {"precision": p, "accum_steps": a, "scheduler": s, "scheduler_cadence": c, "checkpoint": k}
    for p, a, s, c, k in [
        ("fp32", 1, "cosine", "epoch", "best_and_last"),
        ("fp32", 2, "cosine", "step", "best"),
        ("bf16", 1, "warmup_cosine", "step", "last"),
        ("bf16", 3, "warmup_cosine", "epoch", "none"),
        ("fp16", 1, "onecycle", "step", "best_and_last"),
        ("fp16", 4, "step", "epoch", "best"),
        ("fp16", 2, "step", "step", "last"),
        ("fp32", 1, "plateau", "epoch", "best_and_last"),
        ("bf16", 2, "plateau", "epoch", "best"),
        ("fp16", 3, "none", None, "best_and_last"),
    ]
]


@pytest.mark.parametrize("answers", RENDERS, ids=lambda a: "-".join(str(v) for v in a.values()))
def test_correct_renders_have_no_findings(answers: dict) -> None:
    answers = {k: v for k, v in answers.items() if v is not None}
    answers.update(compile="default", val_mode="inference_mode", annotations="full")
    assert check_source(_render(**answers)) == []
