# expect: missing-train-mode@16
import torch

model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.Dropout(0.5), torch.nn.Linear(64, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = torch.nn.CrossEntropyLoss()
train_loader = val_loader = []

model.train()
for epoch in range(50):
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
    model.eval()  # mistake
    with torch.no_grad():
        val_loss = sum(loss_fn(model(i), l).item() for i, l in val_loader)
    print(epoch, val_loss)
