# expect: clean
# Frozen parameters (requires_grad = False) justify eval mode during training.
import torch


def main(model, loader, epochs):
    for name, param in model.named_parameters():
        if not name.startswith("fc."):
            param.requires_grad = False
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for epoch in range(epochs):
        model.eval()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
