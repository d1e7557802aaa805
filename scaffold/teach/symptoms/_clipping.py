"""Shared by clip-before-backward and clip-after-step: what the clip saw, what step() applied."""

from ._common import *

CLIP = 0.05  # small on purpose: the correct loop clips every step at this threshold


def measure_clipping(train, tmp_path):
    cfg = make_config(train, tmp_path, grad_clip=CLIP)
    c, loader, _ = build(train, cfg)
    at_step = record_step_grad_norms(c)
    seen_by_clip = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def spy(*args, **kwargs):
        total = real_clip(*args, **kwargs)  # returns the norm it saw, before clipping
        seen_by_clip.append(float(total))
        return total

    torch.nn.utils.clip_grad_norm_ = spy
    try:
        train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=8)
    finally:
        torch.nn.utils.clip_grad_norm_ = real_clip
    return {
        "threshold": CLIP,
        "norm_seen_by_clip_max": max(seen_by_clip),
        "norm_applied_by_step_max": max(at_step),
        "norm_applied_by_step_mean": sum(at_step) / len(at_step),
        "steps_over_threshold": sum(1 for n in at_step if n > CLIP * 1.001),
        "steps": len(at_step),
        "curve": {
            "x": list(range(1, len(at_step) + 1)),
            "y": at_step,
            "xlabel": "optimizer step",
            "ylabel": "gradient norm applied by step()",
        },
    }
