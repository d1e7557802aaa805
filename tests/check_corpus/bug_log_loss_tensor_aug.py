# expect: log-loss-tensor@16
import torch
from tqdm import tqdm


def train_epoch(model, dataloader, optimizer, loss_fn, device):
    model.train()
    running_loss = 0.0
    for inputs, targets in tqdm(dataloader):
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad(set_to_none=True)
        preds = model(inputs)
        loss = loss_fn(preds, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss * inputs.size(0)  # mistake
    return running_loss / len(dataloader.dataset)
