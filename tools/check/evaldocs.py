"""The parts of docs/check.md that report the real-code evaluation and map our rule IDs to the
smell names of published catalogues.

The numbers are read from `bench/check_eval_results.json`, which `python bench/check_eval.py
score FOLDER --json bench/check_eval_results.json` writes; the repository list from
`bench/check_eval_sources.tsv`. Outside a source checkout (no bench/ folder) the section says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from scaffold.catalogue import BUGS
from scaffold.check.registry import RULES

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def evaluation_section() -> list[str]:
    """Markdown lines: method, per-rule table, the scripts, and the smell mapping."""
    out = ["## Real-code evaluation", ""]
    results = BENCH / "check_eval_results.json"
    sources = BENCH / "check_eval_sources.tsv"
    if not results.exists() or not sources.exists():
        return [*out, "(Run from a source checkout to see the measured numbers.)", ""]
    data = json.loads(results.read_text(encoding="utf-8"))
    out += [
        f"Measured on {data['date']} over {data['files']} public training scripts that nobody on this",
        "project wrote (listed below with the commit they were taken at). Their code is not in this",
        "repository: `python bench/check_eval.py fetch DIR` copies them, `python bench/check_eval.py",
        "score DIR` scores the checker. Every finding on the clean scripts is labelled true or false",
        "after reading the code (`bench/check_eval_labels.toml`; an unlabelled finding counts as",
        "false). The mutants (`bench/check_mutants.toml`) are single mistakes, each an exact edit of one",
        "script: a line deleted, two lines swapped, a call moved into the batch loop, a guard removed.",
        "A mutant is caught when its rule reports more findings than on the clean script. Mutants",
        "whose edit turned out harmless in that file were dropped and are named in the file.",
        "",
        f"**Precision on clean scripts: {_pct(data['precision'])}** ({data['false_positives']} false "
        f"positive(s) in {data['files']} files). **Recall on {data['mutants']} mutants: "
        f"{_pct(data['recall'])}.**",
        "",
        "| rule | true | false | precision | mutants | caught | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for bug in BUGS:
        row = data["rules"][bug.id]
        out.append(
            f"| `{bug.id}` | {row['true']} | {row['false']} | {_pct(row['precision'])} | {row['mutants']} | "
            f"{row['caught']} | {_pct(row['recall'])} |"
        )
    misses = [n for n in data["notes"] if n.startswith("missed")]
    if misses:
        out += ["", "Mutants still missed:", ""] + [f"- {m.removeprefix('missed mutant ')}" for m in misses]
    out += ["", "Scripts (`owner/repo@commit:path`):", ""]
    for line in sources.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            _, repo, commit, path, *_ = line.split("\t")
            out.append(f"- {repo}@{commit[:12]}:{path}")
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
