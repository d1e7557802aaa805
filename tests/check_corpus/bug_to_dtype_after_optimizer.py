# expect: to-device-after-optimizer@8
import torch


def setup(model_cls, device):
    model = model_cls()
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    model = model.to(device, torch.float64)  # mistake
    return model, optim
