"""scheduler-before-optimizer-step: the first update already uses the schedule's second value."""

import warnings

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path)
    c, loader, _ = build(train, cfg)
    used = []
    c.optimizer.register_step_pre_hook(lambda opt, a, k: used.append(opt.param_groups[0]["lr"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=4)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=cfg.lr)
    sched = train.build_scheduler(opt, cfg, len(loader))
    schedule = [opt.param_groups[0]["lr"]]
    for _ in range(4):
        opt.step()
        sched.step()
        schedule.append(opt.param_groups[0]["lr"])
    order_warnings = [str(w.message) for w in caught if "lr_scheduler.step()" in str(w.message)]
    return {
        "lr_used_by_steps": used,
        "schedule": schedule,
        "first_update_lr": used[0],
        "schedule_first_value": schedule[0],
        "warned": bool(order_warnings),
        "warning": order_warnings[0][:160] if order_warnings else "",
    }


def check(m):
    assert m["lr_used_by_steps"] == m["schedule"][1:5], "each step should use the next value"
    assert m["first_update_lr"] != m["schedule_first_value"], "the first value is skipped"
    assert m["warned"], "PyTorch warns about the order"
