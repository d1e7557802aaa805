# expect: clip-before-backward@15
import torch
from torch import nn


def train(model, train_loader, epochs, max_norm=1.0):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)  # mistake
            loss.backward()
            optimizer.step()
