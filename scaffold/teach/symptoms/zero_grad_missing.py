"""zero-grad-missing: the gradient used at step 2 is the sum of two batches' gradients."""

from ._common import *


def measure(train, tmp_path):
    # dropout and clipping off: the gradient is then a pure function of weights and batch
    cfg = make_config(train, tmp_path, dropout=0.0, grad_clip=0.0)
    c, loader, _ = build(train, cfg)
    seen = {"x": [], "y": [], "state": [], "grad": []}
    c.model.register_forward_pre_hook(lambda m, args: seen["x"].append(args[0].detach().clone()))
    c.criterion.register_forward_pre_hook(lambda m, args: seen["y"].append(args[1].clone()))

    def before_step(optimizer, args, kwargs):
        seen["state"].append(copy.deepcopy(c.model.state_dict()))
        seen["grad"].append([p.grad.detach().clone() for p in c.model.parameters()])

    c.optimizer.register_step_pre_hook(before_step)
    norms = record_step_grad_norms(c)
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=len(loader))
    used = flat(seen["grad"][1])
    own = flat(fresh_gradient(c.model, seen["state"][1], seen["x"][1], seen["y"][1]))
    first = flat(fresh_gradient(c.model, seen["state"][0], seen["x"][0], seen["y"][0]))
    both = own + first
    return {
        "step2_vs_own_batch_rel_err": float((used - own).norm() / own.norm()),
        "step2_vs_sum_of_two_rel_err": float((used - both).norm() / both.norm()),
        "grad_norm_first_step": norms[0],
        "grad_norm_last_step": norms[-1],
        "steps": len(norms),
        "curve": {
            "x": list(range(1, len(norms) + 1)),
            "y": norms,
            "xlabel": "optimizer step",
            "ylabel": "norm of the gradient step() applies",
        },
    }


def check(m):
    assert m["step2_vs_sum_of_two_rel_err"] < 1e-4, "step 2 should apply batch 1 + batch 2"
    assert m["step2_vs_own_batch_rel_err"] > 0.05, "step 2 should not apply batch 2 alone"
