"""scheduler-in-batch-loop: after one epoch the lr is the schedule's value at len(loader) epochs."""

from ._common import *


def schedule_values(train, cfg, steps, n):
    """lr of a fresh schedule after 0..n scheduler steps."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=cfg.lr)
    sched = train.build_scheduler(opt, cfg, steps)
    values = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        sched.step()
        values.append(opt.param_groups[0]["lr"])
    return values


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, epochs=10)
    _, loader, _ = build(train, cfg)
    steps = len(loader)
    train.fit(cfg)
    lrs = metrics_column(cfg, "lr")  # the lr in effect as each epoch's batches end
    schedule = schedule_values(train, cfg, steps, steps * cfg.epochs)
    return {
        "batches_per_epoch": steps,
        "epochs": cfg.epochs,
        "lr_start": schedule[0],
        "lr_after_epoch_1": lrs[0],
        "schedule_at_1_epoch": schedule[1],
        "schedule_at_len_loader_epochs": schedule[steps],
        "lr_by_epoch": lrs,
        "schedule_by_epoch": schedule[1 : cfg.epochs + 1],
        "curve": {
            "x": list(range(1, cfg.epochs + 1)),
            "y": lrs,
            "xlabel": "epoch",
            "ylabel": "learning rate at the end of the epoch's batches",
        },
    }


def check(m):
    assert math.isclose(m["lr_after_epoch_1"], m["schedule_at_len_loader_epochs"], rel_tol=1e-5)
    assert not math.isclose(m["lr_after_epoch_1"], m["schedule_at_1_epoch"], rel_tol=1e-5)
