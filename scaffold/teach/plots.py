"""symptom.png for every lesson: the correct loop and the mistake, drawn from measured.json.

Curve-shaped symptoms (a loss or a learning rate over epochs) are stored with a `curve`; the others
are a handful of numbers or a short series. `CHARTS` says, per mistake, which measured values tell
its story; the values themselves always come from measured.json (nothing is drawn from constants).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Series:
    """A measured list, drawn as a line: `key` is a list, or a mapping x -> value."""

    key: str
    title: str
    xlabel: str
    ylabel: str
    log: bool = False


@dataclass(frozen=True)
class Bars:
    """Measured scalars, drawn as correct-vs-mistake bars, one pair per key."""

    keys: tuple[tuple[str, str], ...]  # (measured key, bar label)
    title: str
    ylabel: str
    log: bool = False
    reference: tuple[str, str] | None = None  # (measured key, label) drawn as a dashed line


Chart = Series | Bars

CHARTS: dict[str, tuple[Chart, ...]] = {
    "accumulation-loss-not-scaled": (
        Bars(
            (("grad_norm_ratio_vs_large_batch", "accumulated / large-batch"),),
            "gradient norm vs one large batch",
            "ratio (1 = equal)",
        ),
    ),
    "clip-without-unscale": (
        Bars(
            (("norm_seen_by_clip_mean", "seen by clip"), ("norm_applied_by_step_mean", "applied")),
            "gradient norm (mean over steps)",
            "norm (log)",
            log=True,
            reference=("threshold", "clip threshold"),
        ),
    ),
    "log-loss-tensor": (
        Series("graph_nodes_after_steps", "autograd nodes kept alive", "optimizer step", "nodes"),
    ),
    "missing-train-mode": (
        Series("eval_mode_share_by_epoch", "training batches run in eval mode", "epoch", "share"),
    ),
    "scheduler-before-optimizer-step": (
        Series("lr_used_by_steps", "lr used by each optimizer step", "optimizer step", "lr"),
    ),
    "to-device-after-optimizer": (
        Bars(
            (
                ("default_weight_change_3_steps", "model moved (default)"),
                ("flag_weight_change_3_steps", "model rebuilt (flag)"),
            ),
            "weight change after 3 steps",
            "max |delta w|",
        ),
    ),
    "validate-on-train-split": (
        Bars(
            (("reported_val_acc", "reported val acc"), ("heldout_acc", "held-out acc")),
            "accuracy",
            "accuracy",
        ),
        Bars(
            (("reported_val_loss", "reported val loss"), ("heldout_loss", "held-out loss")),
            "loss",
            "loss",
        ),
    ),
    "validation-in-train-mode": (
        Series(
            "val_losses_same_weights", "val loss, same weights, repeated", "validation run", "loss"
        ),
    ),
    "validation-without-no-grad": (
        Series(
            "saved_kib_alive_after_each_batch", "autograd memory held", "validation batch", "KiB"
        ),
    ),
    "zero-grad-after-backward": (
        Bars(
            (("val_loss_before", "before training"), ("val_loss_after", "after training")),
            "validation loss",
            "loss",
        ),
        Bars((("max_weight_change", "max |delta w|"),), "weight change", "max |delta w|"),
    ),
}


def has_chart(bug_id: str, entry: dict[str, Any]) -> bool:
    """Whether measured.json holds what this mistake's symptom plot needs."""
    if all(entry.get(w, {}).get("curve") for w in ("correct", "variant")):
        return True
    return bug_id in CHARTS and all(w in entry for w in ("correct", "variant"))


def draw(bug_id: str, entry: dict[str, Any], path, plt) -> None:
    """Write the symptom plot of `bug_id` to `path` with the given pyplot module."""
    correct, variant = entry["correct"], entry["variant"]
    if correct.get("curve") and variant.get("curve"):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True, squeeze=False)
        for ax, curve, label in zip(
            axes[0],
            (correct["curve"], variant["curve"]),
            ("correct loop", f"with {bug_id}"),
            strict=True,
        ):
            ax.plot(curve["x"], curve["y"], marker=".")
            ax.set_title(label)
            ax.set_xlabel(curve["xlabel"])
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel(correct["curve"]["ylabel"])
    else:
        charts = CHARTS[bug_id]
        fig, axes = plt.subplots(1, len(charts), figsize=(4.8 * len(charts), 3.4), squeeze=False)
        for ax, chart in zip(axes[0], charts, strict=True):
            (_series if isinstance(chart, Series) else _bars)(ax, chart, correct, variant, bug_id)
    fig.suptitle(f"{bug_id}: measured on CPU (scaffold teach)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _points(value: Any) -> tuple[list[float], list[float]]:
    if isinstance(value, dict):
        pairs = sorted((float(k), float(v)) for k, v in value.items())
        return [x for x, _ in pairs], [y for _, y in pairs]
    return [float(i + 1) for i in range(len(value))], [float(v) for v in value]


def _series(ax, chart: Series, correct: dict, variant: dict, bug_id: str) -> None:
    from matplotlib.ticker import MaxNLocator

    for measured, label, style in ((correct, "correct loop", "o-"), (variant, bug_id, "s--")):
        x, y = _points(measured[chart.key])
        ax.plot(x, y, style, label=label)
    if chart.key == "lr_used_by_steps" and "schedule" in correct:  # what the steps should use
        x, y = _points(correct["schedule"])
        ax.plot(x, y, ":", color="grey", label="the schedule")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps, epochs, batches: whole numbers
    _finish(ax, chart.title, chart.xlabel, chart.ylabel, chart.log)


def _bars(ax, chart: Bars, correct: dict, variant: dict, bug_id: str) -> None:
    width = 0.38
    for offset, measured, label in (
        (-width / 2, correct, "correct loop"),
        (width / 2, variant, bug_id),
    ):
        values = [float(measured[key]) for key, _ in chart.keys]
        bars = ax.bar([i + offset for i in range(len(values))], values, width, label=label)
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
    ax.set_xticks(range(len(chart.keys)), [text for _, text in chart.keys], fontsize=8)
    if chart.reference:
        key, text = chart.reference
        ax.axhline(float(correct[key]), linestyle="--", color="grey", label=text)
    _finish(ax, chart.title, None, chart.ylabel, chart.log)


def _finish(ax, title: str, xlabel: str | None, ylabel: str, log: bool) -> None:
    ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


# --- DDP lessons: their charts live in scaffold.teach.ddp_charts ------------------------------
from scaffold.teach.ddp_charts import ddp_charts  # noqa: E402

CHARTS.update(ddp_charts(Series, Bars))
