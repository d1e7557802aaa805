# expect: clean
# zero_grad(set_to_none=True) right after step, then a hand-written `p.grad = None` variant.
import torch
import torch.nn as nn


def train(model, train_dl, epochs: int):
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(epochs):
        model.train()
        for step, (images, labels) in enumerate(train_dl):
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if step % 50 == 0:
                print(f"{epoch}:{step} loss={loss.item():.3f}")


def train_manual_reset(model, train_dl):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.01)
    model.train()
    for epoch in range(3):
        for images, labels in train_dl:
            for p in params:
                p.grad = None
            loss = nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
