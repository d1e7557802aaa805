"""model.py: the model (task=image). This file is yours: edit it freely.

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

import torch
from torch import nn

from data import DataError, DataInfo


def norm(channels: int, batchnorm: bool) -> nn.Module:
    """BatchNorm2d, or nothing (--no-batchnorm: every sample is then computed on its own)."""
    return nn.BatchNorm2d(channels) if batchnorm else nn.Identity()


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut: out = relu(f(x) + shortcut(x)).

    The shortcut is the identity, or a strided 1x1 convolution where the block changes the
    resolution or the number of channels.
    """

    def __init__(self, in_channels: int, channels: int, stride: int, batchnorm: bool):
        super().__init__()
        bias = not batchnorm  # BatchNorm's shift makes a convolution's bias redundant
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, stride, padding=1, bias=bias),
            norm(channels, batchnorm),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, padding=1, bias=bias),
            norm(channels, batchnorm),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=bias), norm(channels, batchnorm)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNetSmall(nn.Module):
    """A ResNet for small images (8 to 64 pixels): a 3x3 stem, 3 stages, global average pooling.

    The stages have width, 2 x width and 4 x width channels; the second and third halve the
    resolution. Pooling over all positions makes it work at any image size. Returns raw logits.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        width: int,
        blocks: int,
        dropout: float,
        batchnorm: bool,
    ):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=not batchnorm),
            norm(width, batchnorm),
            nn.ReLU(inplace=True),
        )
        layers, channels = [], width
        for stage in range(3):
            for block in range(blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(ResidualBlock(channels, width * 2**stage, stride, batchnorm))
                channels = width * 2**stage
        self.stages = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.stages(self.stem(x)).mean(dim=(2, 3))  # global average pooling
        return self.head(features)


def torchvision_model(name: str, num_classes: int) -> nn.Module:
    """An untrained torchvision classifier by name (resnet18, mobilenet_v3_small, ...).

    Raises:
        DataError: when torchvision is missing or has no model of that name.
    """
    try:
        import torchvision
    except ImportError:
        raise DataError(
            f"--arch {name} is a torchvision model, and torchvision is not installed: "
            "pip install torchvision (the build matching your torch), or use --arch resnet_small"
        ) from None
    known = torchvision.models.list_models(module=torchvision.models)
    if name not in known:
        raise DataError(
            f"--arch {name}: torchvision {torchvision.__version__} has no such classification "
            f"model (e.g. {', '.join(sorted(known)[:4])}, ...); or use --arch resnet_small"
        )
    return torchvision.models.get_model(name, weights=None, num_classes=num_classes)


def build_model(cfg, info: DataInfo) -> nn.Module:
    """resnet_small sized by cfg.width, cfg.blocks, cfg.dropout and cfg.batchnorm, or cfg.arch
    from torchvision (its own architecture: those settings do not apply)."""
    channels = info.input_shape[0]
    if cfg.arch == "resnet_small":
        return ResNetSmall(
            channels, info.num_classes, cfg.width, cfg.blocks, cfg.dropout, cfg.batchnorm
        )
    if channels != 3:
        raise DataError(f"--arch {cfg.arch}: torchvision models take 3-channel (RGB) images")
    return torchvision_model(cfg.arch, info.num_classes)
