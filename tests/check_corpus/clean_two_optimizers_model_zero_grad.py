# expect: clean
# model.zero_grad() clears every parameter of the model, those of both optimizers.
import torch


def main(model, loader, epochs):
    opt_encoder = torch.optim.Adam(model.encoder.parameters())
    opt_decoder = torch.optim.SGD(model.decoder.parameters(), lr=0.1)
    for epoch in range(epochs):
        for x in loader:
            model.zero_grad()
            torch.nn.functional.mse_loss(model(x), x).backward()
            opt_encoder.step()
            opt_decoder.step()
