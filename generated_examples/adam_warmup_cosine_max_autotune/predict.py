"""adam_warmup_cosine_max_autotune: run the best model of a training run on new inputs.

    python predict.py runs/version_0 INPUT...     # a run folder, or a checkpoint file
    python predict.py runs/version_0 new.csv      # CSV rows in, one predicted label per row out

The run folder's best.pt holds the weights and what inference needs besides them: the
config the model was built from and data.py's DataInfo (normalisation statistics, label names or
vocabulary).
data.py's load_inputs() turns INPUT... into one batch and its
describe() turns the logits into the lines printed, so predict.py works unchanged with your own
data.py and model.py.

Exit codes: 0 success, 1 a checkpoint or input it cannot use (one line on stderr), 2 bad flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

import torch

from data import DataError, DataInfo, describe, load_inputs
from model import build_model
from tracking import PipeSafeStdout
from train import TrainingError, load_checkpoint

TASK = "tabular"  # checkpoints of another task are refused
CHECKPOINTS = ["best.pt", "last.pt"]  # looked up in a run folder, in this order


class PredictError(RuntimeError):
    """A checkpoint or input that cannot be used; main() prints it as one line (exit 1)."""


def find_checkpoint(path: str) -> Path:
    """The checkpoint file named by `path`: the file itself, or the first of CHECKPOINTS in it."""
    given = Path(path)
    if given.is_dir():
        for name in CHECKPOINTS:
            if (given / name).is_file():
                return given / name
        raise PredictError(
            f"{given} holds no {' or '.join(CHECKPOINTS) or 'checkpoint (checkpoint=none)'}"
        )
    if not given.is_file():
        raise PredictError(f"no run folder or checkpoint at {given}")
    return given


def load_model(path: Path, device: torch.device) -> tuple[torch.nn.Module, DataInfo]:
    """Rebuild the trained model with model.py's build_model from what the checkpoint holds."""
    try:
        state = load_checkpoint(path)
    except TrainingError as exc:
        raise PredictError(str(exc)) from None
    missing = [key for key in ("task", "config", "info") if key not in state]
    if missing:
        raise PredictError(
            f"{path} holds no {', '.join(missing)}: not a checkpoint of this train.py"
        )
    if state["task"] != TASK:
        raise PredictError(
            f"{path} is a checkpoint of task={state['task']}; this project is task={TASK}"
        )
    cfg = SimpleNamespace(**state["config"])  # build_model reads the fields it needs
    info = DataInfo(**state["info"])
    model = build_model(cfg, info)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, ValueError, KeyError) as exc:  # model.py changed since training
        detail = " ".join(str(exc).split())[:200]
        raise PredictError(f"{path} does not fit model.py's model: {detail}") from None
    return model.to(device).eval(), info


def predict(model: torch.nn.Module, inputs: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The model's logits for `inputs`, in eval mode without autograd, `batch_size` at a time."""
    device = next(model.parameters()).device
    with torch.inference_mode():
        parts = [model(batch.to(device)).float().cpu() for batch in inputs.split(batch_size)]
    return torch.cat(parts)


def flag_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=Path(__file__).name, description=__doc__.splitlines()[0], allow_abbrev=False
    )
    parser.add_argument("run", help="a run folder (runs/version_N) or a checkpoint file")
    parser.add_argument("inputs", nargs="+", help="what data.py's load_inputs() reads")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    parser.add_argument("--batch-size", type=int, default=256, help="inputs per forward pass")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse flags, load the model, print one line per prediction. Returns the exit code."""
    if not isinstance(sys.stdout, PipeSafeStdout):  # `| head` must not end in a traceback
        sys.stdout = PipeSafeStdout(sys.stdout)
    parser = flag_parser()
    args = parser.parse_args(argv)  # bad flags: argparse prints its message and exits 2
    if args.batch_size < 1:
        parser.error(f"argument --batch-size: must be >= 1, got {args.batch_size}")
    try:
        device = torch.device(args.device)
    except RuntimeError:
        parser.error(f"argument --device: unknown device {args.device!r}")
    try:
        model, info = load_model(find_checkpoint(args.run), device)
        inputs = load_inputs(args.inputs, info)
        lines = describe(predict(model, inputs, args.batch_size), info)
    except (PredictError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
