# expect: to-device-after-optimizer@17
# Casting before the optimizer is built is the safe order; the late `.to(device)` after loading
# optimizer state is the one case where a move can hurt (here a no-op), so it earns the hint.
import torch
import torch.nn as nn


def build(device, resume=None):
    model = nn.Linear(128, 10).to(device, dtype=torch.bfloat16)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)
    if resume:
        state = torch.load(resume, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    model.to(device)
    return model, optimizer, scheduler
