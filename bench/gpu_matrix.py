"""Train every headline variant on a GPU and write docs/gpu-report.md.

Two steps, because the GPU machine has torch but not copier or black:

    # here (with scaffold installed): render the 864 headline variants into a folder
    python bench/gpu_matrix.py render /tmp/variants

    # on the GPU machine (stdlib + torch only; scaffold is not imported):
    python bench/gpu_matrix.py run /tmp/variants --device cuda --report docs/gpu-report.md

`run` trains each variant with `python train.py --device DEVICE --out ...` in a subprocess
(`--jobs` at a time), reads its summary.json, checks best_val_acc against `--min-acc`, and writes
a markdown table: variant, device, epochs, best_val_acc, samples/s, wall time, status. It exits 1
when a variant fails or misses the threshold. `--select` (a substring) and `--limit` pick a subset;
`pytest -m gpu` (tests/test_gpu_matrix.py) runs both steps.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MANIFEST = "manifest.json"
DEFAULT_MIN_ACC = 0.90


def render(folder: Path, select: str = "", limit: int = 0) -> list[str]:
    """Render the headline matrix into folder/<variant>/ (needs scaffold, not copier)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tools.matrix import headline_matrix, variant_name
    from scaffold.render import render_in_memory

    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for answers in headline_matrix({"task": "tabular"}):  # the variants its best_val_acc bar fits
        name = variant_name(answers)
        if select and select not in name:
            continue
        for rel, text in render_in_memory({**answers, "project_name": "gpu_variant"}).items():
            path = folder / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        manifest[name] = answers
        if limit and len(manifest) >= limit:
            break
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return list(manifest)


def train_one(project: Path, device: str, epochs: int, timeout: float) -> dict:
    """Run one variant; returns a report row."""
    out = project / "runs"
    args = [sys.executable, "train.py", "--device", device, "--out", str(out), "--no-progress"]
    if epochs:
        args += ["--epochs", str(epochs)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if device == "cpu":
        env.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    try:
        run = subprocess.run(
            args, cwd=project, env=env, capture_output=True, text=True, timeout=timeout
        )
        code, err = run.returncode, run.stderr
    except subprocess.TimeoutExpired:
        code, err = -1, f"timed out after {timeout:.0f}s"
    wall = time.perf_counter() - start
    row = {"variant": project.name, "device": device, "returncode": code, "wall_s": wall}
    summary_path = out / "summary.json"
    if code == 0 and summary_path.exists():
        summary = json.loads(summary_path.read_text())
        row.update(
            device=summary.get("device", device),
            epochs=summary.get("epochs_run"),
            best_val_acc=summary.get("best_val_acc"),
            samples_per_s=summary.get("samples_per_s"),
        )
    else:
        row["error"] = (err.strip().splitlines() or ["no output"])[-1][:200]
    return row


def run(
    folder: Path,
    device: str,
    epochs: int = 0,
    jobs: int = 1,
    min_acc: float = DEFAULT_MIN_ACC,
    select: str = "",
    limit: int = 0,
    timeout: float = 1800,
    report: Path | None = None,
) -> list[dict]:
    """Train the rendered variants; write the report; return its rows (each with `ok`)."""
    names = sorted(json.loads((folder / MANIFEST).read_text()))
    names = [n for n in names if select in n][: limit or None]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        rows = list(pool.map(lambda n: train_one(folder / n, device, epochs, timeout), names))
    for row in rows:
        row["ok"] = row["returncode"] == 0 and (row.get("best_val_acc") or 0) >= min_acc
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(markdown(rows, device, epochs, min_acc))
    return rows


def _device_words(device: str) -> str:
    try:
        import torch

        if device.startswith("cuda") and torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(torch.device(device))}, torch {torch.__version__}"
        return f"{platform.processor() or platform.machine()} CPU, torch {torch.__version__}"
    except Exception:  # noqa: BLE001 - the report must still be written
        return device


def markdown(rows: list[dict], device: str, epochs: int, min_acc: float) -> str:
    passed = sum(r["ok"] for r in rows)
    lines = [
        "# GPU matrix report",
        "",
        f"Written by `bench/gpu_matrix.py run` on {_dt.date.today().isoformat()}: {_device_words(device)}.",
        f"Epochs: {epochs or 'each variant default (Config.epochs)'}; threshold best_val_acc >= {min_acc}.",
        f"**{passed} of {len(rows)} variants passed.** samples/s is the run's own figure "
        "(summary.json; it includes torch.compile's compilation time).",
        "",
        "| variant | device | epochs | best_val_acc | samples/s | wall s | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        acc = f"{r['best_val_acc']:.4f}" if r.get("best_val_acc") is not None else "-"
        sps = f"{r['samples_per_s']:.0f}" if r.get("samples_per_s") is not None else "-"
        status = (
            "ok" if r["ok"] else ("FAIL: " + r.get("error", "below threshold")).replace("|", "/")
        )
        lines.append(
            f"| {r['variant']} | {r['device']} | {r.get('epochs', '-')} | {acc} | {sps} | {r['wall_s']:.1f} | {status} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_render = sub.add_parser(
        "render", help="render the headline variants into FOLDER (needs scaffold)"
    )
    p_run = sub.add_parser("run", help="train the rendered variants and write the report")
    for p in (p_render, p_run):
        p.add_argument("folder", type=Path)
        p.add_argument("--select", default="", help="only variants whose name contains this")
        p.add_argument("--limit", type=int, default=0, help="at most this many variants (0 = all)")
    p_run.add_argument("--device", default="cuda")
    p_run.add_argument("--epochs", type=int, default=0, help="override Config.epochs (0 = keep)")
    p_run.add_argument("--jobs", type=int, default=1, help="variants trained at once")
    p_run.add_argument("--min-acc", type=float, default=DEFAULT_MIN_ACC)
    p_run.add_argument("--timeout", type=float, default=1800, help="seconds per variant")
    p_run.add_argument("--report", type=Path, default=Path("docs/gpu-report.md"))
    args = parser.parse_args(argv)
    if args.command == "render":
        names = render(args.folder, args.select, args.limit)
        print(f"rendered {len(names)} variants into {args.folder}")
        return 0
    rows = run(
        args.folder,
        args.device,
        args.epochs,
        args.jobs,
        args.min_acc,
        args.select,
        args.limit,
        args.timeout,
        args.report,
    )
    failed = [r["variant"] for r in rows if not r["ok"]]
    print(f"{len(rows) - len(failed)} of {len(rows)} variants passed; report: {args.report}")
    for name in failed:
        print(f"FAILED {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
