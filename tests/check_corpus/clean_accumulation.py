# expect: clean
# Gradient accumulation: the loss is divided by the number of micro-batches per step.
import torch
import torch.nn as nn

ACCUM_STEPS = 4


def train(model, loader, epochs=5):
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    criterion = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        optimizer.zero_grad()
        for i, (x, y) in enumerate(loader):
            loss = criterion(model(x), y) / ACCUM_STEPS
            loss.backward()
            if (i + 1) % ACCUM_STEPS == 0 or i + 1 == len(loader):
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad()
