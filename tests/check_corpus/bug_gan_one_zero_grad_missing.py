# expect: zero-grad-missing@9
# Two optimizers: the discriminator's gradients are cleared, the generator's never are.
import torch


def fit(gen, disc, batches):
    g_opt = torch.optim.Adam(gen.parameters())
    d_opt = torch.optim.Adam(disc.parameters())
    for real in batches:
        fake = gen(torch.randn(4, 3))
        d_opt.zero_grad()
        d_loss = disc(fake.detach()).mean() - disc(real).mean()
        d_loss.backward()
        d_opt.step()
        g_loss = -disc(fake).mean()  # mistake: no g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
