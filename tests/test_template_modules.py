"""Each feature module of the template, rendered on its own.

Every answer axis that changes the loop is a folder of interchangeable modules with the same
macro names (includes/precision/, includes/schedulers/, includes/parallel/,
includes/checkpoint/), chosen by name. These tests import one module into a tiny Jinja
environment over the template folder, call its macros, and check what they write, so a feature
can be changed without rendering a whole project. The byte-identity of whole renders is
tools/template_identity.py's job.
"""

from __future__ import annotations

import ast
import re
import textwrap

import pytest
import yaml
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from scaffold.options import question_map, resolve_answers
from scaffold.paths import template_dir

ROOT = template_dir()
INCLUDES = ROOT / "includes"
SCHEDULERS = question_map()["scheduler"].choices
PRECISIONS = question_map()["precision"].choices
PARALLEL = {"none": "single", "ddp": "ddp"}  # distributed answer -> includes/parallel module


def environment() -> SandboxedEnvironment:
    """Jinja as copier sets it up for this template (copier.yml's _envops)."""
    settings = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(ROOT)),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        **settings["_envops"],
    )


ENV = environment()


def module(path: str, **given):
    """The template module at `path` (relative to the template), imported with the context of
    a complete answer set built from `given` (the other answers take their defaults)."""
    return ENV.get_template(path).make_module(resolve_answers(given))


def exported(mod) -> set[str]:
    return {name for name in vars(mod) if not name.startswith("_")}


def parses(code: str) -> bool:
    """Whether `code` (maybe indented as a block of a function body) is valid Python."""
    try:
        ast.parse(textwrap.dedent(code.strip("\n")))
    except SyntaxError:
        return False
    return True


def modules_in(folder: str) -> set[str]:
    """The choosable modules of a folder (files starting with _ are shared parts)."""
    return {p.stem for p in (INCLUDES / folder).glob("*.jinja") if not p.name.startswith("_")}


# --------------------------------------------------------------------------------------------
# Every folder: one module per choice, the same names in each
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("folder", "choices"),
    [
        ("schedulers", set(SCHEDULERS)),
        ("precision", set(PRECISIONS)),
        ("parallel", set(PARALLEL.values())),
        ("checkpoint", {"last", "no_last", "best", "no_best", "files"}),
    ],
)
def test_each_choice_has_its_module_and_no_module_is_orphaned(folder, choices):
    assert modules_in(folder) == choices


SAME_NAMES = [
    ("scheduler", [(f"includes/schedulers/{s}.jinja", {"scheduler": s}) for s in SCHEDULERS]),
    ("precision", [(f"includes/precision/{p}.jinja", {"precision": p}) for p in PRECISIONS]),
    (
        "parallel",
        [(f"includes/parallel/{m}.jinja", {"distributed": d}) for d, m in PARALLEL.items()],
    ),
    (
        "last",
        [
            ("includes/checkpoint/last.jinja", {"checkpoint": "last"}),
            ("includes/checkpoint/no_last.jinja", {"checkpoint": "best"}),
        ],
    ),
    (
        "best",
        [
            ("includes/checkpoint/best.jinja", {"checkpoint": "best"}),
            ("includes/checkpoint/no_best.jinja", {"checkpoint": "last"}),
        ],
    ),
]


@pytest.mark.parametrize(("axis", "members"), SAME_NAMES, ids=[a for a, _ in SAME_NAMES])
def test_modules_of_an_axis_export_the_same_names(axis, members):
    names = {path: exported(module(path, **given)) for path, given in members}
    first = next(iter(names.values()))
    assert first, f"{axis}: no macros exported"
    for path, found in names.items():
        assert found == first, f"{path}: {sorted(found ^ first)} differ from the others"


# --------------------------------------------------------------------------------------------
# Schedulers
# --------------------------------------------------------------------------------------------
def scheduler_cases():
    for scheduler in SCHEDULERS:
        if scheduler == "none":
            continue
        for cadence in ("epoch", "step"):
            given = {"scheduler": scheduler, "scheduler_cadence": cadence}
            try:
                resolve_answers(given)
            except Exception:  # noqa: BLE001 - a pair copier.yml refuses (plateau per step)
                continue
            yield pytest.param(given, id=f"{scheduler}-{cadence}")


@pytest.mark.parametrize("given", list(scheduler_cases()))
def test_scheduler_builds_valid_python_and_steps_at_its_cadence(given):
    sched = module(f"includes/schedulers/{given['scheduler']}.jinja", **given)
    build = sched.build()
    assert parses(build), build
    tree = ast.parse(build)
    assert [node.name for node in tree.body] == ["build_scheduler"]
    assert sched.summary() and sched.summary() in build
    assert ("total = max(1" in build) == sched.horizon  # a horizon is laid out over the run
    per_step = given["scheduler_cadence"] == "step"
    batch, epoch = sched.batch_step(8), sched.epoch_step()
    assert ("c.scheduler.step()" in batch) == per_step and parses(batch)
    assert ("c.scheduler.step(" in epoch) == (not per_step) and parses(epoch)
    for line in (batch + epoch).splitlines():  # the loop's indentation, as called
        assert not line or line.startswith(" " * 8)
    assert sched.label() == f"{given['scheduler']} ({given['scheduler_cadence']})"
    assert '"scheduler"' in sched.state_keys() and "c.scheduler" in sched.restore()


def test_plateau_steps_with_the_monitored_metric():
    sched = module("includes/schedulers/plateau.jinja", scheduler="plateau")
    assert "c.scheduler.step(metric)" in sched.epoch_step()
    assert not sched.horizon


def test_no_scheduler_renders_nothing():
    sched = module("includes/schedulers/none.jinja", scheduler="none")
    for name in exported(sched) - {"horizon", "label"}:
        value = getattr(sched, name)
        out = value(8) if name == "batch_step" else value()
        assert out == "", name
    assert sched.label() == "none" and sched.horizon is False


# --------------------------------------------------------------------------------------------
# Precision
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("precision", PRECISIONS)
def test_precision_forward_wraps_autocast_only_under_mixed_precision(precision):
    prec = module(f"includes/precision/{precision}.jinja", precision=precision, annotations="none")
    forward = prec.forward(0)
    assert parses(forward), forward
    mixed = precision != "fp32"
    assert ("torch.autocast" in forward) == mixed
    assert ("torch.autocast" in prec.eval_forward()) == mixed and parses(prec.eval_forward())
    assert ("AMP_DTYPE" in prec.constants()) == mixed


@pytest.mark.parametrize("precision", PRECISIONS)
def test_only_fp16_scales_unscales_and_skips(precision):
    prec = module(f"includes/precision/{precision}.jinja", precision=precision)
    fp16 = precision == "fp16"
    assert (prec.backward("loss") == "c.scaler.scale(loss).backward()") == fp16
    assert (prec.backward("loss") == "loss.backward()") == (not fp16)
    assert ("c.scaler.unscale_(c.optimizer)" in prec.unscale()) == fp16
    assert ("c.scaler.step(c.optimizer)" in prec.step()) == fp16 and parses(prec.step())
    assert ('"scaler"' in prec.state_keys()) == fp16
    assert ("scaler" in prec.field()) == fp16 and ("GradScaler" in prec.component()) == fp16
    assert (prec.counted() == "1") == (not fp16)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_after_step_guards_the_scheduler_only_where_a_step_can_be_skipped(precision):
    prec = module(f"includes/precision/{precision}.jinja", precision=precision)
    sched = module("includes/schedulers/onecycle.jinja", scheduler="onecycle", precision=precision)
    after = prec.after_step(sched.batch_step)
    assert ("if stepped:" in after) == (precision == "fp16")
    assert "c.scheduler.step()" in after and parses(after)
    none = module("includes/schedulers/none.jinja", scheduler="none")
    assert prec.after_step(none.batch_step) == ""


# --------------------------------------------------------------------------------------------
# Parallel
# --------------------------------------------------------------------------------------------
def test_single_process_has_no_rank_machinery():
    par = module("includes/parallel/single.jinja", distributed="none", compile="off")
    rank_words = re.compile(r"is_main|world_size|all_sum|rank|dist\b|Distributed")
    for name in exported(par) - {"wrapped"}:
        assert not rank_words.search(getattr(par, name)()), name
    assert par.wrapped is False and par.wrap() == ""
    compiled = module("includes/parallel/single.jinja", distributed="none", compile="default")
    assert compiled.wrap().strip() == "net = model"  # torch.compile needs the name


def test_ddp_rank_sites_are_valid_python():
    par = module("includes/parallel/ddp.jinja", distributed="ddp")
    assert par.wrapped is True and "wrap_ddp(model, device)" in par.wrap()
    for name in (
        "shard_loaders",
        "share_windows",
        "train_sum",
        "main_only",
        "rng_gather",
        "rng_restore",
        "seed",
        "metrics_path",
        "tracker",
        "set_epoch",
        "early_stop",
    ):
        out = getattr(par, name)()
        assert out.strip() and parses(out), name
    assert "def world_size()" in par.section() and parses(par.section())


# --------------------------------------------------------------------------------------------
# Checkpoint and resume
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("scheduler", ["none", "cosine", "plateau"])
def test_resume_state_holds_what_the_run_builds(precision, scheduler):
    given = {"checkpoint": "last", "precision": precision, "scheduler": scheduler}
    last = module("includes/checkpoint/last.jinja", **given)
    section = last.section()
    assert parses(section)
    names = [node.name for node in ast.parse(section).body if hasattr(node, "name")]
    assert names[0] == "training_state" and names[-1] == "restore_training_state"
    assert ('"scheduler": c.scheduler.state_dict()' in section) == (scheduler != "none")
    assert ('"scaler": c.scaler.state_dict()' in section) == (precision == "fp16")
    assert "last.pt" in last.save() and parses(last.save())


def test_no_last_checkpoint_resumes_nothing():
    last = module("includes/checkpoint/no_last.jinja", checkpoint="best")
    for name in exported(last) - {"write_header"}:
        assert getattr(last, name)() == "", name
    assert last.write_header().strip() == "metrics_path.write_text(header)"


def test_best_checkpoint_is_written_only_with_best():
    best = module("includes/checkpoint/best.jinja", checkpoint="best")
    assert '"best.pt"' in best.save() and parses(best.save())
    assert module("includes/checkpoint/no_best.jinja", checkpoint="last").save() == ""


# --------------------------------------------------------------------------------------------
# The flags: derived once
# --------------------------------------------------------------------------------------------
# How the switches of includes/flags.jinja are spelled out; no other template may re-derive them.
DERIVATIONS = re.compile(
    r"precision ?[!=]= ?'fp(16|32)'|grad_clip ?> ?0|accum_steps ?> ?1|distributed ?\| ?default"
    r"|compile ?!= ?'off'|scheduler ?!= ?'none'|scheduler_cadence ?== ?'(step|epoch)'"
    r"|checkpoint (not )?in \[|checkpoint ?!= ?'none'|val_mode ?== ?'inference_mode' else 'torch"
)
TAGS = re.compile(r"{[{%].*?[}%]}", re.DOTALL)


def test_switches_are_derived_only_in_the_flags_include():
    found = []
    for path in sorted(ROOT.rglob("*.jinja")):
        if path == INCLUDES / "flags.jinja":
            continue
        for tag in TAGS.findall(path.read_text(encoding="utf-8")):
            if DERIVATIONS.search(tag):
                found.append(f"{path.relative_to(ROOT)}: {tag[:80]}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, {"share": False, "multiprocess": False, "parallel": "single"}),
        ({"accum_steps": 4}, {"share": True, "multiprocess": False}),
        ({"distributed": "ddp"}, {"share": True, "multiprocess": True, "parallel": "ddp"}),
        ({"checkpoint": "best"}, {"last_checkpoint": "no_last", "best_checkpoint": "best"}),
        ({"precision": "fp16", "optimizer": "sgd"}, {"fp16": True, "fused_step": False}),
    ],
)
def test_flags(given, expected):
    flags = module("includes/flags.jinja", **given)
    assert {key: getattr(flags, key) for key in expected} == expected


def test_train_template_is_a_composition_of_modules():
    """train.py.jinja stays short and nearly branch-free: features live in their modules."""
    text = (ROOT / "train.py.jinja").read_text(encoding="utf-8")
    branches = re.findall(r"{%-? *(?:if|elif) [^%]*%}", text)
    assert len(text.splitlines()) < 600
    assert len(branches) < 20, branches
