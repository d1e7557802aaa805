# expect: to-device-after-optimizer@10
# The optimizer gets its parameters by keyword; the model is moved afterwards (the myth check).
import torch
from torch import nn


def build(device):
    net = nn.Linear(3, 1)
    opt = torch.optim.Adam(params=net.parameters(), lr=1e-3)
    net.to(device)
    return net, opt
