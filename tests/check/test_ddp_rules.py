"""The DDP rules (scaffold/check/ddp.py) on the edge cases their docs promise: what counts as a
fed epoch, a held-out sampler, a per-process scheduler loop and an accumulating backward."""

from __future__ import annotations

import textwrap

import pytest

from scaffold.check import check_source

HEAD = "import torch\nfrom torch.utils.data import DataLoader, DistributedSampler\nfrom torch.nn.parallel import DistributedDataParallel as DDP\n"

CASES = {
    # ddp-missing-set-epoch
    "sampler never fed": (
        "s = DistributedSampler(ds)\nfor epoch in range(3):\n    run(s)\n",
        {"ddp-missing-set-epoch"},
    ),
    "constant set_epoch": (
        "s = DistributedSampler(ds)\ns.set_epoch(0)\nfor e in range(3):\n    run(s)\n",
        {"ddp-missing-set-epoch"},
    ),
    "fed through the loader": (
        "s = DistributedSampler(ds)\nfor e in range(3):\n    loader.sampler.set_epoch(e)\n",
        set(),
    ),
    "no shuffle, no epoch needed": (
        "s = DistributedSampler(ds, shuffle=False)\nfor e in range(3):\n    run(s)\n",
        set(),
    ),
    "own sampler class": (
        "class S(torch.utils.data.Sampler):\n    def set_epoch(self, e):\n        self.e = e\n\nloader = DataLoader(ds, sampler=S())\n",
        {"ddp-missing-set-epoch"},
    ),
    # ddp-padded-validation
    "val sampler pads": (
        "val_sampler = DistributedSampler(val_ds, shuffle=False)\nval_sampler.set_epoch(e)\ndist.all_reduce(acc)\n",
        {"ddp-padded-validation"},
    ),
    "val sampler drops": ("val_sampler = DistributedSampler(val_ds, shuffle=False, drop_last=True)\n", set()),
    "keyword names it": ("dl = DataLoader(x, sampler=DistributedSampler(x, shuffle=False), test=1)\n", set()),
    "train sampler in eval function": (
        "def eval_linear(train_set, e):\n    s = DistributedSampler(train_set)\n    s.set_epoch(e)\n",
        set(),
    ),
    "builder named for validation": (
        "def build_val_loader(ds):\n    return DataLoader(ds, sampler=DistributedSampler(ds, shuffle=False))\n"
        "def score(total):\n    dist.all_reduce(total)\n",
        {"ddp-padded-validation"},
    ),
    "padded validation whose metric no rank combines": (
        "def build_val_loader(ds):\n    return DataLoader(ds, sampler=DistributedSampler(ds, shuffle=False))\n",
        set(),
    ),
    "shuffled validation sampler needs no set_epoch": (
        "val_sampler = DistributedSampler(val_set, drop_last=True)\n",
        set(),
    ),
    # ddp-scheduler-per-process
    "scheduler per process": (
        "for _ in range(dist.get_world_size()):\n    scheduler.step()\n",
        {"ddp-scheduler-per-process"},
    ),
    "scheduler per epoch": ("for _ in range(epochs):\n    scheduler.step()\n", set()),
    "optimizer per process is not a scheduler": ("for _ in range(world_size):\n    optimizer.step()\n", set()),
}

ACCUM = """
model = DDP(net)
for i, (x, y) in enumerate(loader):
{with_line}    loss = criterion(model(x), y) / k
{pad}loss.backward()
    if (i + 1) % k == 0:
        optimizer.step()
        optimizer.zero_grad()
"""


@pytest.mark.parametrize("name", sorted(CASES))
def test_ddp_rule_cases(name):
    body, expected = CASES[name]
    assert {f.id for f in check_source(HEAD + body)} == expected


@pytest.mark.parametrize(
    ("with_line", "expected"),
    [
        ("", {"ddp-accumulation-without-no-sync"}),
        ("    with contextlib.nullcontext():\n", {"ddp-accumulation-without-no-sync"}),
        ("    with model.no_sync():\n", set()),
        ("    with accelerator.accumulate(model):\n", set()),
    ],
    ids=["bare", "nullcontext", "no_sync", "accelerate"],
)
def test_accumulation_needs_no_sync(with_line, expected):
    pad = "        " if with_line else "    "
    source = ACCUM.format(with_line=with_line, pad=pad)
    if with_line:
        source = source.replace("\n    loss = criterion", "\n        loss = criterion")
    assert {f.id for f in check_source(HEAD + textwrap.dedent(source))} == expected


def test_no_accumulation_or_no_ddp_is_silent():
    every_step = ACCUM.format(with_line="", pad="    ").replace("    if (i + 1) % k == 0:\n", "    for _ in [0]:\n")
    assert check_source(HEAD + every_step) == []  # the step runs every iteration: nothing accumulates
    plain = ACCUM.format(with_line="", pad="    ").replace("model = DDP(net)", "model = net")
    assert check_source(HEAD + plain) == []
    toggled = ACCUM.format(with_line="", pad="    ") + "model.require_backward_grad_sync = False\n"
    assert check_source(HEAD + toggled) == []
