"""softmax-before-cross-entropy: the loss cannot go below log(C - 1 + e) - 1, however well the
model fits, and the gradients shrink."""

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, dropout=0.0, grad_clip=0.0)
    c, loader, _ = build(train, cfg)
    x, y = next(iter(loader))
    one_batch = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=len(y))
    norms = record_step_grad_norms(c)
    losses = [train.train_one_epoch(c, one_batch, cfg, train.Progress()) for _ in range(150)]
    classes = int(y.max()) + 1
    floor = math.log(classes - 1 + math.e) - 1.0
    return {
        "classes": classes,
        "loss_floor": floor,
        "min_train_loss_150_steps_one_batch": min(losses),
        "first_step_grad_norm": norms[0],
        "curve": {
            "x": list(range(1, len(losses) + 1)),
            "y": losses,
            "xlabel": "optimizer step (one batch, memorised)",
            "ylabel": "training loss",
        },
    }


def check(m):
    assert (
        m["min_train_loss_150_steps_one_batch"] >= m["loss_floor"] - 1e-6
    ), "loss stuck above the floor"
