"""to-device-after-optimizer (a myth check): by default .to() and .half() after building the
optimizer keep the same Parameter objects, so the optimizer still updates the model. The hazards
are elsewhere: the overwrite-on-conversion flag, optimizer state loaded before a cast, and fp16
parameters under plain Adam."""

from ._common import *


def _weights_move(train, tmp_path) -> tuple:
    cfg = make_config(train, tmp_path)
    c, loader, _ = build(train, cfg)
    tracked = {id(p) for g in c.optimizer.param_groups for p in g["params"]}
    same = all(id(p) in tracked for p in c.model.parameters())
    before = [p.detach().clone() for p in c.model.parameters()]
    train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=3)
    change = max(float((p.detach() - b).abs().max()) for p, b in zip(c.model.parameters(), before))
    return same, change


def measure(train, tmp_path):
    same_default, change_default = _weights_move(train, tmp_path)
    torch.__future__.set_overwrite_module_params_on_conversion(True)
    try:
        same_flag, change_flag = _weights_move(train, tmp_path)
    finally:
        torch.__future__.set_overwrite_module_params_on_conversion(False)
    return {
        "default_optimizer_holds_model_params": same_default,
        "default_weight_change_3_steps": change_default,
        "flag_optimizer_holds_model_params": same_flag,
        "flag_weight_change_3_steps": change_flag,
        **facts(),
    }


def check(m):
    # The myth: by default nothing goes wrong.
    assert m["default_optimizer_holds_model_params"] and m["default_weight_change_3_steps"] > 0
    # The real hazard: with the overwrite flag, the late move orphans the optimizer's tensors.
    assert not m["flag_optimizer_holds_model_params"], "the optimizer holds replaced tensors"
    assert m["flag_weight_change_3_steps"] == 0.0, "the model's own weights never move"


def facts() -> dict:
    """Plain-PyTorch facts behind the lesson (they hold for any loop)."""
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.Adam(model.parameters())
    ids = [id(p) for p in model.parameters()]
    model.half()  # a dtype cast after the optimizer exists, with default settings
    half_same = ids == [id(p) for p in model.parameters()]
    # Optimizer state restored first, then a cast: the state keeps its float32 tensors.
    src = torch.nn.Linear(4, 3)
    src_opt = torch.optim.Adam(src.parameters())
    src(torch.randn(8, 4)).sum().backward()
    src_opt.step()
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.Adam(model.parameters())
    opt.load_state_dict(src_opt.state_dict())
    model.half()
    model(torch.randn(8, 4).half()).float().sum().backward()
    try:
        opt.step()
        state_error = ""
    except RuntimeError as exc:
        state_error = str(exc).splitlines()[0][:120]
    # fp16 parameters with plain Adam: eps=1e-8 is 0 in fp16 and grad**2 underflows.
    param = torch.nn.Parameter(torch.zeros(3, dtype=torch.float16))
    adam = torch.optim.Adam([param], lr=1e-3)
    param.grad = torch.tensor([1e-4, 0.0, 1.0], dtype=torch.float16)
    adam.step()
    return {
        "half_after_optimizer_keeps_params": half_same,
        "state_loaded_before_half_step_error": state_error,
        "fp16_adam_after_one_step": [str(v) for v in param.detach().float().tolist()],
    }


def test_fact_half_keeps_parameter_objects():
    assert facts()["half_after_optimizer_keeps_params"]


def test_fact_state_loaded_before_cast_breaks_the_step():
    assert facts()["state_loaded_before_half_step_error"]


def test_fact_fp16_params_with_plain_adam_blow_up():
    values = [float(v) for v in facts()["fp16_adam_after_one_step"]]
    assert not all(math.isfinite(v) for v in values)
