# expect: clean
# Distillation: a frozen teacher in eval mode forever, an EMA copy updated under no_grad.
import copy

import torch
import torch.nn.functional as F


def distill(student, teacher, loader, val_loader, epochs=10, tau=2.0):
    teacher.eval()
    ema = copy.deepcopy(student)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(epochs):
        student.train()
        for x, y in loader:
            with torch.no_grad():
                t_logits = teacher(x)
            s_logits = student(x)
            loss = F.kl_div(F.log_softmax(s_logits / tau, -1), F.softmax(t_logits / tau, -1), reduction="batchmean")
            loss = loss + F.cross_entropy(s_logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for pe, ps in zip(ema.parameters(), student.parameters()):
                    pe.mul_(0.999).add_(ps, alpha=0.001)
        ema.eval()
        with torch.no_grad():
            acc = sum((ema(x).argmax(1) == y).float().sum().item() for x, y in val_loader)
        print(epoch, acc)
