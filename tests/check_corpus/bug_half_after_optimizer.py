# expect: to-device-after-optimizer@10
# Casting the model to half precision after the optimizer (and its loaded state) exists.
import torch
import torch.nn as nn

device = torch.device("cuda")
model = nn.Sequential(nn.Linear(512, 512), nn.GELU(), nn.Linear(512, 10)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
optimizer.load_state_dict(torch.load("opt.pt", weights_only=True))
model.half()  # mistake
criterion = nn.CrossEntropyLoss()


def train(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x.to(device).half()), y.to(device))
        loss.backward()
        optimizer.step()
