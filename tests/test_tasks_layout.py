"""The task question and the project layout: train.py is the loop, data.py and
model.py are the user's code, rendered only from task-level answers."""

from __future__ import annotations

import random

import pytest
import yaml
from typer.testing import CliRunner

from scaffold.cli.app import app
from scaffold.options import AnswerError, load_questions, question_map, resolve_answers
from scaffold.paths import template_dir
from scaffold.render import render_in_memory

TASK_DATA = {
    "tabular": ["spiral", "csv"],
    "image": ["shapes", "folder"],
    "lm": ["synthetic", "text_file"],
}
TASK_METRIC = {"tabular": "val_acc", "image": "val_acc", "lm": "val_ppl"}
# Answers the loop is rendered from; data.py and model.py must not depend on any of them.
LOOP_ANSWERS = {
    "precision": ["fp32", "bf16", "fp16"],
    "accum_steps": [1, 3],
    "scheduler": ["none", "cosine", "plateau"],
    "compile": ["off", "default"],
    "checkpoint": ["none", "best", "last", "best_and_last"],
    "optimizer": ["adamw", "sgd"],
    "epochs": [1, 7],
    "batch_size": [5, 64],
    "seed": [0, 9],
    "deterministic": [False, True],
    "val_mode": ["no_grad", "inference_mode"],
    "early_stopping": [0, 3],
    "annotations": ["full", "none"],
    "grad_clip": [0.0, 1.0],
}


def test_task_is_the_first_question_and_headline():
    first = load_questions()[0]
    assert first.name == "task" and first.headline
    assert first.choices == tuple(TASK_DATA) and first.default == "tabular"


def test_task_choices_are_the_design_keys():
    assert set(question_map()["task"].choices) == set(TASK_DATA)
    assert set(question_map()["data"].choices) == {d for ds in TASK_DATA.values() for d in ds}


@pytest.mark.parametrize("task", sorted(TASK_DATA))
def test_data_and_monitor_follow_the_task(task):
    assert resolve_answers({"task": task})["data"] == TASK_DATA[task][0]  # the built-in demo
    for data in TASK_DATA[task]:
        given = {"task": task, "data": data, "monitor": TASK_METRIC[task]}
        assert resolve_answers(given)["data"] == data
    for choices in TASK_DATA.values():
        for data in set(choices) - set(TASK_DATA[task]):
            with pytest.raises(AnswerError, match=f"not a dataset of task={task}") as error:
                resolve_answers({"task": task, "data": data})
            assert "\n" not in str(error.value)
    wrong = "val_acc" if TASK_METRIC[task] == "val_ppl" else "val_ppl"
    with pytest.raises(AnswerError, match="monitor"):
        resolve_answers({"task": task, "monitor": wrong})


def test_mlp_questions_apply_to_tabular_only():
    for key in ("hidden", "batchnorm"):
        with pytest.raises(AnswerError, match="does not apply"):
            resolve_answers({"task": "lm", key: question_map()[key].default})
        resolve_answers({"task": "tabular", key: question_map()[key].default})


@pytest.mark.parametrize(
    "flags",
    [
        ["--set", "task=lm", "--set", "data=csv"],
        ["--set", "task=image", "--set", "data=synthetic"],
        ["--set", "task=tabular", "--set", "data=text_file"],
    ],
)
def test_new_refuses_a_data_choice_of_another_task(tmp_path, flags):
    dest = tmp_path / "p"
    result = CliRunner().invoke(app, ["new", str(dest), "--defaults", "--no-git", *flags])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not a dataset of task=" in lines[0], result.output
    assert not dest.exists()


def test_user_files_are_skipped_on_update():
    settings = yaml.safe_load((template_dir() / "copier.yml").read_text())
    assert {"data.py", "model.py"} <= set(settings["_skip_if_exists"])


@pytest.mark.parametrize("data", TASK_DATA["tabular"])
def test_user_files_render_from_task_answers_only(data):
    """data.py and model.py are the same text whatever the loop answers are (seed printed)."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    base = render_in_memory(resolve_answers({"task": "tabular", "data": data}))
    for _ in range(6):
        given = {key: rng.choice(values) for key, values in LOOP_ANSWERS.items()}
        if given["scheduler"] == "plateau":
            given["scheduler_cadence"] = "epoch"
        files = render_in_memory(resolve_answers({"task": "tabular", "data": data, **given}))
        for name in ("data.py", "model.py"):
            assert files[name] == base[name], f"seed {seed}: {name} changed with {given}"


def test_the_loop_names_no_task():
    """train.py reads DataInfo only: no model class, no dataset code of any task, and no task
    setting either (the task's Config fields live in config.py)."""
    train = render_in_memory(resolve_answers({}))["train.py"]
    for word in ("MLP", "make_spiral", "load_csv", "TensorDataset", "samples_per_class"):
        assert word not in train, word
    assert "from data import DataError, DataInfo, build_datasets" in train
    assert "from model import build_model" in train


# The Config fields that point at the user's data, per task: every render of the task has them.
DATA_FIELDS = {
    "tabular": ("csv_path", "label_column"),
    "image": ("image_folder",),
    "lm": ("text_path",),
}


@pytest.mark.parametrize("task", list(TASK_DATA))
def test_every_render_of_a_task_has_its_data_flags_and_both_loaders(task):
    """The data answer only sets the default: the demo's render and the user-data render have
    the same data.py (both loaders) and the same data fields in config.py, the path empty (the
    demo) for the demo and the answer's path otherwise."""
    demo, mine = TASK_DATA[task]
    renders = {data: render_in_memory(resolve_answers({"task": task, "data": data})) for data in (demo, mine)}
    assert renders[demo]["data.py"] == renders[mine]["data.py"]
    path_field = DATA_FIELDS[task][0]
    for data, files in renders.items():
        for name in DATA_FIELDS[task]:
            assert f"    {name}: str = option(" in files["config.py"], (data, name)
        default = '""' if data == demo else f'"{question_map()[path_field].default}"'
        assert f"    {path_field}: str = option(\n        {default}," in files["config.py"], data
