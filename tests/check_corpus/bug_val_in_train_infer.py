# expect: validation-in-train-mode
import torch
def test(model, test_loader):
    correct = 0
    with torch.inference_mode():
        for data, target in test_loader:
            pred = model(data).argmax(dim=1)
            correct += pred.eq(target).sum().item()
    return correct
