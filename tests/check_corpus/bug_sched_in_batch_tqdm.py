# expect: scheduler-in-batch-loop@19
import torch
from torch.optim.lr_scheduler import ExponentialLR
from tqdm import tqdm


def main(model, train_loader, epochs=20):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    decay = ExponentialLR(optimizer, gamma=0.9)
    criterion = torch.nn.MSELoss()
    for epoch in range(epochs):
        model.train()
        with tqdm(train_loader, unit="batch") as bar:
            for inputs, target in bar:
                optimizer.zero_grad()
                loss = criterion(model(inputs), target)
                loss.backward()
                optimizer.step()
                decay.step()  # mistake
                bar.set_postfix(loss=loss.item())
