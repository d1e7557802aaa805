"""Config: every knob of a run, its range, and its command-line flag (`python train.py --help`).

This file imports nothing but the standard library, on purpose: train.py parses its flags with
it before importing torch, so `--help` and a mistyped flag answer in a fraction of a second
instead of after torch has loaded. Keep torch (and anything that imports it) out of here; the
checks that need torch (is --device there, is the --tracking package installed) run in
train.py's parse_config(), after this file's checks.

A new hyper-parameter is one field here, e.g. `my_width: int = option(64, "width", "[1, 4096]")`:
it becomes the flag --my-width with that range in its help, it is validated, and it is saved
in config.json and best.pt. data.py and model.py read it as cfg.my_width.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn

PROG = "train.py"  # the script these flags belong to: it names itself in --help and errors
RUN_NAME = r"(?!\.\.?$)[A-Za-z0-9._-]{0,100}"
RUNS = Path("runs")  # train.py's runs live here: runs/NAME or runs/version_N
# Where a run writes and what it resumes come from the command line only: a settings file
# (--config, or the run's own config.json on --resume) never moves a run into another folder.
COMMAND_LINE_ONLY = ("out", "name", "resume")  # one folder name: no "/", not "." or ".."
# --tracking choice -> (module that must import, what to pip install); csv needs nothing.
# tracking.py reads this too: its missing_dependency() imports the module when a run starts.
BACKENDS = {
    "csv": None,
    "tensorboard": ("torch.utils.tensorboard", "tensorboard"),
    "mlflow": ("mlflow", "mlflow"),
    "wandb": ("wandb", "wandb"),
}


def option(default, text, within=None, choices=None, pattern=None):
    """A Config field. Its help text, range and choices are the ONE place both `--help` and
    validate_config() read, so the flag help can never promise what the validation refuses.

    Args:
        within: an interval such as "[1, 100000]" or "(0, 10]" ("(" and ")" exclude the bound).
        choices: the allowed values of a string field.
        pattern: a regular expression the whole string must match (described by `text`).
    """
    meta = {"help": text, "within": within, "choices": choices, "pattern": pattern}
    return field(default=default, metadata=meta)


@dataclass
class Config:
    """Settings of one run. `python train.py --help` lists them as flags, with their ranges."""

    # data
    # Your data: a CSV file; empty = the built-in spiral demo below (every project has both).
    csv_path: str = option(
        "",
        "CSV file: a header row, numeric feature columns, a label column (empty: spiral demo)",
    )
    label_column: str = option(
        "label",
        "name of the label column in the CSV header",
        pattern=r".+",
    )
    samples_per_class: int = option(1000, "spiral demo: points generated per class", "[1, 1000000]")
    noise: float = option(0.2, "spiral demo: angular noise (higher is harder)", "[0, 10]")
    val_fraction: float = option(0.2, "share of the data held out for validation", "(0, 1)")
    # model
    hidden: int = option(128, "width of the two hidden layers", "[1, 65536]")
    dropout: float = option(0.1, "dropout probability after each hidden layer", "[0, 1)")
    batchnorm: bool = option(True, "BatchNorm after each hidden linear layer")
    num_workers: int = option(
        0, "DataLoader worker processes (0 = load in the main process)", "[0, 256]"
    )
    # optimisation
    epochs: int = option(40, "full passes over the training data", "[1, 100000]")
    batch_size: int = option(64, "samples per forward pass (micro-batch)", "[1, 65536]")
    lr: float = option(0.01, "peak learning rate", "(0, 10]")
    weight_decay: float = option(0.01, "weight decay", "[0, 1]")
    grad_clip: float = option(1.0, "max global gradient norm (0 = off)", "[0, 1000]")
    plateau_patience: int = option(
        3, "epochs without improvement before the lr is halved", "[0, 100000]"
    )
    early_stopping: int = option(
        5, "stop after N epochs without improvement (0 = off)", "[0, 100000]"
    )
    compile_mode: str = option(
        "default",
        "torch.compile mode",
        choices=["off", "default", "reduce-overhead", "max-autotune"],
    )
    # reproducibility and devices
    seed: int = option(0, "seed for data, initialisation and shuffling", "[0, 4294967295]")
    deterministic: bool = option(False, "force deterministic kernels")
    device: str = option(
        "auto", "auto, cpu, cuda, cuda:N or mps", pattern=r"auto|cpu|mps|cuda(:[0-9]+)?"
    )
    # run control
    name: str = option(
        "",
        "run folder runs/NAME: letters, digits, . _ - (default: the next runs/version_N)",
        pattern=RUN_NAME,
    )
    out: str = option("", "exact output folder instead of runs/NAME (overrides --name)")
    dry_run: bool = option(
        False, "one epoch of a few batches in runs/dry_run, no checkpoints: checks the wiring"
    )
    progress: bool = option(True, "show progress bars and an ETA (only when stdout is a terminal)")
    # tracking (tracking.py): metrics.csv and steps.csv are always written
    tracking: str = option(
        "tensorboard",
        "experiment tracker beside metrics.csv and steps.csv (both always written)",
        choices=list(BACKENDS),
    )
    log_every: int = option(
        10, "log train loss, lr and grad norm every N optimizer steps (steps.csv)", "[1, 1000000]"
    )

    def __post_init__(self) -> None:
        validate_config(self)  # every Config, from flags or from code, is checked once, here


class ConfigError(ValueError):
    """A setting outside its allowed values; train.py prints it argparse-style (exit 2)."""


def within(value: float, interval: str) -> bool:
    """Whether `value` lies in an interval such as "(0, 10]"; NaN lies in none."""
    low, high = (float(bound) for bound in interval[1:-1].split(","))
    above = value > low if interval[0] == "(" else value >= low
    below = value < high if interval[-1] == ")" else value <= high
    return above and below  # NaN fails every comparison, so it is refused too


def validate_config(cfg: Config) -> None:
    """Check every field against its range, choices or pattern from option().

    Raises:
        ConfigError: "argument --flag: ...", naming the first field that is out of bounds.
    """
    for f in fields(cfg):
        value, meta = getattr(cfg, f.name), f.metadata
        flag = "--" + f.name.replace("_", "-")
        interval, choices, pattern = (meta.get(key) for key in ("within", "choices", "pattern"))
        if interval and not isinstance(value, (int, float)):
            raise ConfigError(f"argument {flag}: expected a number, got {value!r}")
        if interval and not within(value, interval):
            raise ConfigError(f"argument {flag}: {value} is outside {interval}")
        if choices and value not in choices:
            allowed = ", ".join(choices)
            raise ConfigError(f"argument {flag}: invalid choice {value!r} (choose from {allowed})")
        if pattern and not (isinstance(value, str) and re.fullmatch(pattern, value)):
            raise ConfigError(f"argument {flag}: invalid value {value!r} ({meta['help']})")


def flag_error(message: str) -> str:
    """A bad flag's one line, in argparse's words: "train.py: error: argument --lr: ..."."""
    return f"{PROG}: error: {message} (see --help)"


def exit_bad_flag(message: str) -> NoReturn:
    """Print a bad flag's one line on stderr and exit 2, as argparse does, without its usage block."""
    sys.stderr.write(flag_error(message) + "\n")
    raise SystemExit(2)


class FlagParser(argparse.ArgumentParser):
    """argparse whose errors are one line (exit 2), not the whole usage block of every flag."""

    def error(self, message: str) -> NoReturn:
        exit_bad_flag(message + self.suggestion(message))

    def suggestion(self, message: str) -> str:
        """The hint "; did you mean --epochs?" for a mistyped flag (empty when none is close)."""
        if not message.startswith("unrecognized arguments:"):
            return ""
        known = [s for action in self._actions for s in action.option_strings if s.startswith("--")]
        for word in message.split(":", 1)[1].split():
            typed = word.split("=", 1)[0]
            if typed.startswith("--"):
                close = difflib.get_close_matches(typed, known, n=1, cutoff=0.6)
                if close:
                    return f"; did you mean {close[0]}?"
        return ""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a flag's default, except an empty one, or one its help already explains."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in ("", None) or "(default" in text:
            return text
        return super()._get_help_string(action)


def flag_parser() -> FlagParser:
    """One flag per Config field; the help shows the field's range or choices and its default."""
    parser = FlagParser(
        prog=PROG,
        allow_abbrev=False,  # --res must not silently mean --resume
        description="Train bf16_compile_plateau: every flag is a Config field (config.py).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML or JSON file of Config fields (a run's config.json works); flags override it; "
        "out, name and resume come from flags only",
    )
    for f in fields(Config):
        flag = "--" + f.name.replace("_", "-")
        meta = f.metadata
        text = meta["help"].replace("%", "%%")
        if meta.get("within"):
            text += f"; in {meta['within']}"
        if f.type == "bool":
            action = argparse.BooleanOptionalAction
            parser.add_argument(flag, action=action, default=f.default, help=text)
        else:
            kind = {"int": int, "float": float}.get(f.type, str)
            parser.add_argument(
                flag, type=kind, default=f.default, help=text, choices=meta.get("choices")
            )
    return parser


def parse_flags(argv: list[str] | None = None) -> Config:
    """A validated Config from command-line flags (`--batch-size 32`, `--no-progress`).

    Each field takes the first of: its flag; the --config file; with --resume RUN, the run's own
    config.json (so a resume needs no flag repeated); the Config default. `--help` prints every
    flag with its range and default and exits 0; a bad flag or settings file exits 2 with one line
    naming it. Nothing here imports torch or touches a device; only those files are read.
    """
    parser = flag_parser()
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    early.add_argument("--config")
    early.add_argument("--resume")
    known, _ = early.parse_known_args(argv)
    try:
        settings: dict[str, Any] = {}
        if known.resume and any(f.name == "resume" for f in fields(Config)):
            settings.update(run_settings(known.resume))
        if known.config:
            settings.update(file_settings(known.config))
        parser.set_defaults(**settings)
        values = vars(parser.parse_args(argv))
        values.pop("config")
        return Config(**values)
    except ConfigError as exc:
        exit_bad_flag(str(exc))


def run_settings(resume: str) -> dict[str, Any]:
    """The Config fields a run was started with, from its config.json (empty when it has none).

    `resume` is what --resume names: a run folder, its last.pt, or a bare name under runs/.
    Fields this Config no longer has are left out (the resume's own checks compare the rest).
    """
    path = Path(resume)
    if not path.exists() and (RUNS / resume).exists():
        path = RUNS / resume
    saved = (path if path.is_dir() else path.parent) / "config.json"
    if not saved.is_file():
        return {}
    return settings_from(saved, "--resume", known_only=True)


def file_settings(path: str) -> dict[str, Any]:
    """The Config fields set by a TOML or JSON file (any subset; a run's config.json works).

    Raises:
        ConfigError: the file cannot be read or parsed, names an unknown field, or holds a value
            of the wrong type.
    """
    return settings_from(Path(path), "--config", known_only=False)


def settings_from(path: Path, flag: str, known_only: bool) -> dict[str, Any]:
    """Read a settings file into {field: value}, checking names and types (not ranges: Config
    checks those once, whatever the source)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"argument {flag}: cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            data = parse_toml(text, flag)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"argument {flag}: {path} does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"argument {flag}: {path} must hold a table of Config fields")
    types = {f.name: f.type for f in fields(Config)}
    settings = {}
    for name, value in data.items():
        if name in COMMAND_LINE_ONLY:
            continue
        if name not in types:
            if known_only:
                continue
            close = difflib.get_close_matches(name, list(types), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(
                f"argument {flag}: {path} sets {name!r}, which is not a Config field{hint}"
            )
        settings[name] = typed(value, types[name], f"argument {flag}: {path}: {name}")
    return settings


def parse_toml(text: str, flag: str) -> dict[str, Any]:
    """TOML through the standard library (Python 3.11+), or the tomli package before that."""
    try:
        import tomllib as toml
    except ImportError:
        try:
            import tomli as toml
        except ImportError:
            raise ConfigError(
                f"argument {flag}: reading TOML needs Python 3.11+ or `pip install tomli`; "
                "or write the settings as JSON"
            ) from None
    return toml.loads(text)


def typed(value: Any, kind: str, where: str) -> Any:
    """`value` as a field of type `kind` ("int", "float", "bool", "str"), or ConfigError."""
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind == "str" and isinstance(value, str):
        return value
    raise ConfigError(f"{where} must be {'a' if kind != 'int' else 'an'} {kind}, not {value!r}")
