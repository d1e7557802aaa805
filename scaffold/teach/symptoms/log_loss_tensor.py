"""log-loss-tensor: the running loss keeps every step's autograd graph reachable."""

import gc
import weakref

from ._common import *


def graph_size(tensor) -> int:
    """Number of autograd nodes reachable from `tensor` (0 for a tensor without history)."""
    if tensor is None or tensor.grad_fn is None:
        return 0
    seen, todo = set(), [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        todo.extend(next_node for next_node, _ in node.next_functions)
    return len(seen)


def running_loss_after(train, c, loader, cfg, steps):
    """Run `steps` batches and return train_one_epoch's local loss_sum as it returns."""
    code, captured = train.train_one_epoch.__code__, {}

    def profiler(frame, event, arg):
        if event == "return" and frame.f_code is code:
            captured["loss_sum"] = frame.f_locals.get("loss_sum")

    saved = []

    def pack(t):
        kept = t.detach()  # same storage; detached so the hook itself creates no cycle
        saved.append((weakref.ref(kept), kept.numel() * kept.element_size()))
        return kept

    sys.setprofile(profiler)
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            train.train_one_epoch(c, loader, cfg, train.Progress(), max_batches=steps)
    finally:
        sys.setprofile(None)
    gc.collect()
    alive = sum(size for ref, size in saved if ref() is not None)  # while loss_sum is still held
    return captured["loss_sum"], alive


def measure(train, tmp_path):
    cfg = make_config(train, tmp_path)
    c, loader, _ = build(train, cfg)
    sizes, alive = {}, {}
    for steps in (2, 4, 8):
        loss_sum, alive[steps] = running_loss_after(train, c, loader, cfg, steps)
        sizes[steps] = graph_size(loss_sum)
    return {
        "activation_bytes_alive_after_8_steps": alive[8],
        "graph_nodes_after_8_steps": sizes[8],
        "graph_nodes_after_steps": {str(k): v for k, v in sizes.items()},
        "nodes_per_step": (sizes[8] - sizes[4]) / 4,
    }


def check(m):
    nodes = m["graph_nodes_after_steps"]
    assert 0 < nodes["2"] < nodes["4"] < nodes["8"], "the graph behind the running loss grows"
