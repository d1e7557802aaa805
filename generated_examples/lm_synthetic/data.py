"""data.py: the data (task=lm). This file is yours: edit it freely.

train.py (the loop) imports exactly this from data.py and model.py, and assumes nothing else
about the task.

    build_datasets(cfg) -> (train_set, val_set, info)      data.py
        train_set, val_set: torch Datasets yielding (x, y). Classification: y is a class index;
        language model: x and y are LongTensors of shape (block_size,), y = x shifted by one.
        Normalisation statistics come from the training split only; augmentation applies to
        the training split only. Batching (DataLoader, shuffling, workers) stays in train.py.
    DataInfo                                                 data.py
        input_shape, num_classes (the vocabulary size for a language model), metric
        ("val_acc" or "val_ppl") and metric_mode ("max" or "min"), targets_per_sample (1, or
        block_size for a language model) and inference (what predict.py needs, saved in best.pt:
        plain Python values and tensors only).
    DataError                                                data.py
        raise it for bad data: train.py prints its message as one line and exits with 1.
    load_inputs(items, info) -> Tensor, describe(logits, info) -> list[str]   data.py
        predict.py: turn new inputs into one normalised batch, and logits into readable lines.
    build_model(cfg, info) -> nn.Module                      model.py
        returns raw logits: (batch, num_classes), or (batch, block_size, vocabulary).

Hyper-parameters reach this file through `cfg`, train.py's Config (every field is a flag).
`scaffold update` never rewrites this file: template updates change only train.py and friends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset


@dataclass
class DataInfo:
    """What the loop and the model need to know about the data (saved in best.pt)."""

    input_shape: tuple[int, ...]  # one sample's shape: (features,), (C, H, W) or (block_size,)
    num_classes: int  # classes; for a language model the vocabulary size
    metric: str  # "val_acc" (classification) or "val_ppl" (language model)
    metric_mode: str  # "max" for val_acc, "min" for val_ppl
    targets_per_sample: int = 1  # predictions per sample: 1, or block_size for a language model
    # What predict.py needs (normalisation statistics, label names, vocabulary), saved in best.pt:
    # plain Python values and tensors only, so torch.load(weights_only=True) can read it back.
    inference: dict = field(default_factory=dict)


class DataError(ValueError):
    """Data that cannot be used (a missing file, a bad cell); train.py prints it in one line."""


UNKNOWN = "\ufffd"  # char tokenizer, id 0: any character the training split does not contain
TOP_K = 5  # describe(): how many likely next tokens predict.py shows


# ---------------------------------------------------------------------------------------------
# The demo corpus: sentences of a small grammar, generated from the seed (nothing downloaded)
# ---------------------------------------------------------------------------------------------
# Nouns and verbs come as (singular, plural). The verb agrees with its subject, "a"/"this"/"one"
# take a singular noun and "two"/"these"/"many" a plural one, so the next character often
# depends on a choice made several words back: bigram statistics are not enough.
NOUNS = [
    ("cat", "cats"),
    ("dog", "dogs"),
    ("fox", "foxes"),
    ("bird", "birds"),
    ("child", "children"),
    ("mouse", "mice"),
    ("wolf", "wolves"),
    ("farmer", "farmers"),
    ("sailor", "sailors"),
    ("robot", "robots"),
    ("horse", "horses"),
    ("baker", "bakers"),
]
TRANSITIVE = [
    ("sees", "see"),
    ("chases", "chase"),
    ("likes", "like"),
    ("finds", "find"),
    ("follows", "follow"),
    ("watches", "watch"),
    ("helps", "help"),
    ("greets", "greet"),
]
INTRANSITIVE = [("sleeps", "sleep"), ("runs", "run"), ("waits", "wait"), ("sings", "sing")]
ADJECTIVES = ["red", "small", "quick", "old", "happy", "quiet", "brave", "lazy"]
PLACES = ["in the park", "near the river", "on the hill", "by the old mill", "at night"]
SINGULAR = ["the", "a", "this", "one"]
PLURAL = ["the", "two", "these", "many", "some"]


def noun_phrase(rng: random.Random) -> tuple[str, bool]:
    """A determiner, maybe an adjective, and a noun that agrees; returns (words, is_plural)."""
    plural = rng.random() < 0.5
    words = [rng.choice(PLURAL if plural else SINGULAR)]
    if rng.random() < 0.5:
        words.append(rng.choice(ADJECTIVES))
    words.append(rng.choice(NOUNS)[plural])
    return " ".join(words), plural


def sentence(rng: random.Random) -> str:
    """Subject, a verb that agrees with it, maybe an object and a place: "Two foxes see a cat."."""
    subject, plural = noun_phrase(rng)
    if rng.random() < 0.7:
        words = [subject, rng.choice(TRANSITIVE)[plural], noun_phrase(rng)[0]]
    else:
        words = [subject, rng.choice(INTRANSITIVE)[plural]]
    if rng.random() < 0.4:
        words.append(rng.choice(PLACES))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def synthetic_text(chars: int, seed: int) -> str:
    """At least `chars` characters of grammar sentences, four to a line; same seed, same text."""
    rng = random.Random(seed)  # a private generator: the model's RNG stream is not touched
    lines, size = [], 0
    while size < chars:
        line = " ".join(sentence(rng) for _ in range(4))
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Your text file
# ---------------------------------------------------------------------------------------------
def read_corpus(path: str, tokenizer: str) -> str | bytes:
    """The file as text (char tokenizer) or as raw bytes (byte tokenizer: any file works).

    Raises:
        DataError: for a file that cannot be read, is empty, or (char) is not UTF-8.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read --text-path {path}: {exc.strerror}") from None
    if not raw.strip():
        raise DataError(f"--text-path {path} is empty: a language model needs text to train on")
    if tokenizer == "byte":
        return raw
    try:
        return raw.decode("utf-8-sig")  # -sig: an editor's byte-order mark is not text
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path} line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; re-save the "
            "file as UTF-8, or train on its bytes with --tokenizer byte"
        ) from None


# ---------------------------------------------------------------------------------------------
# Tokenizers: char (vocabulary from the training split) or byte (the 256 byte values)
# ---------------------------------------------------------------------------------------------
def encode(text: str | bytes, inference: dict) -> torch.Tensor:
    """Token ids of `text` as a LongTensor. char: a character outside the vocabulary becomes
    id 0 (UNKNOWN), so validation text and new inputs never fail on a rare character."""
    if inference["tokenizer"] == "byte":
        raw = text.encode("utf-8") if isinstance(text, str) else text
        return torch.tensor(list(raw), dtype=torch.long)
    index = {char: i for i, char in enumerate(inference["itos"])}
    return torch.tensor([index.get(char, 0) for char in text], dtype=torch.long)


def decode(ids: list[int], inference: dict) -> str:
    """Text of token ids (byte: invalid UTF-8, e.g. a cut multi-byte character, shows as \ufffd)."""
    if inference["tokenizer"] == "byte":
        return bytes(ids).decode("utf-8", errors="replace")
    itos = inference["itos"]
    return "".join(itos[i] for i in ids)


def unknown_chars(text: str, inference: dict) -> list[str]:
    """The characters of `text` that the char vocabulary lacks (none for the byte tokenizer)."""
    if inference["tokenizer"] == "byte":
        return []
    known = set(inference["itos"][1:])
    return sorted(set(text) - known)


def unigram_entropy(tokens: torch.Tensor) -> float:
    """Entropy (nats) of the token frequencies: the loss of the best model that ignores context."""
    counts = torch.bincount(tokens).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


class TokenWindows(Dataset):
    """Non-overlapping windows of a token stream: sample i is x = tokens[i*T : i*T + T] and
    y = tokens[i*T + 1 : i*T + T + 1] (the next token at every position), T = block_size."""

    def __init__(self, tokens: torch.Tensor, block_size: int):
        self.tokens, self.block_size = tokens, block_size

    def __len__(self) -> int:
        return (len(self.tokens) - 1) // self.block_size

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        start = i * self.block_size
        chunk = self.tokens[start : start + self.block_size + 1]
        return chunk[:-1], chunk[1:]


def build_datasets(cfg) -> tuple[TokenWindows, TokenWindows, DataInfo]:
    """Your text file (cfg.text_path) or, when that is empty, the demo corpus, split once and
    contiguously: training is its start, validation its end (cfg.val_fraction), so no window
    spans both. The char vocabulary comes from the training split only.

    Raises:
        DataError: for a file that cannot be used, or a split shorter than one window.
    """
    if cfg.text_path:
        corpus = read_corpus(cfg.text_path, cfg.tokenizer)
        source = f"--text-path {cfg.text_path}"
    else:
        corpus = synthetic_text(cfg.corpus_chars, cfg.seed)
        source = f"--corpus-chars {cfg.corpus_chars}"
    cut = len(corpus) - int(len(corpus) * cfg.val_fraction)
    train_text, val_text = corpus[:cut], corpus[cut:]
    if cfg.tokenizer == "byte":
        inference = {"tokenizer": "byte"}
        vocab = 256
    else:
        itos = [UNKNOWN] + sorted(set(train_text) - {UNKNOWN})
        inference = {"tokenizer": "char", "itos": itos}
        vocab = len(itos)
    train_tokens, val_tokens = encode(train_text, inference), encode(val_text, inference)
    need = cfg.block_size + 1  # one window: block_size inputs and the token after them
    if min(len(train_tokens), len(val_tokens)) < need:
        raise DataError(
            f"{source} gives {len(train_tokens)} training and {len(val_tokens)} validation "
            f"tokens (--val-fraction {cfg.val_fraction}); each split needs at least "
            f"--block-size + 1 = {need}: use more text or a smaller --block-size"
        )
    inference["block_size"] = cfg.block_size
    inference["unigram_entropy"] = unigram_entropy(train_tokens)  # the bar to beat, in nats
    info = DataInfo(
        input_shape=(cfg.block_size,),
        num_classes=vocab,
        metric="val_ppl",
        metric_mode="min",
        targets_per_sample=cfg.block_size,  # every position predicts its next token
        inference=inference,
    )
    return (
        TokenWindows(train_tokens, cfg.block_size),
        TokenWindows(val_tokens, cfg.block_size),
        info,
    )


# ---------------------------------------------------------------------------------------------
# For predict.py: new inputs in, readable predictions out
# ---------------------------------------------------------------------------------------------
def load_inputs(items: list[str], info: DataInfo) -> torch.Tensor:
    """Text files as one batch of token ids: each row ends with its file's last tokens.

    The rows are cut to one length, the shortest file's (at most block_size), keeping the end
    of each file, since the next token is predicted from there. Characters the vocabulary
    lacks become UNKNOWN. (sample.py generates text from a prompt instead.)

    Raises:
        DataError: for a file that cannot be read or holds no text.
    """
    rows = []
    for path in items:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror}") from None
        tokens = encode(text, info.inference)
        if not len(tokens):
            raise DataError(f"{path} is empty: nothing to predict the next token of")
        rows.append(tokens)
    if not rows:
        raise DataError("no text files to predict from")
    length = min(info.inference["block_size"], *(len(row) for row in rows))
    return torch.stack([row[-length:] for row in rows])


def describe(logits: torch.Tensor, info: DataInfo) -> list[str]:
    """One line per input: its TOP_K most likely next tokens, with their probabilities."""
    probabilities = logits[:, -1].float().softmax(dim=-1)  # the position after the last token
    top = probabilities.topk(min(TOP_K, probabilities.size(-1)), dim=-1)
    lines = []
    for values, indices in zip(top.values.tolist(), top.indices.tolist()):
        shown = (f"{decode([i], info.inference)!r} {p:.3f}" for p, i in zip(values, indices))
        lines.append("next: " + "  ".join(shown))
    return lines
