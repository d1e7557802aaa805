"""The template's output reads like hand-written code: black-stable, no stray blank lines, markers
numbered 1..n in loop order and indexed in the README, and user strings only inside literals."""

from __future__ import annotations

import ast
import itertools
import random
import re

import pytest

from scaffold import options, render

HEADLINE = list(
    itertools.product(
        ["fp32", "bf16", "fp16"],
        [1, 4],
        [
            ("none", None),
            ("cosine", "epoch"),
            ("cosine", "step"),
            ("onecycle", "step"),
            ("plateau", "epoch"),
        ],
        ["off", "default"],
        ["none", "best", "last", "best_and_last"],
        ["full", "brief", "none"],
        [0.0, 1.0],
        ["no_grad", "inference_mode"],
        ["spiral", "csv"],
    )
)
SAMPLE = random.Random(20261122).sample(HEADLINE, 24)


def answers_for(combo) -> dict:
    precision, accum, (scheduler, cadence), compile_, checkpoint, notes, clip, val_mode, data = (
        combo
    )
    given = dict(
        precision=precision,
        accum_steps=accum,
        scheduler=scheduler,
        compile=compile_,
        checkpoint=checkpoint,
        annotations=notes,
        grad_clip=clip,
        val_mode=val_mode,
        data=data,
    )
    if cadence:
        given["scheduler_cadence"] = cadence
    return options.resolve_answers(given)


@pytest.mark.parametrize("combo", SAMPLE, ids=lambda c: "-".join(str(x) for x in c))
def test_layout(combo):
    answers = answers_for(combo)
    files = render.render_in_memory(answers, black_check=False)
    for name, text in files.items():
        if not name.endswith(".py"):
            continue
        assert render.format_python(text, name) == text, f"{name} is not black-stable"
        lines = text.splitlines()
        for i in range(1, len(lines) - 1):
            if lines[i].strip():
                continue
            assert (
                not lines[i - 1].rstrip().endswith(":")
            ), f"{name}:{i + 1}: blank line after a block opener"
            assert (
                not lines[i + 1].lstrip().startswith("# [")
            ), f"{name}:{i + 1}: blank line before a marker"
    markers = [int(n) for n in re.findall(r"^\s*# \[(\d+)\]", files["train.py"], re.M)]
    if answers["annotations"] == "none":
        assert markers == []
        assert "The loop, step by step" not in files["README.md"]
    else:
        assert markers == list(range(1, len(markers) + 1)), "markers must count up in loop order"
        index = re.findall(r"^\| \[(\d+)\] \|", files["README.md"], re.M)
        assert [int(n) for n in index] == markers, "README must index every marker"


def test_full_annotations_say_what_breaks_if_moved():
    text = render.render_in_memory(options.default_answers())["train.py"]
    assert len(re.findall(r"# \[\d+\]", text)) == text.count("If moved:") > 15


@pytest.mark.parametrize(
    "given",
    [
        {
            "data": "csv",
            "csv_path": "/" + "a" * 254,
            "label_column": "L" * 64,
            "project_name": "p" * 64,
        },
        {"data": "csv", "csv_path": "weird-._/path", "label_column": "my label"},
    ],
)
def test_user_strings_stay_inside_literals(given):
    files = render.render_in_memory(options.resolve_answers(given))
    literals = {  # the Config defaults live in config.py, the rest of the loop in train.py
        node.value
        for name in ("train.py", "config.py")
        for node in ast.walk(ast.parse(files[name]))
        if isinstance(node, ast.Constant)
    }
    assert given["csv_path"] in literals and given["label_column"] in literals
