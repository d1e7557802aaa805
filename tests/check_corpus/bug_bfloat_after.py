# expect: to-device-after-optimizer
import torch
net = torch.nn.Linear(3, 3)
opt = torch.optim.SGD(net.parameters(), lr=0.1)
net = net.bfloat16()
