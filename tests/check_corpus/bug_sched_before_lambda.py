# expect: scheduler-before-optimizer-step
import torch
def run(model, loader, epochs, warmup=100):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    warm = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            warm.step()
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
