# expect: softmax-before-cross-entropy
import torch
import torch.nn as nn
crit = nn.CrossEntropyLoss()
def step(model, x, y, opt):
    opt.zero_grad()
    probs = torch.softmax(model(x), dim=-1)
    loss = crit(probs, y)
    loss.backward()
    opt.step()
