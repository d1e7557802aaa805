"""symptom.png of the DDP lessons: which measured values tell each story. Merged into
scaffold.teach.plots.CHARTS (ddp-scheduler-per-process draws its stored lr curve instead).

plots.py passes its Series and Bars classes in; this module imports nothing from it, so either
can be imported first."""

from __future__ import annotations

from typing import Any


def ddp_charts(Series: Any, Bars: Any) -> dict[str, tuple[Any, ...]]:  # noqa: N803 (the classes)
    """The charts of the DDP lessons, built from plots.py's chart classes."""
    return {
        "ddp-missing-set-epoch": (
            Series(
                "distinct_epoch_orders_per_rank",
                "distinct sample orders over the epochs",
                "rank + 1",
                "orders",
            ),
        ),
        "ddp-padded-validation": (
            Bars(
                (("val_counted_total", "samples validated"),),
                "validation samples counted (2 processes)",
                "samples",
                reference=("val_size", "split size"),
            ),
        ),
        "ddp-accumulation-without-no-sync": (
            Bars(
                (("allreduces_per_optimizer_step", "all-reducing backward passes"),),
                "gradient all-reduces per optimizer step",
                "per step",
            ),
            Bars((("samples_per_s", "samples/s"),), "training throughput (noisy)", "samples/s"),
        ),
    }
