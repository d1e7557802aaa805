"""Unit tests of the option model (copier.yml is the single source of truth)."""

from __future__ import annotations

import pytest
import yaml

from scaffold import options
from scaffold.paths import template_dir

DESIGN_KEYS = {
    "project_name",
    "precision",
    "accum_steps",
    "scheduler",
    "scheduler_cadence",
    "compile",
    "checkpoint",
    "monitor",
    "optimizer",
    "lr",
    "weight_decay",
    "grad_clip",
    "epochs",
    "batch_size",
    "seed",
    "deterministic",
    "task",
    "data",
    "hidden",
    "dropout",
    "batchnorm",
    "val_mode",
    "early_stopping",
    "annotations",
}


def test_every_design_key_is_a_question():
    names = {q.name for q in options.load_questions()}
    assert DESIGN_KEYS <= names


def test_headline_questions_are_the_task_and_its_data_then_the_five_topics_in_order():
    headline = [q.name for q in options.load_questions() if q.headline]
    assert headline == [
        "task",
        "data",
        "csv_path",  # the user's data: asked only for data=csv (folder, text_file: their path)
        "label_column",
        "image_folder",
        "text_path",
        "precision",
        "accum_steps",
        "scheduler",
        "scheduler_cadence",
        "compile",
        "checkpoint",
    ]


def test_choices_match_design():
    q = options.question_map()
    assert q["precision"].choices == ("fp32", "bf16", "fp16")
    assert q["scheduler"].choices == (
        "none",
        "cosine",
        "warmup_cosine",
        "onecycle",
        "step",
        "plateau",
    )
    assert q["compile"].choices == ("off", "default", "reduce-overhead", "max-autotune")
    assert q["checkpoint"].choices == ("none", "best", "last", "best_and_last")


def test_copier_yml_quotes_yaml_booleans():
    raw = yaml.safe_load((template_dir() / "copier.yml").read_text())
    for name, spec in raw.items():
        if not name.startswith("_") and "choices" in spec:
            assert all(not isinstance(c, bool) for c in spec["choices"]), name


def test_defaults_resolve_and_validate():
    answers = options.default_answers()
    assert answers["precision"] == "fp32" and answers["scheduler_cadence"] == "epoch"
    assert "momentum" not in answers  # only asked for sgd


@pytest.mark.parametrize(
    "given, key",
    [
        ({"precision": "fp8"}, "precision"),
        ({"accum_steps": "0"}, "accum_steps"),
        ({"accum_steps": "2.5"}, "accum_steps"),
        ({"lr": "abc"}, "lr"),
        ({"lr": "nan"}, "lr"),
        ({"lr": "0"}, "lr"),
        ({"dropout": "1"}, "dropout"),
        ({"scheduler": "plateau", "scheduler_cadence": "step"}, "scheduler_cadence"),
        ({"scheduler": "onecycle", "scheduler_cadence": "epoch"}, "scheduler_cadence"),
        ({"momentum": "0.5"}, "momentum"),
        ({"project_name": "1abc"}, "project_name"),
        ({"project_name": "x; import os"}, "project_name"),
        ({"data": "csv", "csv_path": 'a".csv'}, "csv_path"),
        ({"data": "csv", "label_column": "y\nimport os"}, "label_column"),
        ({"deterministic": "maybe"}, "deterministic"),
        ({"precison": "bf16"}, "precison"),
    ],
)
def test_bad_answers_raise_one_line_naming_the_key(given, key):
    with pytest.raises(options.AnswerError) as info:
        options.resolve_answers(given)
    assert info.value.key == key
    assert "\n" not in str(info.value)


def test_typo_gets_a_suggestion():
    with pytest.raises(options.AnswerError, match="did you mean precision"):
        options.resolve_answers({"precison": "bf16"})


def test_dependent_defaults():
    assert options.resolve_answers({"optimizer": "sgd"})["lr"] == 0.1
    assert options.resolve_answers({"optimizer": "sgd"})["momentum"] == 0.9
    assert options.resolve_answers({"scheduler": "onecycle"})["scheduler_cadence"] == "step"
    assert options.resolve_answers({"scheduler": "plateau"})["scheduler_cadence"] == "epoch"
    assert "scheduler_cadence" not in options.resolve_answers({"scheduler": "none"})


def test_typed_values():
    answers = options.resolve_answers({"accum_steps": "4", "lr": "3e-3", "batchnorm": "yes"})
    assert answers["accum_steps"] == 4 and answers["lr"] == 0.003 and answers["batchnorm"] is True


def test_parse_assignments():
    assert options.parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(options.AnswerError):
        options.parse_assignments(["novalue"])


def test_asker_is_called_only_for_unanswered_questions():
    asked = []

    def ask(question, default, context):
        asked.append(question.name)
        return default

    options.resolve_answers({"precision": "bf16"}, ask=ask, should_ask=lambda q: q.headline)
    assert "precision" not in asked and "accum_steps" in asked and "optimizer" not in asked
