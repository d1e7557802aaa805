# expect: accumulation-loss-not-scaled@17
# The loss lives in an attribute; it is backpropagated every batch but stepped every 8th.
import torch


class Learner:
    def __init__(self, net, every=8):
        self.net = net
        self.every = every
        self.opt = torch.optim.SGD(net.parameters(), lr=0.01)

    def fit(self, batches):
        self.net.train()
        for i, (x, y) in enumerate(batches):
            out = self.net(x)
            self.loss = torch.nn.functional.cross_entropy(out, y)
            self.loss.backward()  # mistake
            if (i + 1) % self.every == 0:
                self.opt.step()
                self.opt.zero_grad()
