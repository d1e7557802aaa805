# expect: clean
# zero_grad() as the last statement of the iteration, and clipping between backward and step.
import torch
from torch import nn, optim


def fit(net, loader, valid_loader, n_epochs, device):
    opt = optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for ep in range(n_epochs):
        net.train()
        epoch_loss = 0.0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            out = net(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), max_norm=2.0)
            opt.step()
            opt.zero_grad()
            epoch_loss += loss.detach()
        history.append(float(epoch_loss))
        net.eval()
        with torch.no_grad():
            val = sum(loss_fn(net(x.to(device)), y.to(device)).item() for x, y in valid_loader)
        print(ep, val)
    return history
