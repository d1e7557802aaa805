# expect: clean
# LBFGS re-evaluates the loss through a closure that zeroes the gradients itself.
import torch


def fit_lbfgs(model, x, y, iters=20):
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=20)
    loss_fn = torch.nn.MSELoss()
    model.train()
    for it in range(iters):

        def closure():
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        optimizer.step(closure)
