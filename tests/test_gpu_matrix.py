"""The GPU matrix: `pytest -m gpu` trains every headline variant on CUDA and writes
docs/gpu-report.md (skipped without CUDA). The script's logic is also checked on CPU with two
variants and two epochs in the default suite."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("gpu_matrix", ROOT / "bench" / "gpu_matrix.py")
gpu_matrix = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gpu_matrix)


def test_script_logic_on_cpu(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    names = gpu_matrix.render(tmp_path / "variants", select="-c_off-", limit=2)
    assert names == ["fp32-a1-none-c_off-k_none", "fp32-a1-none-c_off-k_best"]
    manifest = json.loads((tmp_path / "variants" / "manifest.json").read_text())
    assert set(manifest) == set(names)
    report = tmp_path / "report.md"
    code = gpu_matrix.main(
        ["run", str(tmp_path / "variants"), "--device", "cpu", "--epochs", "2", "--jobs", "2", "--min-acc", "0.5",
         "--report", str(report)]
    )  # fmt: skip
    text = report.read_text()
    assert code == 0, text
    assert "**2 of 2 variants passed.**" in text
    assert "| fp32-a1-none-c_off-k_best | cpu | 2 |" in text


@pytest.mark.gpu
def test_gpu_matrix(tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    folder = Path(os.environ.get("SCAFFOLD_GPU_VARIANTS", tmp_path / "variants"))
    if not (folder / gpu_matrix.MANIFEST).exists():
        gpu_matrix.render(folder)
    rows = gpu_matrix.run(
        folder,
        "cuda",
        epochs=int(os.environ.get("SCAFFOLD_GPU_EPOCHS", "0")),
        jobs=int(os.environ.get("SCAFFOLD_GPU_JOBS", "2")),
        report=ROOT / "docs" / "gpu-report.md",
    )
    failed = [r for r in rows if not r["ok"]]
    assert len(rows) == 864 or os.environ.get("SCAFFOLD_GPU_VARIANTS")
    assert not failed, failed[:10]
