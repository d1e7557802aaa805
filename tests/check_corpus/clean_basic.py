# expect: clean
"""Plain classifier: zero_grad first, epoch StepLR after the batch loop, best checkpoint guarded."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader


class MLP(nn.Module):
    def __init__(self, d_in, hidden, n_classes):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.fc1(x))))


def main(train_ds, val_ds, epochs=20):
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=256)
    model = MLP(2, 64, 3)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    best_acc = 0.0
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            logits = model(inputs)
            loss = criterion(logits, targets)
            loss.backward()
            optimizer.step()
            running += loss.item() * inputs.size(0)
        scheduler.step()

        model.eval()
        correct = 0
        with torch.no_grad():
            for inputs, targets in val_loader:
                correct += (model(inputs).argmax(1) == targets).sum().item()
        acc = correct / len(val_ds)
        if acc > best_acc:
            best_acc = acc
            torch.save(model.state_dict(), "best.pt")
        print(f"epoch {epoch} loss {running / len(train_ds):.4f} acc {acc:.3f}")


if __name__ == "__main__":
    main(None, None)
