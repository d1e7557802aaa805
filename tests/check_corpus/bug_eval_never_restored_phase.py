# expect: missing-train-mode
import torch
def main(net, tr, va, opt, crit):
    net.train()
    for ep in range(10):
        for a, b in tr:
            opt.zero_grad(); crit(net(a), b).backward(); opt.step()
        net.eval()
        with torch.no_grad():
            score = sum(crit(net(a), b).item() for a, b in va)
main(None, None, None, None, None)
