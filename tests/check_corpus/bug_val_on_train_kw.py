# expect: validate-on-train-split
import torch
@torch.no_grad()
def validate(model, data_loader):
    model.eval()
    return sum((model(x).argmax(1) == y).sum().item() for x, y in data_loader)
def main(model, trainloader, epochs, opt):
    for epoch in range(epochs):
        model.train()
        for x, y in trainloader:
            opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
        print(validate(model, data_loader=trainloader))
main(None, None, 1, None)
