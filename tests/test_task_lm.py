"""task=lm: the rendered language-model project passes its own tests, accumulates exactly per token,
loads text files (char and byte), and sample.py writes text from a trained checkpoint.

Projects are rendered in memory (helpers.write_project) and run in subprocesses: each has its own
`data`, `model` and `train` modules, which must not meet in this process's sys.modules.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers import PYTHON, child_env, write_project

from scaffold import render
from scaffold.options import resolve_answers

TINY = [
    "--epochs", "1", "--corpus-chars", "4000", "--block-size", "16", "--n-layer", "1",
    "--n-head", "2", "--n-embd", "16", "--no-progress",
]  # fmt: skip

# Per-token exactness of the loop's accumulation, in float64, with lm's own model and data: 11
# windows in batches of 4 make the loop's batches 4, 4, 3; with accum_steps=2 the windows are
# (4 + 4) and a short tail of 3 samples. Before each optimizer step, the accumulated gradient
# must equal one large batch's over the same samples (mean over all their tokens).
ACCUMULATION_CHECK = """
import sys, torch
import train

cfg = train.Config(corpus_chars=4000, block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.0,
                   batch_size=4, accum_steps=2, grad_clip=0.0, device="cpu", progress=False,
                   out=sys.argv[1])
train.seed_everything(cfg.seed, cfg.deterministic)
fetched = []  # the window indices in the order the loop's loader reads them

class Recorded(torch.utils.data.Dataset):
    def __init__(self, dataset, n):
        self.dataset, self.n = dataset, n
    def __len__(self):
        return self.n
    def __getitem__(self, i):
        fetched.append(i)
        return self.dataset[i]

real_build = train.build_datasets
def eleven_windows(cfg):
    train_set, val_set, info = real_build(cfg)
    return Recorded(train_set, 11), val_set, info
train.build_datasets = eleven_windows
loader, _, info = train.build_loaders(cfg, torch.device("cpu"))
assert train.batch_sizes(loader) == [4, 4, 3], train.batch_sizes(loader)
c = train.build_components(cfg, info, 2, torch.device("cpu"))
c.model.double()
checked = []

def compare(optimizer, args, kwargs):
    done = sum(n // 16 for n in checked)
    index = fetched[done:]  # the samples of this window: read since the last step
    x = torch.stack([loader.dataset.dataset[i][0] for i in index])
    y = torch.stack([loader.dataset.dataset[i][1] for i in index])
    params = list(c.model.parameters())
    loss = torch.nn.functional.cross_entropy(c.model(x).flatten(0, -2), y.flatten())
    for param, want in zip(params, torch.autograd.grad(loss, params)):
        gap = (param.grad - want).abs().max().item()
        assert gap < 1e-12 * max(1.0, want.abs().max().item()), f"window {len(checked)}: gap {gap}"
    checked.append(y.numel())

c.optimizer.register_step_pre_hook(compare)
train.train_one_epoch(c, loader, cfg, train.Progress())
assert sorted(fetched) == list(range(11)), fetched
print("exact", checked)
"""


def run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, *args], cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=timeout
    )


def load_module(path: Path):
    """Import one generated file under a unique name (data.py imports nothing of the project)."""
    name = f"{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lm_project(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("lm") / "p", task="lm")


def test_sample_py_is_rendered_for_lm_only():
    """copier.yml's templated `_exclude` keeps sample.py to task=lm, in memory and in the owned list."""
    for task in ["tabular", "lm"]:
        answers = resolve_answers({"task": task})
        files = render.render_in_memory(answers, black_check=False)
        assert ("sample.py" in files) == (task == "lm"), task
    for task in ["tabular", "image", "lm"]:
        answers = resolve_answers({"task": task})
        assert ("sample.py" in render.owned_files(answers)) == (task == "lm"), task
    assert "sample.py" not in render.owned_files()  # the default answers are tabular


def test_lm_project_passes_its_own_tests(lm_project):
    """`scaffold new --defaults --set task=lm`, then `pytest` in it, passes (test_learns included)."""
    result = run(["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"], lm_project, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_accumulation_is_exact_per_token_with_a_short_tail(tmp_path):
    """The loop's per-target share gives each window exactly one large batch's float64 gradient
    (the short tail window too); counting the share in samples (y.size(0)) fails the same check,
    and the project's own accumulation test with it."""
    project = write_project(tmp_path / "p", task="lm", accum_steps=2, precision="fp32")
    (project / "check_accum.py").write_text(ACCUMULATION_CHECK)
    good = run(["check_accum.py", str(tmp_path / "out")], project)
    assert good.returncode == 0 and "exact [128, 48]" in good.stdout, good.stderr[-3000:]

    source = (project / "train.py").read_text()
    share = "share = loss * (y.numel() / windows[i // cfg.accum_steps])"
    assert share in source
    (project / "train.py").write_text(
        source.replace(share, share.replace("y.numel()", "y.size(0)"))
    )
    broken = run(["check_accum.py", str(tmp_path / "out2")], project)
    assert broken.returncode != 0 and "window 0: gap" in broken.stderr, broken.stderr[-3000:]
    generated = run(
        ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "tests/test_train.py", "-k",
         "accumulation_equals_large_batch"],
        project,
    )  # fmt: skip
    assert generated.returncode == 1 and "1 failed" in generated.stdout, generated.stdout[-3000:]


@pytest.fixture(scope="module")
def text_data(tmp_path_factory):
    """data.py of a data=text_file project, imported, and a folder for its text files."""
    root = tmp_path_factory.mktemp("text")
    project = write_project(root / "p", task="lm", data="text_file")
    return load_module(project / "data.py"), root


def text_config(path: Path, **overrides):
    values = dict(text_path=str(path), tokenizer="char", val_fraction=0.25, block_size=8)
    values.update(overrides)
    return type("Cfg", (), values)()


def test_text_file_char_tokenizer(text_data):
    """char: vocabulary from the training split (id 0 = UNKNOWN for what it lacks), contiguous
    split at the end, windows of block_size with y shifted by one."""
    data, root = text_data
    path = root / "chars.txt"
    path.write_text("abcab cabca bcabc abcab cabca bcabc ab!c", encoding="utf-8")  # "!" in val only
    train_set, val_set, info = data.build_datasets(text_config(path))
    assert info.inference["itos"] == [data.UNKNOWN, " ", "a", "b", "c"]
    assert info.num_classes == 5 and info.targets_per_sample == 8 and info.metric == "val_ppl"
    assert (len(train_set), len(val_set)) == (3, 1)  # 30 and 10 characters
    x, y = train_set[1]
    assert data.decode(x.tolist(), info.inference) == "bca bcab"  # characters 8..15
    assert data.decode(y.tolist(), info.inference) == "ca bcabc"  # 9..16
    x, y = val_set[0]
    assert data.decode(y.tolist(), info.inference).endswith(data.UNKNOWN)  # the "!"
    assert 0 < info.inference["unigram_entropy"] <= __import__("math").log(4) + 1e-9


def test_text_file_byte_tokenizer_reads_any_bytes(text_data):
    """byte: 256 tokens, no vocabulary to build, and a file that is not UTF-8 still trains."""
    data, root = text_data
    path = root / "latin1.txt"
    path.write_bytes(("café olé " * 8).encode("latin-1"))
    train_set, val_set, info = data.build_datasets(text_config(path, tokenizer="byte"))
    assert info.num_classes == 256 and info.inference["tokenizer"] == "byte"
    assert train_set[0][0].tolist() == list(("café olé " * 8).encode("latin-1")[:8])
    with pytest.raises(data.DataError, match=r"line 1: byte 0xe9 is not UTF-8.*--tokenizer byte"):
        data.build_datasets(text_config(path, tokenizer="char"))


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"cannot read --text-path .*missing.txt: No such file"),
        (b"", r"is empty"),
        (b"  \n\n", r"is empty"),
        (b"abcdefghij" * 2, r"gives 15 training and 5 validation tokens .*--block-size \+ 1 = 9"),
    ],
    ids=["missing", "empty", "blank", "too-short"],
)
def test_text_file_errors_are_one_line(text_data, content, message):
    data, root = text_data
    path = root / ("missing.txt" if content is None else f"bad-{uuid.uuid4().hex[:6]}.txt")
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(data.DataError, match=message) as error:
        data.build_datasets(text_config(path))
    assert "\n" not in str(error.value)


def test_sample_writes_the_requested_length_from_a_checkpoint(lm_project, tmp_path):
    """Train one tiny epoch, then sample.py continues a prompt by exactly --max-new-tokens
    characters, reproducibly per --seed; its mistakes are one line with train.py's exit codes."""
    project = write_project(tmp_path / "p", task="lm")
    fresh = run(["sample.py"], project)
    assert fresh.returncode == 1 and fresh.stderr.count("\n") == 1, fresh.stderr
    assert "no checkpoint under runs/" in fresh.stderr

    trained = run(["train.py", *TINY, "--name", "tiny"], project)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert json.loads(trained.stdout.splitlines()[-1])["task"] == "lm"
    args = ["sample.py", "--prompt", "The cat", "--max-new-tokens", "50", "--seed", "3"]
    first, again = run(args, project), run([*args, "--checkpoint", "runs/tiny"], project)
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout  # the newest run is runs/tiny; same seed, same text
    text = first.stdout[:-1]  # print() adds one line break
    assert text.startswith("The cat") and len(text) == len("The cat") + 50

    unknown = run(["sample.py", "--prompt", "Zürich"], project)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1, unknown.stderr
    assert "argument --prompt: the vocabulary has no" in unknown.stderr and "'ü'" in unknown.stderr
    bad = run(["sample.py", "--temperature", "nan"], project)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    missing = run(["sample.py", "--checkpoint", "runs/nope"], project)
    assert missing.returncode == 1 and "no run folder or checkpoint at runs/nope" in missing.stderr
