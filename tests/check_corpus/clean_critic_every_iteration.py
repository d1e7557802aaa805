# expect: clean
# The critic steps on every batch; the generator only every `k`-th. Nothing accumulates.
import torch


def fit(gen, critic, batches, k=5):
    g_opt = torch.optim.RMSprop(gen.parameters())
    c_opt = torch.optim.RMSprop(critic.parameters())
    for i, real in enumerate(batches):
        c_opt.zero_grad()
        c_loss = critic(gen(torch.randn(8, 2)).detach()).mean() - critic(real).mean()
        c_loss.backward()
        c_opt.step()
        if i % k == 0:
            g_opt.zero_grad()
            g_loss = -critic(gen(torch.randn(8, 2))).mean()
            g_loss.backward()
            g_opt.step()
