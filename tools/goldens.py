"""The goldens: a named set of rendered variants committed under generated_examples/.

Together they show every answer value (tests/test_goldens.py checks that, and that they are not
stale). Regenerate them with ONE command:

    python -m tools.goldens            # rewrite generated_examples/
    python -m tools.goldens --check    # exit 1 and name the stale files

Each folder holds the files `scaffold new NAME --no-git --defaults --set ...` writes, except
`.copier-answers.yml`: that file records where the template was read from (a path that differs
per machine and per release), so it is left out of every golden alike; the answers of each golden
are listed in generated_examples/README.md instead.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scaffold.options import default_answers, load_questions, resolve_answers
from scaffold.render import render_in_memory

ROOT = Path(__file__).resolve().parent.parent / "generated_examples"
# Folders of generated_examples/ that another generator owns: never checked, never deleted here.
OWNED_ELSEWHERE = ("teaching",)  # written by `python -m tools.teach_regen`
REGENERATE = "python -m tools.goldens"
INDEX = "README.md"

#: name -> answers that differ from the defaults (project_name is the name itself).
GOLDENS: dict[str, dict[str, Any]] = {
    "default": {},
    "fp16_accum4_onecycle": {
        "precision": "fp16",
        "accum_steps": 4,
        "scheduler": "onecycle",
        "checkpoint": "last",
        "monitor": "val_acc",
        "annotations": "brief",
    },
    "bf16_compile_plateau": {
        "tracking": "tensorboard",
        "precision": "bf16",
        "compile": "default",
        "scheduler": "plateau",
        "checkpoint": "best",
        "early_stopping": 5,
        "batchnorm": True,
    },
    "sgd_csv_inference_mode": {
        "optimizer": "sgd",
        "data": "csv",
        "val_mode": "inference_mode",
        "scheduler": "step",
        "scheduler_cadence": "step",
        "checkpoint": "none",
        "annotations": "none",
        "deterministic": True,
        "grad_clip": 0.0,
    },
    "adam_warmup_cosine_max_autotune": {
        "tracking": "mlflow",
        "optimizer": "adam",
        "scheduler": "warmup_cosine",
        "scheduler_cadence": "epoch",
        "compile": "max-autotune",
        "accum_steps": 3,
        "dropout": 0.0,
    },
    "fp16_no_scheduler_reduce_overhead": {
        "tracking": "wandb",
        "precision": "fp16",
        "scheduler": "none",
        "compile": "reduce-overhead",
        "checkpoint": "best_and_last",
    },
    # Multi-process training (torchrun): accumulation with a tail window, early stopping.
    "ddp_accum3": {"distributed": "ddp", "accum_steps": 3, "early_stopping": 5},
    # One or more per task beyond tabular: its built-in demo, and its loader of real data.
    "image_shapes": {"task": "image"},
    "image_folder_fp16_accum2": {
        "task": "image",
        "data": "folder",
        "precision": "fp16",
        "accum_steps": 2,
        "monitor": "val_acc",
        "scheduler_cadence": "step",
    },
    "lm_synthetic": {"task": "lm"},
    "lm_text_file_bf16_accum4": {
        "task": "lm",
        "data": "text_file",
        "precision": "bf16",
        "accum_steps": 4,
        "monitor": "val_ppl",
        "scheduler": "warmup_cosine",
        "checkpoint": "last",
    },
}


def golden_answers(name: str) -> dict[str, Any]:
    """The complete answers of one golden."""
    return resolve_answers({"project_name": name, **GOLDENS[name]})


def render_golden(name: str) -> dict[str, str]:
    """The files of one golden, as `scaffold new` writes them (minus .copier-answers.yml)."""
    return render_in_memory(golden_answers(name))


def _flag(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def index_text() -> str:
    """generated_examples/README.md: what each golden is and how to reproduce it."""
    base = default_answers()
    lines = [
        "# Generated examples",
        "",
        "Rendered variants committed as goldens: browse them to see what `scaffold new` writes.",
        f"They are generated; do not edit them. Regenerate with `{REGENERATE}` (a test fails",
        "when they are stale). `.copier-answers.yml`, copier's bookkeeping for `scaffold update`, is",
        "left out of each folder; the answers are listed here.",
        "",
        "[teaching/](teaching/) holds the teaching variants, one folder per classic mistake; they are",
        "written by `python -m tools.teach_regen`.",
        "",
        "| folder | answers (besides the defaults) | reproduce |",
        "|---|---|---|",
    ]
    for name, given in GOLDENS.items():
        answers = golden_answers(name)
        diff = {k: v for k, v in answers.items() if k != "project_name" and base.get(k) != v}
        shown = ", ".join(f"{k}={_flag(v)}" for k, v in diff.items()) or "(all defaults)"
        flags = " ".join(f"--set {k}={_flag(v)}" for k, v in given.items())
        command = f"scaffold new {name} --no-git --defaults {flags}".strip()
        lines.append(f"| [{name}/]({name}/) | {shown} | `{command}` |")
    return "\n".join(lines) + "\n"


def expected_files() -> dict[str, str]:
    """Every file under generated_examples/ as it should be: relative path -> text."""
    files = {INDEX: index_text()}
    for name in GOLDENS:
        for rel, text in render_golden(name).items():
            files[f"{name}/{rel}"] = text
    return files


def stale_files(root: Path = ROOT) -> list[str]:
    """Paths under `root` that are missing, different, or not generated (empty = up to date)."""
    want = expected_files()
    have = (
        {
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and ".pytest_cache" not in p.parts
            and p.relative_to(root).parts[0] not in OWNED_ELSEWHERE
        }
        if root.is_dir()
        else set()
    )
    problems = []
    for rel, text in sorted(want.items()):
        path = root / rel
        if rel not in have:
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"stale: {rel}")
    problems += [f"not generated: {rel}" for rel in sorted(have - set(want))]
    return problems


def write_goldens(root: Path = ROOT) -> list[str]:
    """Rewrite `root` from scratch (except folders other generators own); returns the files written."""
    want = expected_files()
    if root.exists():
        for child in root.iterdir():
            if child.name in OWNED_ELSEWHERE:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    for rel, text in want.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(want)


def shown_values(goldens: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, set]:
    """Per question with a finite set of values: the values the goldens show."""
    shown: dict[str, set] = {}
    for name in goldens or GOLDENS:
        for key, value in golden_answers(name).items():
            shown.setdefault(key, set()).add(value)
    return shown


def missing_values() -> list[str]:
    """Choice and bool values no golden shows (empty when the goldens cover every value)."""
    shown = shown_values()
    missing = []
    for q in load_questions():
        values = q.choices if q.choices is not None else ((False, True) if q.type == "bool" else ())
        missing += [f"{q.name}={v}" for v in values if v not in shown.get(q.name, set())]
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    parser.add_argument("--root", type=Path, default=ROOT, help="folder of the goldens")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_files(args.root)
        for line in problems:
            print(line)
        if problems:
            print(f"generated examples are stale: run `{REGENERATE}`", file=sys.stderr)
        return 1 if problems else 0
    written = write_goldens(args.root)
    print(f"wrote {len(written)} files for {len(GOLDENS)} examples under {args.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
