# expect: softmax-before-cross-entropy@14
import torch
import torch.nn as nn


class TextClassifier(nn.Module):
    def __init__(self, vocab, dim, n_labels):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.fc = nn.Linear(dim, n_labels)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, text, offsets):
        return self.softmax(self.fc(self.embed(text, offsets)))  # mistake


def train(dataloader, model, optimizer):
    criterion = torch.nn.CrossEntropyLoss()
    model.train()
    for epoch in range(5):
        for label, text, offsets in dataloader:
            optimizer.zero_grad()
            loss = criterion(model(text, offsets), label)
            loss.backward()
            optimizer.step()
