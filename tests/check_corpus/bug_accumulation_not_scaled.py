# expect: accumulation-loss-not-scaled@11
import torch


def train(model, loader, optimizer, criterion, grad_accum_steps=8, epochs=3):
    model.train()
    for epoch in range(epochs):
        optimizer.zero_grad()
        for step, (x, y) in enumerate(loader):
            loss = criterion(model(x), y)
            loss.backward()  # mistake
            if (step + 1) % grad_accum_steps == 0:
                optimizer.step()
                optimizer.zero_grad()
