"""model.py: the model (task=tabular). This file is yours: edit it freely.

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

from torch import nn

from data import DataInfo


class MLP(nn.Module):
    """Two hidden layers; returns raw logits (CrossEntropyLoss applies log-softmax itself)."""

    def __init__(
        self, in_features: int, hidden: int, num_classes: int, dropout: float, batchnorm: bool
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(2):
            layers.append(nn.Linear(width, hidden))
            if batchnorm:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def build_model(cfg, info: DataInfo) -> nn.Module:
    """The MLP for these features and classes, sized by cfg.hidden, cfg.dropout, cfg.batchnorm."""
    (in_features,) = info.input_shape
    return MLP(in_features, cfg.hidden, info.num_classes, cfg.dropout, cfg.batchnorm)
