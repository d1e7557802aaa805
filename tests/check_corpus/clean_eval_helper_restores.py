# expect: clean
# The evaluation helper switches to eval() and restores train() itself, in a finally block.
import torch
import torch.nn.functional as F


def evaluate(net, data):
    net.eval()
    try:
        with torch.no_grad():
            correct = sum((net(x).argmax(-1) == y).sum().item() for x, y in data)
    finally:
        net.train()
    return correct


def main(net, train_data, val_data):
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    net.train()
    for epoch in range(30):
        for x, y in train_data:
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
        print(epoch, evaluate(net, val_data))


main(None, None, None)
