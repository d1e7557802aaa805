"""validation-without-no-grad: autograd saves activations for a backward that never comes."""

import gc
import weakref

from ._common import *


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path, samples_per_class=1000)
    c, loader, val_loader = build(train, cfg)
    params = {p.data_ptr() for p in c.model.parameters()}
    saved = []  # (weak reference, bytes) of every activation autograd keeps for backward

    def pack(t):
        if t.data_ptr() in params:
            return t
        kept = t.detach()  # same storage; detached so the hook itself creates no cycle
        saved.append((weakref.ref(kept), kept.numel() * kept.element_size()))
        return kept

    def alive_bytes():
        return sum(size for ref, size in saved if ref() is not None)

    with_grad_fn, alive_by_batch = [], []

    def spy(module, args, out):
        with_grad_fn.append(out.grad_fn is not None)
        alive_by_batch.append(alive_bytes())

    c.model.register_forward_hook(spy)
    per_call, alive_after = [], []
    for _ in range(2):  # two validations in a row: does anything pile up across epochs?
        saved.clear()
        alive_by_batch.clear()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            train.evaluate(c, val_loader)
        gc.collect()
        per_call.append(sum(size for _, size in saved))
        alive_after.append(alive_bytes())
    return {
        "val_batches": len(val_loader),
        "val_samples": len(val_loader.dataset),
        "outputs_with_grad_fn": sum(with_grad_fn),
        "forwards": len(with_grad_fn),
        "saved_bytes_per_validation": per_call,
        "saved_kib_alive_after_each_batch": [round(b / 1024, 1) for b in alive_by_batch],
        "saved_bytes_alive_after_return": alive_after,
    }


def check(m):
    assert m["outputs_with_grad_fn"] == m["forwards"], "every validation output carries grad_fn"
    assert m["saved_bytes_per_validation"][0] > 0, "autograd stores activations during validation"
