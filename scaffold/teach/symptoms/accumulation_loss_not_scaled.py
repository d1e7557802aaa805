"""accumulation-loss-not-scaled: the accumulated gradient is accum_steps times the large batch's."""

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, dropout=0.0, grad_clip=0.0)
    c, loader, _ = build(train, cfg)
    start = copy.deepcopy(c.model.state_dict())
    xs, ys, used = [], [], []
    c.model.register_forward_pre_hook(lambda m, args: xs.append(args[0].detach().clone()))
    c.criterion.register_forward_pre_hook(lambda m, args: ys.append(args[1].clone()))

    def before_step(optimizer, args, kwargs):
        used.append([p.grad.detach().clone() for p in c.model.parameters()])

    c.optimizer.register_step_pre_hook(before_step)
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=cfg.accum_steps)
    big = flat(fresh_gradient(c.model, start, torch.cat(xs), torch.cat(ys)))
    got = flat(used[0])
    moved = [(p.detach() - start[name]) for name, p in c.model.named_parameters()]
    return {
        "accum_steps": cfg.accum_steps,
        "grad_norm_ratio_vs_large_batch": float(got.norm() / big.norm()),
        "cosine_vs_large_batch": float(got @ big / (got.norm() * big.norm())),
        "first_update_norm": float(flat(moved).norm()),
        "optimizer": type(c.optimizer).__name__,
    }


def check(m):
    assert abs(m["grad_norm_ratio_vs_large_batch"] - m["accum_steps"]) < 1e-3
    assert m["cosine_vs_large_batch"] > 0.9999, "same direction, wrong size"
