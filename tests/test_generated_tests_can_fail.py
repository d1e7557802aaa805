"""The generated tests are only worth shipping if they catch the mistakes they name.

Each mutation breaks one rendered project's loop in one way (a minimal edit of its train.py) and
checks that the named generated test then fails; each project's tests first pass unbroken.
A mutation is applied to every variant family it concerns (the per-step schedules for the
horizon, fp16 for the scaler, each checkpoint policy for atomic saves, the compiled path for
`_orig_mod.` keys).

Cost: every case is a pytest subprocess of a rendered project (torch imported each time). The
default run takes one of MUTATION_BLOCKS blocks of the mutations, picked by the run's printed
seed (tests/sampling.py), and the correct-loop check of the projects those mutations break;
`pytest -m slow` runs every mutation and every project.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sampling
from helpers import child_env, write_project

from scaffold import options

PROJECTS = {
    "fp16-onecycle": {"accum_steps": 4, "precision": "fp16", "scheduler": "onecycle"},
    "cosine-step": {"accum_steps": 3, "scheduler": "cosine", "scheduler_cadence": "step"},
    "warmup-step": {"accum_steps": 4, "scheduler": "warmup_cosine", "checkpoint": "last"},
    "multistep-step": {"accum_steps": 2, "scheduler": "step", "scheduler_cadence": "step"},
    "plateau-val_acc": {"scheduler": "plateau", "monitor": "val_acc", "checkpoint": "last"},
    "compiled-best": {"compile": "default", "checkpoint": "best", "precision": "bf16"},
    "compiled-last": {"compile": "max-autotune", "checkpoint": "last", "accum_steps": 2},
}

# train.py fragments (annotations=none) and what replaces them.
ACCUM_HORIZON = ("    steps_per_epoch = math.ceil(batches / cfg.accum_steps)\n", "    steps_per_epoch = batches\n")
NON_ATOMIC = ('    tmp = path.with_name(f".{path.name}.tmp")\n', "    tmp = path  # written in place\n")
BEST_KEYS = ('                    "model": c.model.state_dict(),\n', '                    "model": c.net.state_dict(),\n')
LAST_KEYS = ('        "model": c.model.state_dict(),\n', '        "model": c.net.state_dict(),\n')
FORGET_BAD_EPOCHS = (
    "        setattr(progress, key, value)\n",
    '        if key != "bad_epochs":\n            setattr(progress, key, value)\n',
)
CLIP = "            grad_norm = torch.nn.utils.clip_grad_norm_(c.model.parameters(), cfg.grad_clip)\n"

# name: (project, generated test that must fail, [(old, new), ...])
MUTATIONS = {
    "clip-after-step": (
        "fp16-onecycle",
        "test_order_contract",
        [
            (CLIP, ""),
            (
                "        c.scaler.update()\n",
                "        c.scaler.update()\n        torch.nn.utils.clip_grad_norm_(c.model.parameters(), 1.0)\n",
            ),
        ],
    ),
    "constant-accumulation-divisor": (
        "fp16-onecycle",
        "test_accumulation_equals_large_batch",
        [("share = loss * (y.numel() / windows[i // cfg.accum_steps])", "share = loss / cfg.accum_steps")],
    ),
    "share-counted-in-samples": (  # per sample, not per target: wrong for several targets per sample
        "fp16-onecycle",
        "test_accumulation_is_exact_per_target",
        [("share = loss * (y.numel() / windows[i // cfg.accum_steps])", "share = loss * (y.size(0) / windows[i // cfg.accum_steps])")],
    ),
    "window-counted-in-samples": (
        "fp16-onecycle",
        "test_accumulation_is_exact_per_target",
        [("        sum(sizes[i : i + accum_steps]) * targets_per_sample\n", "        sum(sizes[i : i + accum_steps])\n")],
    ),
    "loader-rng-not-restored": (
        "fp16-onecycle",
        "test_resume_matches_uninterrupted",
        [('    generator.set_state(state["rng"]["loader"])\n', "")],
    ),
    "validation-in-train-mode": ("fp16-onecycle", "test_validation_mode", [("    c.model.eval()\n", "")]),
    "no-optimizer-step": ("fp16-onecycle", "test_learns", [("        c.scaler.step(c.optimizer)\n", "")]),
    "scheduler-per-micro-batch": (
        "fp16-onecycle",
        "test_scheduler_cadence",
        [("\n        seen += y.numel()\n", "\n        seen += y.numel()\n        c.scheduler.step()\n")],
    ),
    # Gaps that each went unnoticed by the generated tests before their tests were added.
    "scaler-state-not-restored": (
        "fp16-onecycle",
        "test_resume_matches_uninterrupted",
        [('    c.scaler.load_state_dict(state["scaler"])\n', "")],
    ),
    "scheduler-stepped-when-scaler-skipped": (
        "fp16-onecycle",
        "test_skipped_step_does_not_step_the_scheduler",
        [("        if stepped:\n            c.scheduler.step()\n", "        c.scheduler.step()\n")],
    ),
    "onecycle-horizon-ignores-accumulation": ("fp16-onecycle", "test_schedule_spans_the_run", [ACCUM_HORIZON]),
    "cosine-horizon-ignores-accumulation": ("cosine-step", "test_schedule_spans_the_run", [ACCUM_HORIZON]),
    "warmup-horizon-ignores-accumulation": ("warmup-step", "test_schedule_spans_the_run", [ACCUM_HORIZON]),
    "multistep-horizon-ignores-accumulation": ("multistep-step", "test_schedule_spans_the_run", [ACCUM_HORIZON]),
    "plateau-fed-val_loss": (
        "plateau-val_acc",
        "test_plateau_follows_the_monitor",
        [("        c.scheduler.step(metric)\n", "        c.scheduler.step(val_loss)\n")],
    ),
    "plateau-state-not-restored": (
        "plateau-val_acc",
        "test_resume_keeps_the_monitor_state",
        [('    c.scheduler.load_state_dict(state["scheduler"])\n', "")],
    ),
    "bad-epochs-not-restored": ("fp16-onecycle", "test_resume_keeps_the_monitor_state", [FORGET_BAD_EPOCHS]),
    "bad-epochs-not-restored-plateau": ("plateau-val_acc", "test_resume_keeps_the_monitor_state", [FORGET_BAD_EPOCHS]),
    "early-stopping-off-by-one": (
        "fp16-onecycle",
        "test_early_stopping_counts_patience_exactly",
        [
            (
                "if cfg.early_stopping and progress.bad_epochs >= cfg.early_stopping:\n            print(",
                "if cfg.early_stopping and progress.bad_epochs > cfg.early_stopping:\n            print(",
            )
        ],
    ),
    "non-atomic-save-best-and-last": ("fp16-onecycle", "test_checkpoints_survive_a_crash_mid_write", [NON_ATOMIC]),
    "non-atomic-save-best": ("compiled-best", "test_checkpoints_survive_a_crash_mid_write", [NON_ATOMIC]),
    "non-atomic-save-last": ("plateau-val_acc", "test_checkpoints_survive_a_crash_mid_write", [NON_ATOMIC]),
    "compiled-keys-in-best": ("compiled-best", "test_checkpoints_hold_plain_module_keys", [BEST_KEYS]),
    "compiled-keys-in-last": ("compiled-last", "test_checkpoints_hold_plain_module_keys", [LAST_KEYS]),
}


MUTATION_BLOCKS = 4  # the default run exercises about a quarter of the mutations
RUN_MUTATIONS = sampling.rotating("mutations caught by the generated tests", MUTATIONS, MUTATION_BLOCKS)
_picked = sampling.chosen["mutations caught by the generated tests"]
RUN_PROJECTS = [  # a project's correct-loop check runs whenever one of its mutations does
    pytest.param(
        p,
        id=p,
        marks=pytest.mark.slow
        if sampling.runs_everything() or not any(MUTATIONS[m][0] == p for m in _picked)
        else (),
    )
    for p in sorted(PROJECTS)
]


class Projects(dict):
    """name -> rendered project folder, each rendered on first use (a run needs only some)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def __missing__(self, name: str) -> Path:
        answers = options.resolve_answers({"annotations": "none", **PROJECTS[name]})
        self[name] = write_project(self.root / name, answers)
        return self[name]


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    return Projects(tmp_path_factory.mktemp("mutants"))


def run_tests(project: Path, tests: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", " or ".join(tests)],
        cwd=project,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("project", RUN_PROJECTS)
def test_named_tests_pass_on_the_correct_loop(projects, project):
    tests = sorted({test for p, test, _ in MUTATIONS.values() if p == project})
    done = run_tests(projects[project], tests)
    assert done.returncode == 0, done.stdout[-3000:]
    ran = done.stdout.strip().splitlines()[-1]
    assert f"{len(tests)} passed" in ran, f"expected {tests} to run: {ran}"


@pytest.mark.parametrize("name", RUN_MUTATIONS)
def test_generated_test_catches_the_mistake(projects, name):
    project, test, edits = MUTATIONS[name]
    path = projects[project] / "train.py"
    original = path.read_text()
    broken = original
    for old, new in edits:
        assert broken.count(old) == 1, f"mutation anchor drifted in {project}: {old!r}"
        broken = broken.replace(old, new)
    try:
        path.write_text(broken)
        done = run_tests(projects[project], [test])
    finally:
        path.write_text(original)
    assert done.returncode == 1, f"{test} did not catch {name}:\n{done.stdout[-2000:]}"
    assert "1 failed" in done.stdout, done.stdout[-2000:]
