"""symptom.png of the DDP lessons (issue 13): which measured values tell each story. Merged into
scaffold.teach.plots.CHARTS (ddp-scheduler-per-process draws its stored lr curve instead)."""

from __future__ import annotations

from scaffold.teach.plots import Bars, Chart, Series

DDP_CHARTS: dict[str, tuple[Chart, ...]] = {
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
