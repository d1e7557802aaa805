"""model.py: the model (task=lm). This file is yours: edit it freely.

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

import math

import torch
import torch.nn.functional as F
from torch import nn

from data import DataError, DataInfo


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which each position sees only itself and the positions before."""

    def __init__(self, n_embd: int, n_head: int, dropout: float):
        super().__init__()
        self.n_head, self.dropout = n_head, dropout
        # Queries, keys and values in one matmul, without a bias: a key bias shifts every score of
        # a query alike, which softmax ignores, so its gradient is exactly zero and Adam would
        # turn the rounding noise in it into full-size updates.
        self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.proj = nn.Linear(n_embd, n_embd)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, time, width = x.shape
        # (batch, time, 3 * width) -> 3 x (batch, heads, time, head width)
        q, k, v = (
            self.qkv(x)
            .view(batch, time, 3, self.n_head, width // self.n_head)
            .permute(2, 0, 3, 1, 4)
        )
        # is_causal=True masks the future inside the fused kernel (no mask tensor to build);
        # attention dropout only while training: evaluation must be deterministic.
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
        )
        return self.drop(self.proj(y.transpose(1, 2).reshape(batch, time, width)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, n_embd: int, n_head: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.norm2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.GELU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class CausalLM(nn.Module):
    """A small decoder-only transformer: token ids (batch, time) -> next-token logits
    (batch, time, vocabulary). Position t predicts token t + 1 from tokens 0..t."""

    def __init__(
        self, vocab: int, block_size: int, n_layer: int, n_head: int, n_embd: int, dropout: float
    ):
        super().__init__()
        self.block_size = block_size  # the longest input: positions have no embedding beyond it
        self.tokens = nn.Embedding(vocab, n_embd)
        self.positions = nn.Embedding(block_size, n_embd)  # learned absolute positions
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*(Block(n_embd, n_head, dropout) for _ in range(n_layer)))
        self.norm = nn.LayerNorm(n_embd)  # pre-norm blocks leave the residual stream unnormalised
        self.head = nn.Linear(n_embd, vocab, bias=False)
        self.apply(init_weights)
        # Residual projections start smaller, so the stream's variance does not grow with depth.
        for block in self.blocks:
            for layer in (block.attn.proj, block.mlp[2]):
                nn.init.normal_(layer.weight, 0.0, 0.02 / math.sqrt(2 * n_layer))
        # Weight tying: the output head reads with the same matrix the input embeds with (fewer
        # parameters, and a token's input and output representations learn together).
        self.head.weight = self.tokens.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        time = idx.size(1)
        position = torch.arange(time, device=idx.device)
        x = self.drop(self.tokens(idx) + self.positions(position))
        return self.head(self.norm(self.blocks(x)))


def init_weights(module: nn.Module) -> None:
    """Small normal weights and zero biases (PyTorch's defaults are too wide for embeddings)."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def build_model(cfg, info: DataInfo) -> nn.Module:
    """The transformer for this vocabulary, sized by cfg.n_layer, n_head, n_embd and block_size.

    Raises:
        DataError: when --n-head does not divide --n-embd (train.py prints it in one line).
    """
    if cfg.n_embd % cfg.n_head:
        raise DataError(
            f"--n-head {cfg.n_head} must divide --n-embd {cfg.n_embd}: each head gets an "
            "equal share of the width"
        )
    (block_size,) = info.input_shape
    return CausalLM(info.num_classes, block_size, cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.dropout)
