"""lm_synthetic: generate text with the trained language model (template-owned).

    python sample.py                                  # from the newest runs/*/best.pt
    python sample.py --prompt "The cat" --max-new-tokens 300
    python sample.py --checkpoint runs/version_0 --temperature 0.8 --top-k 10 --seed 1

The model is rebuilt as predict.py does: model.py's build_model(cfg, info) from the config and
DataInfo saved in the checkpoint, so it matches the weights; the vocabulary comes from there too.
Exit codes: 0 text written · 1 a failure explained in one line (no or bad checkpoint) ·
2 bad flags (a value out of range, a prompt with characters the vocabulary lacks).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import torch

from data import decode, encode, unknown_chars
from predict import CHECKPOINTS, PredictError, find_checkpoint, load_model
from tracking import PipeSafeStdout
from train import RUNS, ConfigError, check_device_available


class SampleError(Exception):
    """A bad flag value found after parsing (a prompt the vocabulary cannot encode): exit 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line (exit 2), as train.py's are."""

    def error(self, message: str):
        self.exit(2, f"{Path(__file__).name}: error: {message} (see --help)\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, checked: a value out of range exits 2 in one line, before anything loads."""
    parser = OneLineParser(
        prog=Path(__file__).name,
        allow_abbrev=False,
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--checkpoint",
        default="",
        help=f"a checkpoint file or a run folder (default: the newest under {RUNS}/)",
    )
    parser.add_argument("--prompt", default="\n", help="text to continue (default: a line break)")
    parser.add_argument("--max-new-tokens", type=int, default=200, help="tokens to generate (>= 0)")
    parser.add_argument(
        "--temperature", type=float, default=1.0, help="> 0 flattens or sharpens; 0 = greedy"
    )
    parser.add_argument(
        "--top-k", type=int, default=0, help="sample among the k likeliest tokens (0 = all)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling generator")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"cpu|mps|cuda(:[0-9]+)?", args.device):
        parser.error(f"argument --device: invalid value {args.device!r} (cpu, cuda, cuda:N or mps)")
    try:
        check_device_available(args.device)
    except ConfigError as exc:
        parser.error(str(exc))
    if args.max_new_tokens < 0:
        parser.error(f"argument --max-new-tokens: must be >= 0, got {args.max_new_tokens}")
    if not args.temperature >= 0:  # also refuses NaN
        parser.error(f"argument --temperature: must be >= 0, got {args.temperature}")
    if args.top_k < 0:
        parser.error(f"argument --top-k: must be >= 0, got {args.top_k}")
    if not 0 <= args.seed < 2**63:
        parser.error(f"argument --seed: must be in [0, 2**63), got {args.seed}")
    return args


def newest_run() -> str:
    """The most recently written run folder under runs/ that holds a checkpoint.

    Raises:
        PredictError: when there is none.
    """
    found = [p for name in CHECKPOINTS for p in RUNS.glob(f"*/{name}")]
    if not found:
        raise PredictError(
            f"no checkpoint under {RUNS}/ (no */{CHECKPOINTS[0]}); train first with `python train.py`"
        )
    return str(max(found, key=lambda path: path.stat().st_mtime).parent)


@torch.inference_mode()
def generate(
    model: torch.nn.Module,
    ids: torch.Tensor,
    new_tokens: int,
    block_size: int,
    temperature: float = 1.0,
    top_k: int = 0,
    generator: torch.Generator | None = None,
    banned: list[int] | None = None,
) -> torch.Tensor:
    """Append `new_tokens` tokens to `ids` (batch, time), one at a time.

    Each step feeds at most the last block_size tokens (the model has no positions beyond) and
    samples from the last position's distribution: softmax(logits / temperature) over the
    top_k likeliest tokens (all when 0); temperature 0 takes the likeliest. `banned` token ids
    (the char tokenizer's UNKNOWN) are never produced.
    """
    model.eval()  # dropout off while sampling, whoever built the model and in whatever mode
    for _ in range(new_tokens):
        logits = model(ids[:, -block_size:])[:, -1].float()
        if banned:
            logits[:, banned] = -torch.inf
        if temperature == 0:
            token = logits.argmax(dim=-1, keepdim=True)
        else:
            logits = logits / temperature
            if 0 < top_k < logits.size(-1):
                kth = logits.topk(top_k, dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, -torch.inf)
            probabilities = logits.softmax(dim=-1).cpu()  # sampled on the CPU: same on any device
            token = torch.multinomial(probabilities, 1, generator=generator).to(ids.device)
        ids = torch.cat([ids, token], dim=1)
    return ids


def sample(args: argparse.Namespace) -> str:
    """The prompt and its continuation, as text.

    Raises:
        PredictError: no or bad checkpoint. SampleError: a prompt the vocabulary cannot encode.
    """
    device = torch.device(args.device)
    model, info = load_model(find_checkpoint(args.checkpoint or newest_run()), device)
    inference = info.inference
    missing = unknown_chars(args.prompt, inference)
    if missing:
        shown = " ".join(repr(char) for char in missing[:10])
        raise SampleError(
            f"argument --prompt: the vocabulary has no {shown} (it holds the characters of the "
            "training text only)"
        )
    ids = encode(args.prompt, inference)
    if not len(ids):
        raise SampleError("argument --prompt: empty; give at least one character to continue")
    generator = torch.Generator().manual_seed(args.seed)
    banned = [0] if inference["tokenizer"] == "char" else None  # 0 = UNKNOWN: not a character
    out = generate(
        model,
        ids.unsqueeze(0).to(device),
        args.max_new_tokens,
        inference["block_size"],
        args.temperature,
        args.top_k,
        generator,
        banned,
    )
    return decode(out[0].tolist(), inference)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point. Returns the exit code (see the module docstring)."""
    if not isinstance(sys.stdout, PipeSafeStdout):  # `| head` must not end in a traceback
        sys.stdout = PipeSafeStdout(sys.stdout)
    args = parse_args(argv)
    try:
        text = sample(args)
    except SampleError as exc:
        print(f"{Path(__file__).name}: error: {exc} (see --help)", file=sys.stderr)
        return 2
    except PredictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
