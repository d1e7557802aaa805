# expect: clean
# A sampling loop in a method that nothing in this file calls: the caller (an EMA copy put in
# eval elsewhere) decides the mode.
import torch
from torch import nn


class Sampler(nn.Module):
    def __init__(self, net, steps=50):
        super().__init__()
        self.net = net
        self.steps = steps

    @torch.inference_mode()
    def sample(self, shape):
        x = torch.randn(shape)
        for t in reversed(range(self.steps)):
            x = x - 0.01 * self.net(x, t)
        return x
