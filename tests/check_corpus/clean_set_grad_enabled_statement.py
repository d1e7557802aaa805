# expect: clean
import torch


def predict(model, test_loader):
    torch.set_grad_enabled(False)
    model.eval()
    preds = []
    for x in test_loader:
        preds.append(model(x).argmax(-1))
    return torch.cat(preds)


def finetune(model, loader, epochs=3):
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    model.train(True)
    for _ in range(epochs):
        for inputs, targets in loader:
            optimizer.zero_grad()
            out = model(inputs)
            loss = torch.nn.functional.cross_entropy(out, targets)
            loss.backward()
            optimizer.step()
