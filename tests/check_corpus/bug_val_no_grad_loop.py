# expect: validation-without-no-grad@21
import torch
from torch import nn

device = "cuda"


def train(model, train_loader, test_loader, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(epochs):
        model.train()
        for batch in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(batch["x"].to(device)), batch["y"].to(device))
            loss.backward()
            optimizer.step()
        model.eval()
        test_loss = 0.0
        for batch in test_loader:
            out = model(batch["x"].to(device))  # mistake
            test_loss += criterion(out, batch["y"].to(device)).item()
        print(epoch, test_loss)
