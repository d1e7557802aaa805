# expect: zero-grad-after-backward@13
import torch
import torch.nn.functional as F


def train(model, loader, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for batch_idx, (data, target) in enumerate(loader):
            output = model(data)
            loss = F.cross_entropy(output, target)
            loss.backward()
            optimizer.zero_grad()  # mistake
            optimizer.step()
