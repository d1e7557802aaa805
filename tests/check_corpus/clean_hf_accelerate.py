# expect: clean
# Hugging Face style: accelerator.backward, a warmup schedule in steps, eval_dataloader under no_grad.
import torch
from accelerate import Accelerator
from transformers import get_linear_schedule_with_warmup


def main(model, train_dataloader, eval_dataloader, num_epochs=3):
    accelerator = Accelerator(mixed_precision="bf16")
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    num_training_steps = num_epochs * len(train_dataloader)
    lr_scheduler = get_linear_schedule_with_warmup(optimizer, 100, num_training_steps)
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader
    )
    for epoch in range(num_epochs):
        model.train()
        for batch in train_dataloader:
            outputs = model(**batch)
            loss = outputs.loss
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
        model.eval()
        for batch in eval_dataloader:
            with torch.no_grad():
                outputs = model(**batch)
            predictions = outputs.logits.argmax(dim=-1)
            accelerator.print(predictions.shape)


if __name__ == "__main__":
    main(None, None, None)
