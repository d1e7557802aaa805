# expect: clip-before-backward
import torch
from torch.nn.utils import clip_grad_value_
class T:
    def __init__(self, m):
        self.m = m
        self.o = torch.optim.Adam(m.parameters())
    def step(self, x, y):
        self.o.zero_grad()
        clip_grad_value_(self.m.parameters(), 0.1)
        torch.nn.functional.cross_entropy(self.m(x), y).backward()
        self.o.step()
    def fit(self, loader):
        for epoch in range(3):
            self.m.train()
            for x, y in loader:
                self.step(x, y)
T(None).fit(None)
