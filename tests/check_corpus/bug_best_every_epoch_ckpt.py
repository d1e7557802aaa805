# expect: checkpoint-last-not-best
import torch
def train(model, loader, val_loader, opt, epochs, ckpt_dir):
    best_path = f"{ckpt_dir}/model_best.pth"
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader)
        print(epoch, acc)
        torch.save({"model": model.state_dict(), "epoch": epoch}, best_path)
