# expect: clean
# The mode switch is an inline if-expression, and backward runs only when an optimizer was given.
import torch


def train_val(net, loader, optimizer):
    is_train = optimizer is not None
    net.train() if is_train else net.eval()
    total = 0.0
    with torch.enable_grad() if is_train else torch.no_grad():
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(net(x), y)
            if is_train:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item()
    return total


def main(net, train_loader, test_loader, epochs):
    optimizer = torch.optim.Adam(net.parameters())
    for epoch in range(epochs):
        train_val(net, train_loader, optimizer)
        train_val(net, test_loader, None)
