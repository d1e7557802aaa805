# expect: clip-after-step@9
# The optimizer step lives in a helper, which clips only after stepping.
import torch
from torch.nn.utils import clip_grad_value_


def apply_update(optimizer, model, clip_value):
    optimizer.step()
    clip_grad_value_(model.parameters(), clip_value)  # mistake
    optimizer.zero_grad(set_to_none=True)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for features, labels in loader:
        loss = criterion(model(features), labels)
        loss.backward()
        apply_update(optimizer, model, 0.5)


def main(model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        train_one_epoch(model, loader, optimizer, torch.nn.CrossEntropyLoss())


if __name__ == "__main__":
    main(None, None)
