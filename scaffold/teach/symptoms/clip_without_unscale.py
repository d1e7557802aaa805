"""clip-without-unscale: the clip compares the threshold with gradients times the loss scale."""

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path)  # grad_clip stays at the default threshold
    c, loader, _ = build(train, cfg)
    at_step = record_step_grad_norms(c)
    seen_by_clip = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def spy(*args, **kwargs):
        total = real_clip(*args, **kwargs)
        seen_by_clip.append(float(total))
        return total

    torch.nn.utils.clip_grad_norm_ = spy
    try:
        scale = c.scaler.get_scale()
        train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=6)
    finally:
        torch.nn.utils.clip_grad_norm_ = real_clip
    return {
        "threshold": cfg.grad_clip,
        "loss_scale": scale,
        "norm_seen_by_clip_mean": sum(seen_by_clip) / len(seen_by_clip),
        "norm_applied_by_step_mean": sum(at_step) / len(at_step),
        "norm_applied_by_step_max": max(at_step),
        "steps": len(at_step),
    }


def check(m):
    assert m["norm_seen_by_clip_mean"] > 1000 * m["threshold"], "the clip sees scaled gradients"
    assert m["norm_applied_by_step_max"] < m["threshold"] / 1000, "updates shrink by the scale"
