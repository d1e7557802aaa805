# expect: missing-train-mode@14
# Validation runs only when a flag is set; on those epochs the model never returns to train mode.
import torch


def main(model, train_loader, val_loader, epochs, do_validation):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        if do_validation:
            model.eval()
            with torch.no_grad():
                for x, y in val_loader:
                    model(x)
