# expect: clean
import random
import torch
import torch.nn as nn


def train(model, iterator, optimizer, criterion, clip, teacher_forcing=0.5):
    model.train()
    epoch_loss = 0
    for i, batch in enumerate(iterator):
        src, trg = batch.src, batch.trg
        optimizer.zero_grad()
        output = model(src, trg, teacher_forcing)
        output_dim = output.shape[-1]
        loss = criterion(output[1:].view(-1, output_dim), trg[1:].view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        epoch_loss += loss.item()
    return epoch_loss / len(iterator)


def evaluate(model, iterator, criterion):
    model.eval()
    epoch_loss = 0
    with torch.no_grad():
        for i, batch in enumerate(iterator):
            output = model(batch.src, batch.trg, 0)
            loss = criterion(output[1:].view(-1, output.shape[-1]), batch.trg[1:].view(-1))
            epoch_loss += loss.item()
    return epoch_loss / len(iterator)


def run(model, train_iterator, valid_iterator, test_iterator, n_epochs=10):
    optimizer = torch.optim.Adam(model.parameters())
    criterion = nn.CrossEntropyLoss(ignore_index=0)
    best_valid_loss = float("inf")
    for epoch in range(n_epochs):
        train_loss = train(model, train_iterator, optimizer, criterion, 1)
        valid_loss = evaluate(model, valid_iterator, criterion)
        if valid_loss < best_valid_loss:
            best_valid_loss = valid_loss
            torch.save(model.state_dict(), "tut1-model.pt")
    model.load_state_dict(torch.load("tut1-model.pt"))
    test_loss = evaluate(model, test_iterator, criterion)
    print(test_loss)
