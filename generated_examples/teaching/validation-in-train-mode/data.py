"""data.py: the data (task=tabular). This file is yours: edit it freely.

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

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import TensorDataset


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


DELIMITERS = ",;\t|"  # the separators load_csv recognises in the header row
# A label column of more distinct numbers than this, some of them not whole, is a continuous
# target (a price, a temperature), not classes: load_csv refuses it instead of training a
# classifier with one class per value.
MAX_FLOAT_CLASSES = 50


def load_csv(path: str, label_column: str) -> tuple[torch.Tensor, torch.Tensor, list, list]:
    """Read a CSV of numeric feature columns and one label column.

    The file may start with a UTF-8 byte-order mark and may be separated by , ; tab or |
    (found from the header row). Labels may be any strings; they are numbered in sorted order.
    Every value is checked here, before training starts, so a bad cell is reported with its
    row (the header is row 1) and column instead of surfacing as a NaN loss an epoch later.

    Returns:
        (features, class indices, the class names in index order, the feature column names).

    Raises:
        DataError: naming the file, and the row and column where there is one.
    """
    text = read_text(path, label_column, "--csv-path ")
    delimiter = find_delimiter(text.partition("\n")[0], label_column)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise DataError(f"{path} is empty: expected a header row naming the columns")
    if label_column not in header:
        shown = ", ".join(repr(name) for name in header[:8])
        raise DataError(
            f"{path} row 1: no column named {label_column!r} (--label-column); "
            f"the header split on {delimiter!r} gives {shown}"
        )
    for name in header:
        if header.count(name) > 1:
            raise DataError(f"{path} row 1, column {name!r}: the name appears twice")
    label_at = header.index(label_column)
    feature_at = [i for i in range(len(header)) if i != label_at]
    if not feature_at:
        raise DataError(f"{path} row 1: only the label column {label_column!r}, no feature columns")
    features, labels, rows = [], [], []
    for cells in reader:
        row = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (a trailing newline, a spreadsheet's empty rows) hold nothing
        if len(cells) != len(header):
            raise DataError(
                f"{path} row {row}: {len(cells)} cells, but the header has {len(header)} columns"
            )
        label = cells[label_at].strip()
        if not label:
            raise DataError(f"{path} row {row}, column {label_column!r}: empty label")
        features.append([parse_cell(cells[i], path, row, header[i]) for i in feature_at])
        labels.append(label)
        rows.append(row)
    if not labels:
        raise DataError(f"{path}: a header row but no data rows")
    x = torch.tensor(features, dtype=torch.float32)
    overflow = (~torch.isfinite(x)).nonzero()
    if len(overflow):  # finite as float64 text, but beyond float32's range
        r, c = overflow[0].tolist()
        name = header[feature_at[c]]
        raise DataError(f"{path} row {rows[r]}, column {name!r}: the value overflows float32")
    if len(labels) < 3:
        raise DataError(
            f"{path}: {len(labels)} data row(s); at least 3 are needed (2 to train on, 1 to validate)"
        )
    classes = sorted(set(labels))
    check_class_labels(path, label_column, classes)
    if len(classes) < 2:
        raise DataError(
            f"{path} column {label_column!r}: every row has the label {classes[0]!r}; "
            "a classifier needs at least 2 classes"
        )
    class_index = {label: i for i, label in enumerate(classes)}
    y = torch.tensor([class_index[label] for label in labels], dtype=torch.long)
    return x, y, classes, [header[i] for i in feature_at]


def check_class_labels(path: str, label_column: str, classes: list[str]) -> None:
    """Refuse a label column that holds continuous numbers rather than class labels.

    Raises:
        DataError: when more than MAX_FLOAT_CLASSES distinct labels are all numbers and some of
            them are not whole numbers.
    """
    if len(classes) <= MAX_FLOAT_CLASSES:
        return
    try:
        values = [float(label) for label in classes]
    except ValueError:
        return  # names (or codes) are class labels, however many there are
    fractional = [label for label, value in zip(classes, values) if not value.is_integer()]
    if fractional:
        raise DataError(
            f"{path} column {label_column!r}: {len(classes)} distinct numbers such as "
            f"{', '.join(fractional[:3])}; classification needs class labels (names or a few "
            "integer codes), not a continuous target: pick another --label-column"
        )


def read_text(path: str, column: str, flag: str = "") -> str:
    """The UTF-8 text of a CSV file, or a DataError naming the file (and the row of a bad byte)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {flag}{path}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")  # -sig: a spreadsheet's byte-order mark is not a name
    except UnicodeDecodeError as exc:
        raise DataError(not_utf8(path, raw, exc.start, column)) from None


def find_delimiter(header_line: str, label_column: str) -> str:
    """The separator of the header row: the most frequent one whose split names `label_column`."""
    ranked = sorted(DELIMITERS, key=header_line.count, reverse=True)
    for delimiter in ranked:
        cells = next(csv.reader([header_line], delimiter=delimiter, skipinitialspace=True), [])
        if label_column in (cell.strip() for cell in cells):
            return delimiter
    return ranked[0]  # no split names the label: load_csv reports what this one found


def not_utf8(path: str, raw: bytes, offset: int, label_column: str) -> str:
    """The one-line message for a byte that is not UTF-8, with its row and column."""
    row = raw[:offset].count(b"\n") + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    text = raw.decode("utf-8-sig", errors="replace")
    delimiter = find_delimiter(text.partition("\n")[0], label_column)
    header = next(csv.reader([text.partition("\n")[0]], delimiter=delimiter), [])
    column = raw[start:offset].decode("utf-8", errors="replace").count(delimiter)
    name = header[column].strip() if column < len(header) else f"#{column + 1}"
    return (
        f"{path} row {row}, column {name!r}: byte 0x{raw[offset]:02x} is not UTF-8 text "
        "(latin-1 or cp1252?); re-save the file as UTF-8"
    )


def parse_cell(cell: str, path: str, row: int, column: str) -> float:
    """One feature value as a finite float, or a DataError naming where it is."""
    where = f"{path} row {row}, column {column!r}"
    text = cell.strip()
    if not text:
        raise DataError(f"{where}: empty cell")
    try:
        value = float(text)
    except ValueError:
        hint = " (a decimal comma? write 1.5)" if re.fullmatch(r"-?\d+,\d+", text) else ""
        raise DataError(f"{where}: {text[:40]!r} is not a number{hint}") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text!r} is not a finite number")
    return value


def make_spiral(
    samples_per_class: int, noise: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Three interleaved spiral arms in 2-D: linearly inseparable, learnable by a small MLP."""
    # A private generator: drawing the data never shifts the model's RNG stream.
    generator = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for label in range(3):
        radius = torch.linspace(0.05, 1.0, samples_per_class)
        angle = torch.linspace(label * 4.0, (label + 1) * 4.0, samples_per_class)
        angle = angle + noise * torch.randn(samples_per_class, generator=generator)
        xs.append(torch.stack([radius * torch.sin(angle), radius * torch.cos(angle)], dim=1))
        ys.append(torch.full((samples_per_class,), label, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


def validation_size(rows: int, cfg) -> int:
    """Rows held out for validation; refuses a split that leaves too little on either side.

    Raises:
        DataError: when training would get fewer than 2 rows (a std of 1 row is NaN).
    """
    n_val = max(1, int(rows * cfg.val_fraction))
    if rows - n_val < 2:
        if cfg.csv_path:
            source = f"{cfg.csv_path} has {rows} data row(s)"
        else:
            source = f"--samples-per-class {cfg.samples_per_class} gives {rows} rows"
        raise DataError(
            f"{source}: --val-fraction {cfg.val_fraction} leaves {rows - n_val} to train on; "
            "at least 2 are needed for training and 1 for validation"
        )
    return n_val


def build_datasets(cfg) -> tuple[TensorDataset, TensorDataset, DataInfo]:
    """Your CSV (cfg.csv_path) or, when that is empty, the spiral demo; split once (seeded),
    then standardised with the training split's statistics.

    Raises:
        DataError: for data that cannot be read, or a split or batch size it cannot train on.
    """
    if cfg.csv_path:
        x, y, classes, features = load_csv(cfg.csv_path, cfg.label_column)
    else:
        x, y = make_spiral(cfg.samples_per_class, cfg.noise, cfg.seed)
        classes, features = ["arm_0", "arm_1", "arm_2"], ["x1", "x2"]
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(cfg.seed))
    n_val = validation_size(len(x), cfg)
    val_idx, train_idx = order[:n_val], order[n_val:]
    # Statistics come from the training split only, so nothing about validation leaks in.
    mean, std = x[train_idx].mean(dim=0), x[train_idx].std(dim=0).clamp_min(1e-8)
    x = (x - mean) / std
    if cfg.batchnorm and min(cfg.batch_size, len(train_idx)) < 2:
        # BatchNorm in training mode raises on a batch of one sample: refuse it up front.
        raise DataError(
            f"--batchnorm needs --batch-size >= 2 and at least 2 training samples "
            f"(got {cfg.batch_size} and {len(train_idx)}): BatchNorm cannot normalise one sample"
        )
    info = DataInfo(
        input_shape=(x.shape[1],),
        num_classes=len(classes),
        metric="val_acc",
        metric_mode="max",
        inference={"mean": mean, "std": std, "labels": classes, "features": features},
    )
    train_set = TensorDataset(x[train_idx], y[train_idx])
    val_set = TensorDataset(x[val_idx], y[val_idx])
    return train_set, val_set, info


# ---------------------------------------------------------------------------------------------
# For predict.py: new inputs in, readable predictions out
# ---------------------------------------------------------------------------------------------
def load_inputs(items: list[str], info: DataInfo) -> torch.Tensor:
    """CSV files whose header names the training feature columns, as one standardised batch.

    Other columns (the label, an id) are ignored; each data row is one sample, in file order.

    Raises:
        DataError: naming the file, row and column of a missing column or a bad cell.
    """
    features = info.inference["features"]
    rows = []
    for path in items:
        text = read_text(path, features[0])
        delimiter = find_delimiter(text.partition("\n")[0], features[0])
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True
        )
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in features if name not in header]
        if missing:
            raise DataError(
                f"{path} row 1: no column named {missing[0]!r}; the model was trained on the "
                f"columns {', '.join(features)}"
            )
        at = [header.index(name) for name in features]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise DataError(
                    f"{path} row {reader.line_num}: {len(cells)} cells, but the header has "
                    f"{len(header)} columns"
                )
            rows.append([parse_cell(cells[i], path, reader.line_num, header[i]) for i in at])
    if not rows:
        raise DataError(f"no data rows to predict in {', '.join(items)}")
    x = torch.tensor(rows, dtype=torch.float32)
    return (x - info.inference["mean"]) / info.inference["std"]


def describe(logits: torch.Tensor, info: DataInfo) -> list[str]:
    """One line per sample: the predicted label and its probability."""
    probabilities = logits.float().softmax(dim=-1)
    confidence, index = probabilities.max(dim=-1)
    labels = info.inference["labels"]
    return [f"{labels[i]}\t{p:.3f}" for i, p in zip(index.tolist(), confidence.tolist())]
