"""One positive and at least one negative snippet per rule."""

from __future__ import annotations

import textwrap

import pytest

from scaffold.check import check_source


def ids(source: str) -> list[str]:
    """IDs found in a dedented snippet."""
    return [f.id for f in check_source(textwrap.dedent(source))]


LOOP = """
import torch
def train(model, loader, optimizer, criterion):
    model.train()
    for epoch in range(10):
        for x, y in loader:
{body}
"""


def loop(*lines: str) -> str:
    return LOOP.format(body="\n".join("            " + line for line in lines))


CANON = [
    "optimizer.zero_grad()",
    "loss = criterion(model(x), y)",
    "loss.backward()",
    "optimizer.step()",
]


@pytest.mark.parametrize(
    "body",
    [
        CANON,
        CANON[1:] + CANON[:1],  # zero_grad last
        [
            "loss = criterion(model(x), y)",
            "loss.backward()",
            "optimizer.step()",
            "optimizer.zero_grad(set_to_none=True)",
        ],
        ["model.zero_grad()", *CANON[1:]],
        ["for p in model.parameters():", "    p.grad = None", *CANON[1:]],
        [
            "optimizer.zero_grad()",
            "loss = criterion(model(x), y)",
            "loss.backward()",
            "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
            "optimizer.step()",
        ],
    ],
)
def test_correct_orders_are_clean(body: list[str]) -> None:
    assert ids(loop(*body)) == []


def test_zero_grad_missing() -> None:
    assert ids(loop(*CANON[1:])) == ["zero-grad-missing"]


def test_zero_grad_only_before_loop_is_missing() -> None:
    src = LOOP.replace("    for epoch", "    optimizer.zero_grad()\n    for epoch").format(
        body="\n".join("            " + line for line in CANON[1:])
    )
    assert ids(src) == ["zero-grad-missing"]


def test_zero_grad_after_backward() -> None:
    body = [
        "loss = criterion(model(x), y)",
        "loss.backward()",
        "optimizer.zero_grad()",
        "optimizer.step()",
    ]
    assert ids(loop(*body)) == ["zero-grad-after-backward"]


def test_clip_before_backward_and_after_step() -> None:
    clip = "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)"
    assert ids(loop(CANON[0], CANON[1], clip, CANON[2], CANON[3])) == ["clip-before-backward"]
    assert ids(loop(*CANON, clip)) == ["clip-after-step"]
    # Without any zero_grad the clip before backward still sees last iteration's gradients.
    assert "clip-before-backward" in ids(loop(clip, *CANON[1:]))


def test_clip_in_helper_after_step() -> None:
    src = """
    import torch
    def update(opt, model):
        opt.step()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    def train(model, loader, opt):
        for x, y in loader:
            opt.zero_grad()
            model(x).sum().backward()
            update(opt, model)
    """
    assert ids(src) == ["clip-after-step"]


def test_clip_without_unscale() -> None:
    body = [
        "optimizer.zero_grad()",
        "loss = criterion(model(x), y)",
        "scaler.scale(loss).backward()",
        "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
        "scaler.step(optimizer)",
        "scaler.update()",
    ]
    assert ids(loop(*body)) == ["clip-without-unscale"]
    fixed = [*body[:3], "scaler.unscale_(optimizer)", *body[3:]]
    assert ids(loop(*fixed)) == []


def test_clip_without_unscale_not_flagged_on_correlated_branches() -> None:
    body = [
        "optimizer.zero_grad()",
        "loss = criterion(model(x), y)",
        "if use_amp:",
        "    scaler.scale(loss).backward()",
        "else:",
        "    loss.backward()",
        "if use_amp:",
        "    scaler.unscale_(optimizer)",
        "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
        "optimizer.step()",
    ]
    assert ids(loop(*body)) == []


SCHED = """
import torch
from torch.optim import lr_scheduler
def main(model, loader, criterion):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = {ctor}
    for epoch in range(10):
        model.train()
        for x, y in loader:
            opt.zero_grad()
            criterion(model(x), y).backward()
{inner}
{outer}
"""


def sched(ctor: str, inner: list[str], outer: list[str] = ()) -> str:
    return SCHED.format(
        ctor=ctor,
        inner="\n".join("            " + line for line in inner),
        outer="\n".join("        " + line for line in outer),
    )


STEPLR = "lr_scheduler.StepLR(opt, step_size=10)"
ONECYCLE = "lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=1000)"


def test_epoch_scheduler_after_batch_loop_is_clean() -> None:
    assert ids(sched(STEPLR, ["opt.step()"], ["sched.step()"])) == []


def test_epoch_scheduler_in_batch_loop() -> None:
    assert ids(sched(STEPLR, ["opt.step()", "sched.step()"])) == ["scheduler-in-batch-loop"]


def test_epoch_scheduler_counted_in_steps_is_not_flagged() -> None:
    ctor = "lr_scheduler.CosineAnnealingLR(opt, T_max=10 * len(loader))"
    assert ids(sched(ctor, ["opt.step()", "sched.step()"])) == []


def test_onecycle_per_batch_is_clean_and_before_step_is_flagged() -> None:
    assert ids(sched(ONECYCLE, ["opt.step()", "sched.step()"])) == []
    assert ids(sched(ONECYCLE, ["sched.step()", "opt.step()"])) == ["scheduler-before-optimizer-step"]


def test_epoch_scheduler_before_batch_loop() -> None:
    src = sched(STEPLR, ["opt.step()"]).replace("        model.train()", "        sched.step()\n        model.train()")
    assert ids(src) == ["scheduler-before-optimizer-step"]


def test_plateau_with_metric_per_epoch_is_clean_and_per_batch_is_flagged() -> None:
    ctor = "lr_scheduler.ReduceLROnPlateau(opt)"
    assert ids(sched(ctor, ["opt.step()"], ["sched.step(val_loss)"])) == []
    assert ids(sched(ctor, ["opt.step()", "sched.step(loss.item())"])) == ["scheduler-in-batch-loop"]


def test_unknown_scheduler_is_not_flagged() -> None:
    assert ids(sched("build_scheduler(opt)", ["sched.step()", "opt.step()"])) == []
    assert ids(sched("lr_scheduler.LambdaLR(opt, f)", ["opt.step()", "sched.step()"])) == []


TRAIN_EVAL = """
import torch
def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        out = [model(x) for x, _ in loader]
{restore}
    return out
def main(model, train_loader, val_loader, opt):
    model.train()
    for epoch in range(5):
{top}
        for x, y in train_loader:
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
        evaluate(model, val_loader)
main(None, None, None, None)
"""


def test_missing_train_mode_through_helper() -> None:
    assert ids(TRAIN_EVAL.format(restore="", top="")) == ["missing-train-mode"]
    assert ids(TRAIN_EVAL.format(restore="    model.train()", top="")) == []
    assert ids(TRAIN_EVAL.format(restore="", top="        model.train()")) == []


def test_validation_in_train_mode_and_without_no_grad() -> None:
    base = """
    import torch
    def validate(model, val_loader):
        {mode}
        {ctx}
            return [model(x) for x, _ in val_loader]
    """
    assert ids(base.format(mode="model.eval()", ctx="with torch.no_grad():")) == []
    assert ids(base.format(mode="pass", ctx="with torch.no_grad():")) == ["validation-in-train-mode"]
    assert ids(base.format(mode="model.eval()", ctx="if True:")) == ["validation-without-no-grad"]


def test_eval_done_by_caller_counts() -> None:
    src = """
    import torch
    @torch.no_grad()
    def evaluate(model, loader):
        return [model(x) for x, _ in loader]
    def main(model, val_loader):
        model.eval()
        evaluate(model, val_loader)
        model.train()
    main(None, None)
    """
    assert ids(src) == []


def test_log_loss_tensor() -> None:
    assert ids(loop(*CANON, "total += loss")) == ["log-loss-tensor"]
    assert ids(loop(*CANON, "history.append(loss)")) == ["log-loss-tensor"]
    assert ids(loop(*CANON, "total += loss.item()")) == []
    assert ids(loop(*CANON, "total += loss.detach() * x.size(0)")) == []
    assert ids(loop(*CANON, "history.append(float(loss))")) == []


def test_softmax_before_cross_entropy() -> None:
    src = """
    import torch.nn as nn, torch.nn.functional as F
    class Net(nn.Module):
        def forward(self, x):
            return F.{fn}(self.fc(x), dim=1)
    loss_fn = nn.{loss}()
    """
    assert ids(src.format(fn="softmax", loss="CrossEntropyLoss")) == ["softmax-before-cross-entropy"]
    assert ids(src.format(fn="log_softmax", loss="NLLLoss")) == []
    assert ids(src.format(fn="softmax", loss="MSELoss")) == []
    direct = "import torch.nn.functional as F\nloss = F.cross_entropy(F.softmax(logits, 1), y)\n"
    assert ids(direct) == ["softmax-before-cross-entropy"]


def test_checkpoint_best_is_a_hint_only_when_unguarded() -> None:
    src = """
    import torch
    for epoch in range(10):
        val = run()
        {guard}
            torch.save(model.state_dict(), "best.pt")
    """
    assert ids(src.format(guard="if val < best:")) == []
    assert ids(src.format(guard="if improved(val, best_val):")) == []
    assert ids(src.format(guard="if not dry_run:")) == ["checkpoint-last-not-best"]
    unguarded = textwrap.dedent(src.format(guard="with open('x'):"))
    findings = check_source(unguarded)
    assert [(f.id, f.severity) for f in findings] == [("checkpoint-last-not-best", "hint")]


def test_accumulation_loss_not_scaled() -> None:
    body = [
        "loss = criterion(model(x), y)",
        "loss.backward()",
        "if (i + 1) % accum == 0:",
        "    optimizer.step()",
        "    optimizer.zero_grad()",
    ]
    assert ids(loop(*body)) == ["accumulation-loss-not-scaled"]
    scaled = ["loss = criterion(model(x), y) / accum", *body[1:]]
    assert ids(loop(*scaled)) == []
    weighted = [
        "loss = criterion(model(x), y)",
        "(loss * (n / window)).backward()",
        *body[2:],
    ]
    assert ids(loop(*weighted)) == []


def test_validate_on_train_split() -> None:
    src = """
    def evaluate(model, loader):
        return 0
    evaluate(model, {a})
    {b}
    """
    assert ids(src.format(a="train_loader", b="")) == ["validate-on-train-split"]
    assert ids(src.format(a="train_loader", b="evaluate(model, val_loader)")) == []
    assert ids(src.format(a="val_loader", b="")) == []
    assert ids("val_loader = DataLoader(train_ds, batch_size=8)\n") == ["validate-on-train-split"]


def test_to_device_after_optimizer_is_a_myth_hint() -> None:
    head = "import torch\nopt = torch.optim.Adam(model.parameters())\n"
    # A plain move is the myth: reported (as a hint, see test_cli) with the real conditions.
    assert ids(head + "model.to(device)\n") == ["to-device-after-optimizer"]
    assert ids(head + "model = model.to('cuda')\n") == ["to-device-after-optimizer"]
    assert ids("import torch\nmodel.to(device)\nopt = torch.optim.Adam(model.parameters())\n") == []
    assert ids(head + "model.half()\n") == ["to-device-after-optimizer"]
    assert ids(head + "model.to(device, torch.bfloat16)\n") == ["to-device-after-optimizer"]
    assert ids(head + "model.to(dtype=torch.float64)\n") == ["to-device-after-optimizer"]
    assert ids("import torch\nmodel.half()\nopt = torch.optim.Adam(model.parameters())\n") == []


def test_trainer_class_with_attributes() -> None:
    src = """
    import torch
    class Trainer:
        def __init__(self, model, loader):
            self.model = model
            self.loader = loader
            self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, 5)
        def step(self, x, y):
            self.optimizer.zero_grad()
            self.model(x).sum().backward()
            self.optimizer.step()
            {inner}
        def fit(self):
            for epoch in range(3):
                self.model.train()
                for x, y in self.loader:
                    self.step(x, y)
                {outer}
    Trainer(None, None).fit()
    """
    assert ids(src.format(inner="", outer="self.scheduler.step()")) == []
    assert ids(src.format(inner="self.scheduler.step()", outer="")) == ["scheduler-in-batch-loop"]


PATHS = """
import torch
def main(model, train_loader, val_loader, epochs, do_validation):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        if do_validation:
            model.eval()
"""


def test_a_mistake_on_some_paths_is_a_hint_naming_the_condition() -> None:
    (finding,) = check_source(PATHS)
    assert finding.id == "missing-train-mode" and finding.severity == "hint" and finding.confidence == "low"
    assert "only when `do_validation`" in finding.message
    (finding,) = check_source(
        PATHS.replace("        if do_validation:\n            model.eval()", "        model.eval()")
    )
    assert finding.severity == "error"


def test_an_iteration_that_zeroes_before_continue_does_not_accumulate() -> None:
    source = (
        "def run(model, loader, opt, phase):\n    for x in loader:\n        loss = model(x).sum()\n"
        "        loss.backward()\n        if phase != 'train':\n            opt.zero_grad()\n"
        "            continue\n        opt.step()\n        opt.zero_grad()\n"
    )
    assert check_source(source) == []  # the path that zeroes after backward never steps or carries


def test_followed_import_is_read_but_not_reported(tmp_path) -> None:
    (tmp_path / "engine.py").write_text(
        "def evaluate(model, loader):\n    model.eval()\n    for x in loader:\n        model(x)\n"
    )
    script = (
        "from engine import evaluate\n\ndef fit(model, loader, opt):\n    model.train()\n"
        "    for epoch in range(3):\n        for x in loader:\n            opt.zero_grad()\n"
        "            model(x).sum().backward()\n            opt.step()\n        evaluate(model, loader)\n"
    )
    (tmp_path / "train.py").write_text(script)
    found = check_source(script, str(tmp_path / "train.py"))
    assert [(f.id, f.line) for f in found] == [("missing-train-mode", 10)]  # at the call, in this file
    assert check_source(script, "train.py") == []  # not on disk: nothing to follow
