"""Draw the training curves of one or more runs into curves.png.

    python plot.py                         # every real run under runs/ -> runs/curves.png
    python plot.py runs/version_0          # one run -> runs/version_0/curves.png
    python plot.py runs/a runs/b -o ab.png # several runs overlaid, one colour per run
    python plot.py runs --smooth 0.8       # heavier smoothing of the thick lines
    python plot.py --log-loss on           # loss on a log axis (auto: when it spans > 10x)

The picture lands beside the runs (inside runs/, which .gitignore covers), so plotting never
leaves a file that git would see. Dry runs (runs/dry_run) are skipped when a folder of runs is
scanned, unless --include-dry-runs; a dry run named on the command line is always drawn.

One panel per metric of metrics.csv: train and val loss together, then each validation metric,
then the learning rate. The x axis is the epoch; when the run records its optimizer steps (a `step`
column, or `optimizer_steps` in summary.json) a second axis on top reads in optimizer steps. A run's
steps.csv (train.py's step stream, every --log-every optimizer steps) adds a panel per step metric
(train loss, gradient norm) with x in optimizer steps. Each curve is drawn raw (thin) and smoothed
(thick); the best epoch (summary.json's `best_epoch`) is marked by a dotted vertical line.
Needs matplotlib (`pip install -e ".[plot]"`);
train.py never imports this file, so training does not need it. Exit codes: 0 written, 1 nothing
to plot or matplotlib missing, 2 bad flags.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

X_COLUMNS = ("epoch", "step", "seconds")  # axes and timings, not metrics
STEP_COLUMN = "step"
STEP_PANELS = {"loss": "train loss per step", "grad_norm": "gradient norm"}  # steps.csv columns


class PlotError(Exception):
    """A problem the user can fix (no metrics found, matplotlib missing); printed on one line."""


@dataclass
class Run:
    """The metrics of one run folder, column by column."""

    name: str
    columns: dict[str, list[float]] = field(default_factory=dict)
    steps_per_epoch: float | None = None  # from summary.json when metrics.csv has no step column
    steps: dict[str, list[float]] = field(default_factory=dict)  # steps.csv, column by column
    best_epoch: int | None = None  # from summary.json: the epoch best.pt holds


def read_columns(path: Path) -> dict[str, list[float]]:
    """A CSV file's columns as floats (blank or non-numeric cells are NaN; empty columns dropped)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = {}
    for column in rows[0] if rows else []:
        values = [_number(row.get(column)) for row in rows]
        if any(not math.isnan(v) for v in values):
            columns[column] = values
    return columns


def read_run(folder: Path, name: str) -> Run:
    """Read `folder/metrics.csv` (one row per epoch) and, if present, steps.csv and summary.json."""
    run = Run(name, read_columns(folder / "metrics.csv"))
    if (folder / "steps.csv").is_file():
        run.steps = read_columns(folder / "steps.csv")
    summary = folder / "summary.json"
    if summary.is_file():
        try:
            info = json.loads(summary.read_text())
            steps, epochs = info.get("optimizer_steps"), info.get("epochs_run")
            if steps and epochs and STEP_COLUMN not in run.columns:
                run.steps_per_epoch = steps / epochs  # every epoch takes the same number of steps
            best = info.get("best_epoch")
            if isinstance(best, int) and not isinstance(best, bool) and best > 0:
                run.best_epoch = best
        except (ValueError, AttributeError):
            pass  # a half-written summary only costs the step axis and the best-epoch mark
    return run


def is_dry_run(folder: Path) -> bool:
    """Whether train.py wrote `folder` with --dry-run (a few batches: a wiring check, no curve)."""
    try:
        return json.loads((folder / "config.json").read_text()).get("dry_run") is True
    except (OSError, ValueError, AttributeError):
        return folder.name == "dry_run"


def default_output(folders: list[Path]) -> Path:
    """Where the picture goes without -o: the run folder, or the folder that holds all the runs.

    Both lie under runs/ in the usual layout, which .gitignore covers, so plotting never leaves a
    file that `git status` (and so `scaffold update`) would see.
    """
    if len(folders) == 1:
        return folders[0] / "curves.png"
    common = Path(os.path.commonpath([f.absolute() for f in folders]))
    try:
        common = common.relative_to(Path.cwd())  # print it as the user would type it
    except ValueError:
        pass
    return common / "curves.png"


def loss_spans_a_decade(runs: list[Run], columns: list[str], per_step: bool = False) -> bool:
    """Whether the positive values of `columns` (steps.csv's if `per_step`) span more than 10x."""
    values = [
        v
        for run in runs
        for column in columns
        for v in (run.steps if per_step else run.columns).get(column, [])
        if not math.isnan(v) and v > 0
    ]
    return bool(values) and max(values) > 10 * min(values)


def _number(text: str | None) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def find_runs(paths: list[Path], include_dry_runs: bool = False) -> list[tuple[Path, str]]:
    """Run folders (those holding metrics.csv): each path itself, or the run folders inside it.

    Inside a folder of runs, dry runs are left out unless `include_dry_runs`; a path that is a run
    folder itself is always taken (the user named it).
    """
    found: list[tuple[Path, str]] = []
    for path in paths:
        if (path / "metrics.csv").is_file():
            found.append((path, path.name or str(path)))
            continue
        inside = sorted(p.parent for p in path.glob("*/metrics.csv")) if path.is_dir() else []
        real = [p for p in inside if include_dry_runs or not is_dry_run(p)]
        if inside and not real:
            raise PlotError(
                f"{path} holds only dry runs; train without --dry-run, or pass --include-dry-runs"
            )
        inside = real
        if not inside:
            raise PlotError(f"no metrics.csv in {path} or in the folders inside it")
        found.extend((p, f"{path.name}/{p.name}") for p in inside)
    names = [name for _, name in found]
    if len(set(names)) < len(names):  # same folder name under different parents: show the path
        found = [(p, str(p)) for p, _ in found]
    return found


def panels(runs: list[Run]) -> list[tuple[str, list[str]]]:
    """Group the metric columns into panels: one per metric, train and val of it together.

    `train_loss` and `val_loss` share the "loss" panel; `val_acc` gets "acc"; `lr` its own.
    """
    grouped: dict[str, list[str]] = {}
    for run in runs:
        for column in run.columns:
            if column in X_COLUMNS:
                continue
            metric = column.split("_", 1)[1] if column.startswith(("train_", "val_")) else column
            if column not in grouped.setdefault(metric, []):
                grouped[metric].append(column)
    order = sorted(grouped, key=lambda m: (m != "loss", m == "lr", m))  # loss first, lr last
    return [(metric, grouped[metric]) for metric in order]


def smooth(values: list[float], weight: float) -> list[float]:
    """Exponential moving average, bias-corrected so the first points are not pulled to zero."""
    out, average, total = [], 0.0, 0.0
    for value in values:
        if math.isnan(value):
            out.append(math.nan)
            continue
        average = weight * average + (1 - weight) * value
        total = weight * total + (1 - weight)
        out.append(average / total)
    return out


def epochs_of(run: Run) -> list[float]:
    if "epoch" in run.columns:
        return run.columns["epoch"]
    return [float(i + 1) for i in range(len(next(iter(run.columns.values()), [])))]


def plot(runs: list[Run], output: Path, smoothing: float = 0.6, log_loss: str = "auto") -> int:
    """Draw every panel, every run overlaid; returns the number of panels drawn.

    Args:
        runs: The runs to overlay, one colour each.
        output: The PNG to write.
        smoothing: EMA weight of the thick (smoothed) lines.
        log_loss: "on", "off", or "auto" (a log axis when the loss spans more than a decade).

    Raises:
        PlotError: matplotlib is not installed, or there is nothing to plot.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # headless: no display needed, works over ssh and in CI
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.ticker import FormatStrFormatter
    except ImportError:
        raise PlotError('plot.py needs matplotlib: pip install -e ".[plot]"') from None
    groups = panels(runs)
    if not groups:
        raise PlotError("the metrics files hold no metric columns")
    logged = [run.steps for run in runs if STEP_COLUMN in run.steps]  # runs with a steps.csv
    per_step = [column for column in STEP_PANELS if any(column in steps for steps in logged)]
    groups += [(STEP_PANELS[column], [column]) for column in per_step]
    columns = min(len(groups), 3)
    rows = math.ceil(len(groups) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.4 * rows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = {"train": "--", "val": "-"}
    for ax, (metric, names) in zip(axes.flat, groups):
        step_panel = metric in STEP_PANELS.values()
        for index, run in enumerate(runs):
            colour = colours[index % len(colours)]
            source = run.steps if step_panel else run.columns
            x = source.get(STEP_COLUMN, []) if step_panel else epochs_of(run)
            for column in names:
                if column not in source:
                    continue
                y = source[column]
                style = styles.get(column.split("_", 1)[0], "-")
                label = column if len(runs) == 1 else f"{run.name}: {column}"
                if metric == "lr":  # a schedule, not a noisy measurement: nothing to smooth
                    ax.plot(x, y, style, color=colour, linewidth=1.8, label=label)
                    continue
                ax.plot(x, y, style, color=colour, alpha=0.3, linewidth=1)
                ax.plot(x, smooth(y, smoothing), style, color=colour, linewidth=2.2, label=label)
            if not step_panel and run.best_epoch is not None:
                ax.axvline(run.best_epoch, color=colour, linestyle=":", linewidth=1.2)
        ax.set_title(metric if len(names) > 1 or step_panel else names[0])
        ax.set_xlabel("optimizer step" if step_panel else "epoch")
        wide = log_loss == "auto" and loss_spans_a_decade(runs, names, step_panel)
        if metric in ("loss", STEP_PANELS["loss"]) and (log_loss == "on" or wide):
            ax.set_yscale("log")
            ax.set_title(f"{ax.get_title()} (log scale)")
        if metric == "lr":
            ax.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))  # no offset text to collide
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        if not step_panel:
            _add_step_axis(ax, runs)
    for ax in list(axes.flat)[len(groups) :]:
        ax.set_visible(False)
    # One key for the encodings, each told apart by one property: width/opacity says raw or
    # smoothed, the dash pattern says train, validation or the best epoch.
    key = [
        Line2D([], [], color="grey", alpha=0.3, linewidth=1, label="raw (thin, faint)"),
        Line2D([], [], color="grey", linewidth=2.2, label=f"smoothed, EMA {smoothing:g} (thick)"),
        Line2D([], [], color="grey", linestyle="--", label="train (dashed)"),
        Line2D([], [], color="grey", linestyle="-", label="validation (solid)"),
    ]
    if any(run.best_epoch is not None for run in runs):
        key.append(Line2D([], [], color="grey", linestyle=":", label="best epoch (dotted)"))
    fig.legend(handles=key, loc="upper center", ncol=len(key), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=100)
    plt.close(fig)
    return len(groups)


def _add_step_axis(ax, runs: list[Run]) -> None:
    """A top axis in optimizer steps, when every run takes the same number of steps per epoch."""
    rates = set()
    for run in runs:
        if STEP_COLUMN in run.columns and "epoch" in run.columns:
            epoch, step = run.columns["epoch"][-1], run.columns[STEP_COLUMN][-1]
            rates.add(step / epoch if epoch else None)
        else:
            rates.add(run.steps_per_epoch)
    if len(rates) != 1 or None in rates:
        return
    rate = rates.pop()
    top = ax.secondary_xaxis("top", functions=(lambda e: e * rate, lambda s: s / rate))
    top.set_xlabel("optimizer step", fontsize=8)
    top.tick_params(labelsize=7)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Draw the curves of one or more run folders into one PNG.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "runs", nargs="*", type=Path, default=[Path("runs")], help="run folders, or folders of them"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="PNG to write (default: RUN/curves.png, or curves.png in the folder holding the runs)",
    )
    parser.add_argument(
        "--smooth", type=float, default=0.6, help="EMA weight of the smoothed curves, in [0, 1)"
    )
    parser.add_argument(
        "--log-loss",
        choices=("auto", "on", "off"),
        default="auto",
        help="log scale for the loss axes (auto: when the loss spans more than a decade)",
    )
    parser.add_argument(
        "--include-dry-runs", action="store_true", help="also draw dry runs found inside a folder"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.smooth < 1:
        parser.error("--smooth must be >= 0 and < 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = parse_args(argv)
    try:
        found = find_runs(args.runs, args.include_dry_runs)
        runs = [read_run(folder, name) for folder, name in found]
        output = args.output or default_output([folder for folder, _ in found])
        count = plot(runs, output, args.smooth, args.log_loss)
    except (PlotError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {output} ({count} panels, {len(runs)} run{'s' if len(runs) > 1 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
