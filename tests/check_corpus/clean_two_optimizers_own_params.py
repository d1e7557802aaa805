# expect: clean
# Each optimizer owns only its own parameters: clearing the discriminator's gradients after the
# generator's backward leaves the generator's gradients for its step.
import torch


def main(gen, disc, loader, epochs):
    opt_g = torch.optim.Adam(gen.parameters())
    opt_d = torch.optim.Adam(disc.parameters())
    for epoch in range(epochs):
        for real in loader:
            fake = gen(torch.randn(len(real), 16))
            opt_g.zero_grad()
            (-disc(fake).mean()).backward()
            opt_d.zero_grad()  # drops what the generator loss left in the discriminator
            opt_g.step()
            (disc(fake.detach()).mean() - disc(real).mean()).backward()
            opt_d.step()
