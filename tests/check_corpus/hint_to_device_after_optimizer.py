# expect: to-device-after-optimizer@11
# expect: to-device-after-optimizer@12
# The myth: moving the model after building the optimizer is harmless by default (parameters move
# in place, the optimizer keeps them); the checker reports it as a hint that explains when it is not.
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
model.to(device)
model = model.to(device)
criterion = nn.CrossEntropyLoss()


def train(loader, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
