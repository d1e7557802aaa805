# expect: scheduler-before-optimizer-step@15
import torch
from transformers import get_cosine_schedule_with_warmup


def finetune(model, train_dataloader, epochs=3, warmup=500):
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01)
    scheduler = get_cosine_schedule_with_warmup(optimizer, warmup, epochs * len(train_dataloader))
    model.train()
    for epoch in range(epochs):
        for step, batch in enumerate(train_dataloader):
            outputs = model(**batch)
            outputs.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scheduler.step()  # mistake
            optimizer.step()
            optimizer.zero_grad()
