"""A new user's own-data path, end to end, as they would walk it in a terminal.

`scaffold new` runs in a pseudo-terminal; the user answers `task` and `data` (and the path of
their data) at the prompts and takes every other default. They put a small file of their own
where they said it would be, train with `python train.py`, and run `predict.py` on new inputs.
The tabular walk runs in the default suite; the image and lm walks are slow (`-m slow`).
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import PYTHON, child_env

# The headline prompts after the data questions, each taken at its default (cosine asks the cadence).
DEFAULT_PROMPTS = [
    "precision (fp32, bf16, fp16) [fp32]:",
    "accum_steps [1]:",
    "[cosine]:",
    "scheduler_cadence (epoch, step) [epoch]:",
    "[off]:",
    "[best_and_last]:",
]


def scaffold_new_at_the_prompts(cwd: Path, name: str, answers: list[tuple[str, str]]) -> Path:
    """`scaffold new NAME` in a pseudo-terminal: each (prompt, reply) of `answers` in order,
    then every other headline default, no customising, and yes to "Write it?"."""
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffold", "new", name, "--no-git"],
        cwd=str(cwd),
        env=child_env(COLUMNS="100", TERM="dumb"),
        encoding="utf-8",
        timeout=120,
    )
    try:
        for prompt, reply in answers:
            child.expect_exact(prompt)
            child.sendline(reply)
        for prompt in DEFAULT_PROMPTS:
            child.expect_exact(prompt)
            child.sendline("")
        child.expect_exact("Customise more")
        child.sendline("n")
        child.expect_exact("Write it? [Y/n]:")
        child.sendline("y")
        child.expect_exact("created")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    return cwd / name


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    """A project's script, as the user runs it from the project folder."""
    done = subprocess.run(
        [PYTHON, *args],
        cwd=project,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{args}: {done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr
    return done


def trained_labels(project: Path) -> list[str]:
    """The class names best.pt learned (from data.py's DataInfo): the user's, not the demo's."""
    best = torch.load(project / "runs" / "version_0" / "best.pt", weights_only=True)
    return best["info"]["inference"]["labels"]


def write_flowers(path: Path, rows_per_class: int, seed: int) -> list[str]:
    """A CSV of two measurements and a species name per row: three separable groups."""
    rng = random.Random(seed)
    centres = {"setosa": (1.5, 0.2), "versicolor": (4.3, 1.3), "virginica": (6.0, 2.3)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["petal_length", "petal_width", "species"])
        for _ in range(rows_per_class):
            for species, (length, width) in centres.items():
                writer.writerow(
                    [round(rng.gauss(length, 0.2), 2), round(rng.gauss(width, 0.1), 2), species]
                )
    return sorted(centres)


def test_a_new_user_trains_on_their_csv_and_predicts(tmp_path):
    project = scaffold_new_at_the_prompts(
        tmp_path,
        "flowers",
        [
            ("task (tabular, image, lm) [tabular]:", ""),
            ("data (spiral, csv) [spiral]:", "csv"),
            ("csv_path [data/train.csv]:", "data/flowers.csv"),
            ("label_column [label]:", "species"),
        ],
    )
    species = write_flowers(project / "data" / "flowers.csv", rows_per_class=40, seed=0)

    run(project, "train.py", "--epochs", "10", "--no-progress")  # the answers are the defaults

    summary = json.loads((project / "runs" / "version_0" / "summary.json").read_text())
    assert summary["best_val_acc"] >= 0.9, summary
    assert trained_labels(project) == species
    write_flowers(project / "new.csv", rows_per_class=2, seed=1)
    predicted = run(project, "predict.py", "runs/version_0", "new.csv").stdout.splitlines()
    assert len(predicted) == 6 and all(any(s in line for s in species) for line in predicted)


def write_images(folder: Path, per_class: int) -> list[str]:
    """PNG files of two classes, reddish and bluish squares with noise, one sub-folder each."""
    from PIL import Image

    rng = random.Random(0)
    colours = {"blue": (30, 60, 200), "red": (200, 40, 30)}
    for name, colour in colours.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            pixels = bytes(
                max(0, min(255, channel + rng.randint(-40, 40)))
                for _ in range(12 * 12)
                for channel in colour
            )
            Image.frombytes("RGB", (12, 12), pixels).save(folder / name / f"{index}.png")
    return sorted(colours)


@pytest.mark.slow
def test_a_new_user_trains_on_their_image_folder_and_predicts(tmp_path):
    pytest.importorskip("PIL")
    project = scaffold_new_at_the_prompts(
        tmp_path,
        "colours",
        [
            ("task (tabular, image, lm) [tabular]:", "image"),
            ("data (shapes, folder) [shapes]:", "folder"),
            ("image_folder [data/images]:", ""),
        ],
    )
    classes = write_images(project / "data" / "images", per_class=10)

    done = run(project, "train.py", "--epochs", "2", "--no-progress")

    # The loader decodes every image into memory, and says how much before it starts.
    assert "data: decoding 20 images of 32x32 from data/images into memory (61.4 kB)" in done.stdout
    assert trained_labels(project) == classes
    inputs = ["data/images/red/0.png", "data/images/blue/1.png"]
    predicted = run(project, "predict.py", "runs/version_0", *inputs).stdout.splitlines()
    assert len(predicted) == 2 and all(any(c in line for c in classes) for line in predicted)


@pytest.mark.slow
def test_a_new_user_trains_on_their_text_file_and_predicts(tmp_path):
    project = scaffold_new_at_the_prompts(
        tmp_path,
        "notes",
        [
            ("task (tabular, image, lm) [tabular]:", "lm"),
            ("data (synthetic, text_file) [synthetic]:", "text_file"),
            ("text_path [data/train.txt]:", "data/notes.txt"),
        ],
    )
    rng = random.Random(0)
    words = ["river", "stone", "maple", "quiet", "lantern", "harbour"]
    lines = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(120)]
    text = "\n".join(lines) + "\n"
    (project / "data").mkdir()
    (project / "data" / "notes.txt").write_text(text, encoding="utf-8")

    run(project, "train.py", "--epochs", "1", "--no-progress")

    best = torch.load(project / "runs" / "version_0" / "best.pt", weights_only=True)
    vocabulary = set(best["info"]["inference"]["itos"][1:])
    assert vocabulary <= set(text) and len(vocabulary) >= 10, "the user's characters, not the demo's"
    (project / "prompt.txt").write_text("river sto", encoding="utf-8")
    predicted = run(project, "predict.py", "runs/version_0", "prompt.txt").stdout
    assert predicted.strip(), "predict.py printed nothing"
