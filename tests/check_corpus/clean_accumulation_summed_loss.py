# expect: clean
# The darknet convention: the loss is summed over the samples and the learning rate divided by
# the batch, so the accumulated sum needs no division.
import torch


def main(model, loader, epochs, base_lr, batch, subdivisions):
    optimizer = torch.optim.SGD(model.parameters(), lr=base_lr / batch)
    criterion = torch.nn.MSELoss(reduction="sum")
    for epoch in range(epochs):
        model.train()
        for i, (x, y) in enumerate(loader):
            criterion(model(x), y).backward()
            if (i + 1) % subdivisions == 0:
                optimizer.step()
                optimizer.zero_grad()
