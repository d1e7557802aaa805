"""The parts of docs/check.md that report the real-code evaluation and map our rule IDs to the
smell names of published catalogues.

The numbers are read from `bench/check_eval_results.json`, which `python bench/check_eval.py
score FOLDER --json bench/check_eval_results.json` writes; the repository list from
`bench/check_eval_sources.tsv`. Outside a source checkout (no bench/ folder) the section says so.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from scaffold.catalogue import BUGS
from scaffold.check.registry import RULES

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _load(name: str) -> dict | None:
    path = BENCH / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _figures(data: dict) -> str:
    return (
        f"error precision **{_pct(data['precision'])}** ({data['true_errors']} true, "
        f"{data['false_positives']} false error findings in {data['files']} scripts; hints "
        f"{data['hints_true']} true, {data['hints_false']} false), mutant recall "
        f"**{_pct(data['recall'])}** ({data['mutants']} mutants)"
    )


def _rows(table: Path) -> list[list[str]]:
    return [
        line.split("\t")
        for line in table.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def evaluation_section() -> list[str]:
    """Markdown lines: method, both parts' figures, the per-rule table of the held-back part,
    the true findings in public code, the scripts, and the smell mapping."""
    out = ["## Real-code evaluation", ""]
    held, tune = _load("check_eval_results.json"), _load("check_eval_results_tune.json")
    sources = BENCH / "check_eval_sources.tsv"
    if held is None or tune is None or not sources.exists():
        return [*out, "(Run from a source checkout to see the measured numbers.)", ""]
    rows = _rows(sources)
    repos = {split: {r[1] for r in rows if (r[4] if len(r) > 4 else "tune") == split} for split in ("tune", "held")}
    out += [
        f"Measured on {held['date']} over {len(rows)} public training scripts from",
        f"{len(repos['tune'] | repos['held'])} repositories that nobody on this project wrote (listed",
        "below with the commit they were taken at). They are split by repository, and the split was",
        f"fixed before any rule was written for them: a tuning part ({tune['files']} scripts from",
        f"{len(repos['tune'])} repositories, read while the rules were written) and a held-back part",
        f"({held['files']} scripts from {len(repos['held'])} repositories: speech, detection, GNNs, RL,",
        "recommender and tabular models, NeRF, diffusion, LLM fine-tuning, self-supervised probes)",
        "scored once, at the end. Their code is not in this repository: `python bench/check_eval.py",
        "fetch DIR` copies each script with the project modules it imports, `python",
        "bench/check_eval.py score DIR --split held` scores the checker. Every finding on the clean",
        "scripts is labelled true or false after reading the code, with the reason",
        "(`bench/check_eval_labels.toml`; an unlabelled finding counts as false). The mutants",
        "(`bench/check_mutants.toml`) are single mistakes, each an exact edit of one script (a line",
        "deleted, two lines swapped, a call moved, a guard removed, a zero_grad inserted); those of the",
        "added scripts are written by `python -m tools.check.mutants`. A mutant is caught when its rule",
        "reports more findings (errors or hints) than on the clean script. Mutants whose edit turned",
        "out harmless in that file were dropped and are named in the file.",
        "",
        f"- **Held-back part:** {_figures(held)}.",
        f"- Tuning part: {_figures(tune)}.",
        "",
        "Per rule, held-back part (error findings; hints apart):",
        "",
        "| rule | true | false | precision | hints true/false | mutants | caught | recall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for bug in BUGS:
        row = held["rules"][bug.id]
        out.append(
            f"| `{bug.id}` | {row['true']} | {row['false']} | {_pct(row['precision'])} | "
            f"{row['hints_true']}/{row['hints_false']} | {row['mutants']} | {row['caught']} | {_pct(row['recall'])} |"
        )
    for title, data in (("held-back", held), ("tuning", tune)):
        wrong = [n for n in data["notes"] if n.startswith(("false positive", "UNLABELLED"))]
        if wrong:
            out += ["", f"False findings ({title} part; the reasons are in the labels file):", ""]
            out += [f"- {n.removeprefix('false positive ')}" for n in wrong]
        misses = [n for n in data["notes"] if n.startswith("missed")]
        if misses:
            out += ["", f"Mutants still missed ({title} part):", ""]
            out += [f"- {m.removeprefix('missed mutant ')}" for m in misses]
    where = {r[0]: (r[1], r[2], r[3]) for r in rows}
    labels = tomllib.loads((BENCH / "check_eval_labels.toml").read_text(encoding="utf-8")).get("finding", [])
    true = [lab for lab in labels if lab["true"] and lab["file"] in where]
    out += [
        "",
        "### Mistakes it found in public code",
        "",
        "Findings on the clean scripts labelled true after reading the code (some are harmless in",
        "their file, as the note says):",
        "",
    ]
    for lab in sorted(true, key=lambda lab: (where[lab["file"]][0], lab["file"], lab["line"])):
        repo, commit, path = where[lab["file"]]
        out.append(f"- `{lab['id']}` in {repo}@{commit[:12]}:{path}, line {lab['line']}: {lab['note']}")
    out += ["", "Scripts (`owner/repo@commit:path`, part):", ""]
    for r in rows:
        out.append(f"- {r[1]}@{r[2][:12]}:{r[3]} ({r[4] if len(r) > 4 else 'tune'})")
    out += [
        "",
        "## Rule IDs and published smell names",
        "",
        "The closest entries of the ML-specific code-smell catalogue (Zhang et al., 2022; the names",
        "SpecDetect4ML and similar detectors use). The loop-order rules not listed have no",
        "counterpart there.",
        "",
        "| rule | published smell | how close |",
        "|---|---|---|",
    ]
    for rule in RULES.values():
        if rule.smell:
            out.append(f"| `{rule.id}` | {rule.smell[0]} | {rule.smell[1]} |")
    return [*out, ""]
