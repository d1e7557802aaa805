"""data.py: the data (task=image). This file is yours: edit it freely.

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
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F
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


SHAPES = (
    "cross",
    "disc",
    "ring",
    "square",
    "stripes",
    "triangle",
)  # the demo's classes, in label order
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")


# ---------------------------------------------------------------------------------------------
# The built-in demo: shapes drawn at random positions, sizes, angles and colours
# ---------------------------------------------------------------------------------------------
def inside(shape: str, u: torch.Tensor, v: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Signed distance in pixels from each pixel to the outline (> 0 inside the shape).

    (u, v) are pixel coordinates relative to the shape's centre, already rotated; r is its size.
    """
    if shape == "disc":
        return r - torch.hypot(u, v)
    if shape == "ring":
        d = torch.hypot(u, v)
        return torch.minimum(r - d, d - 0.55 * r)
    if shape == "square":
        return 0.8 * r - torch.maximum(u.abs(), v.abs())
    if shape == "triangle":  # three half-planes, 120 degrees apart
        sides = [0.5 * r - (u * math.cos(a) + v * math.sin(a)) for a in (0, 2.0944, 4.1888)]
        return torch.minimum(torch.minimum(sides[0], sides[1]), sides[2])
    if shape == "cross":
        arm = 0.3 * r
        across = torch.minimum(arm - v.abs(), r - u.abs())
        down = torch.minimum(arm - u.abs(), r - v.abs())
        return torch.maximum(across, down)
    if shape == "stripes":  # three or four bars inside a square window
        period = 0.5 * r
        bars = period / 4 - (torch.remainder(u, period) - period / 2).abs()
        return torch.minimum(bars, 0.85 * r - torch.maximum(u.abs(), v.abs()))
    raise ValueError(f"unknown shape {shape!r}")


def make_shapes(
    samples_per_class: int, image_size: int, noise: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """`samples_per_class` images of each shape in SHAPES, as uint8 (N, 3, size, size) and labels.

    Position, size, rotation, the two colours and the pixel noise are random, and the shape's
    colour is unrelated to its class (lighter or darker than the background alike), so only
    the outline tells the classes apart: a CNN must learn shape, not a colour or a pixel.
    Generating 3000 images of 16 x 16 takes about a tenth of a second.
    """
    # A private generator: drawing the data never shifts the model's RNG stream.
    generator = torch.Generator().manual_seed(seed)
    n, s = samples_per_class * len(SHAPES), image_size

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator)

    labels = torch.arange(len(SHAPES)).repeat_interleave(samples_per_class)
    r = s * (0.2 + 0.18 * uniform(n, 1, 1))  # size: 20% to 38% of the side
    cx, cy = (r + (s - 2 * r) * uniform(n, 1, 1) for _ in range(2))  # wholly inside the image
    angle = 2 * math.pi * uniform(n, 1, 1)
    grid = torch.arange(s, dtype=torch.float32) + 0.5  # pixel centres
    dx, dy = grid.view(1, 1, s) - cx, grid.view(1, s, 1) - cy
    u, v = angle.cos() * dx + angle.sin() * dy, angle.cos() * dy - angle.sin() * dx
    distance = torch.empty(n, s, s)
    for label, shape in enumerate(SHAPES):
        rows = labels == label
        distance[rows] = inside(shape, u[rows], v[rows], r[rows])
    cover = (distance + 0.5).clamp(0, 1).unsqueeze(1)  # antialiased: a 1-pixel soft edge
    # Two random colours, one lighter than the other in every channel (by 0.35 to 0.6); which
    # of them the shape gets is a coin flip, so neither hue nor brightness tells the class.
    dark = 0.4 * uniform(n, 3, 1, 1)
    light = dark + 0.35 + 0.25 * uniform(n, 3, 1, 1)
    light_shape = uniform(n, 1, 1, 1) < 0.5
    foreground = torch.where(light_shape, light, dark)
    background = torch.where(light_shape, dark, light)
    pixels = background + (foreground - background) * cover
    pixels = pixels + noise * torch.randn(n, 3, s, s, generator=generator)
    return (pixels.clamp(0, 1) * 255).round().to(torch.uint8), labels


def write_demo_folder(folder: str, samples_per_class: int = 50, image_size: int = 32) -> None:
    """Write demo shapes as PNG files, one sub-folder per class: data to try the folder loader on.

    python -c "import data; data.write_demo_folder('data/images')"
    """
    images, labels = make_shapes(samples_per_class, image_size, noise=0.1, seed=0)
    for index, (image, label) in enumerate(zip(images, labels.tolist())):
        path = Path(folder) / SHAPES[label] / f"{index:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        pillow().fromarray(image.permute(1, 2, 0).numpy()).save(path)


# ---------------------------------------------------------------------------------------------
# Image files: one sub-folder per class
# ---------------------------------------------------------------------------------------------
def pillow():
    """PIL.Image, imported when image files are read (the demo trains without it)."""
    try:
        from PIL import Image
    except ImportError:
        raise DataError("reading image files needs Pillow: pip install pillow") from None
    return Image


def load_image(path: Path, size: int) -> torch.Tensor:
    """One image file as uint8 (3, size, size): RGB, the shorter side resized, centre-cropped.

    Raises:
        DataError: naming the file, when Pillow cannot read it.
    """
    image_module = pillow()
    try:
        with image_module.open(path) as image:
            image = image.convert("RGB")
            scale = size / min(image.size)
            width, height = (max(size, round(side * scale)) for side in image.size)
            image = image.resize((width, height), image_module.Resampling.BILINEAR)
            left, top = (width - size) // 2, (height - size) // 2
            image = image.crop((left, top, left + size, top + size))
            pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    except (OSError, ValueError, image_module.DecompressionBombError) as exc:
        reason = " ".join(str(getattr(exc, "strerror", None) or exc).split())
        raise DataError(f"cannot read image {path}: {reason}") from None
    return pixels.view(size, size, 3).permute(2, 0, 1).contiguous()


def image_files(folder: Path) -> list[Path]:
    """The image files under `folder` (sub-folders included), sorted; hidden files are skipped."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def load_folder(root: str, size: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Every image under root/CLASS/, as uint8 (N, 3, size, size), labels and the class names.

    The sub-folders are the classes, numbered in sorted order of their names. Every image is
    decoded into memory once, before training (N x 3 x size x size bytes: 10,000 images at
    --image-size 64 take 123 MB), so epochs never wait on the disk; the size is printed before
    decoding starts. For a folder that does not fit, write a Dataset that opens each file in
    __getitem__ (load_image does the work) and return it from build_datasets.

    Raises:
        DataError: for a missing folder, fewer than 2 classes, an empty class or a bad file.
    """
    folder = Path(root)
    if not folder.is_dir():
        why = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataError(f"--image-folder {root} {why}: expected one sub-folder of images per class")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(
            f"--image-folder {root} has {len(classes)} class sub-folder(s); a classifier needs at "
            "least 2 (one sub-folder of images per class, named after the class)"
        )
    files, labels = [], []
    for label, name in enumerate(classes):
        found = image_files(folder / name)
        if not found:
            raise DataError(
                f"--image-folder {root}: the class folder {name!r} holds no images "
                f"({', '.join(IMAGE_SUFFIXES)})"
            )
        files += found
        labels += [label] * len(found)
    if os.environ.get("RANK", "0") == "0":  # one line per run, not one per DDP process
        print(
            f"data: decoding {len(files):,} images of {size}x{size} from {root} into memory "
            f"({readable_bytes(len(files) * 3 * size * size)})",
            flush=True,
        )
    images = torch.stack([load_image(path, size) for path in files])
    return images, torch.tensor(labels), classes


def readable_bytes(count: float) -> str:
    """A byte count as people read it: 46.1 kB, 122.9 MB (powers of 1000)."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} TB"


# ---------------------------------------------------------------------------------------------
# Normalisation, augmentation and the split
# ---------------------------------------------------------------------------------------------
def channel_statistics(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images on the 0-1 scale (float64 sums, in chunks)."""
    channels = images.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for chunk in images.split(1024):
        x = chunk.double() / 255
        total += x.sum(dim=(0, 2, 3))
        squares += x.square().sum(dim=(0, 2, 3))
    count = images.numel() / channels
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(0).sqrt().clamp_min(1e-8)
    return mean.float(), std.float()


class ImageDataset(Dataset):
    """uint8 images held in memory, normalised (and, for training, augmented) as they are read.

    The augmentation draws from torch's global generator: train.py saves its state in last.pt,
    so a resumed run (num_workers=0) draws the same crops and flips; DataLoader seeds each
    worker process from the loader's saved generator.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor,
        crop_padding: int = 0,
        flip: bool = False,
    ):
        self.images, self.labels = images, labels
        self.mean, self.std = mean.view(-1, 1, 1), std.view(-1, 1, 1)
        self.crop_padding, self.flip = crop_padding, flip

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = (self.images[index].float() / 255 - self.mean) / self.std
        if self.crop_padding:  # pad with zeros (the mean colour), then crop back at random
            pad = self.crop_padding
            _, height, width = x.shape
            top, left = torch.randint(0, 2 * pad + 1, (2,)).tolist()
            x = F.pad(x, (pad, pad, pad, pad))[:, top : top + height, left : left + width]
        if self.flip and torch.rand(()) < 0.5:
            x = x.flip(-1)
        return x, self.labels[index]


def validation_size(count: int, cfg) -> int:
    """Images held out for validation; refuses a split that leaves too few on either side.

    Raises:
        DataError: when training would get fewer than 2 images.
    """
    n_val = max(1, int(count * cfg.val_fraction))
    if count - n_val < 2:
        raise DataError(
            f"{count} images: --val-fraction {cfg.val_fraction} leaves {count - n_val} to train "
            "on; at least 2 are needed for training and 1 for validation"
        )
    return n_val


def build_datasets(cfg) -> tuple[ImageDataset, ImageDataset, DataInfo]:
    """Your image folder (cfg.image_folder) or, when that is empty, the shapes demo; split once
    (seeded) and normalised with the training split's statistics.

    Only the training split is augmented; validation sees the images as they are.

    Raises:
        DataError: for images that cannot be read, or a split or batch size it cannot train on.
    """
    if cfg.image_folder:
        images, labels, classes = load_folder(cfg.image_folder, cfg.image_size)
    else:
        images, labels = make_shapes(cfg.samples_per_class, cfg.image_size, cfg.noise, cfg.seed)
        classes = list(SHAPES)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(cfg.seed))
    n_val = validation_size(len(labels), cfg)
    val_idx, train_idx = order[:n_val], order[n_val:]
    uses_batchnorm = cfg.batchnorm or cfg.arch != "resnet_small"  # torchvision's nets have it
    if uses_batchnorm and min(cfg.batch_size, len(train_idx)) < 2:
        # BatchNorm in training mode raises on a batch of one sample: refuse it up front.
        raise DataError(
            f"BatchNorm needs --batch-size >= 2 and at least 2 training images (got "
            f"{cfg.batch_size} and {len(train_idx)}): it cannot normalise one sample"
        )
    # Statistics come from the training split only, so nothing about validation leaks in.
    mean, std = channel_statistics(images[train_idx])
    train_set = ImageDataset(
        images[train_idx], labels[train_idx], mean, std, cfg.crop_padding, cfg.flip
    )
    val_set = ImageDataset(images[val_idx], labels[val_idx], mean, std)  # never augmented
    info = DataInfo(
        input_shape=tuple(images.shape[1:]),
        num_classes=len(classes),
        metric="val_acc",
        metric_mode="max",
        inference={"mean": mean, "std": std, "labels": classes, "image_size": cfg.image_size},
    )
    return train_set, val_set, info


# ---------------------------------------------------------------------------------------------
# For predict.py: new inputs in, readable predictions out
# ---------------------------------------------------------------------------------------------
def load_inputs(items: list[str], info: DataInfo) -> torch.Tensor:
    """Image files as one batch, resized and normalised exactly as the training images were.

    Raises:
        DataError: naming a file that cannot be read, or a folder given instead of files.
    """
    if not items:
        raise DataError("no image files to predict")
    size = info.inference["image_size"]
    mean = torch.as_tensor(info.inference["mean"]).view(-1, 1, 1)
    std = torch.as_tensor(info.inference["std"]).view(-1, 1, 1)
    for item in items:
        if Path(item).is_dir():
            raise DataError(f"{item} is a folder: pass its image files (e.g. {item}/*.png)")
    images = torch.stack([load_image(Path(item), size) for item in items])
    return (images.float() / 255 - mean) / std


def describe(logits: torch.Tensor, info: DataInfo) -> list[str]:
    """One line per image: the predicted label and its probability."""
    probabilities = logits.float().softmax(dim=-1)
    confidence, index = probabilities.max(dim=-1)
    labels = info.inference["labels"]
    return [f"{labels[i]}\t{p:.3f}" for i, p in zip(index.tolist(), confidence.tolist())]
