"""Score `scaffold check` on real, public training scripts: precision on the clean copies,
recall on single-mistake mutants of them. Precision counts error findings (hints are
reported apart); recall counts a mutant as caught by a hint or an error of its rule.

The scripts are other people's code, so they are not in this repository. `check_eval_sources.tsv`
lists each one as `name  owner/repo  commit  path  split`; `fetch` copies them into a folder, each
at `owner+repo/path` beside the project modules it imports (so the checker can follow
`from engine import evaluate`, as it does in a checkout):

    python bench/check_eval.py fetch /tmp/realcode              # git clone from github.com
    python bench/check_eval.py fetch /tmp/realcode --mirrors M  # from clones M/owner+name/repo
    python bench/check_eval.py score /tmp/realcode --split held [--json OUT]

The split is by repository: `tune` scripts were read while the rules were written, `held` ones
were scored once at the end, and the README quotes the held-back figures.

`check_eval_labels.toml` labels every finding on the clean copies true or false (written after
reading the code around each one); an unlabelled finding counts as false. `check_mutants.toml`
holds the mutants: each is one exact text edit (`old` must occur exactly once in the file), or a
short list of them for a moved line, that makes one mistake with a known rule ID. A mutant is caught when the checker reports more findings
of that ID on the mutated copy than on the clean one.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import posixpath
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scaffold.catalogue import BUGS  # noqa: E402
from scaffold.check import check_source, decode_source  # noqa: E402
from scaffold.check.findings import HINT  # noqa: E402
from scaffold.check.imports import MAX_DEPTH, module_files  # noqa: E402

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "check_eval_sources.tsv"
LABELS = HERE / "check_eval_labels.toml"
MUTANTS = HERE / "check_mutants.toml"


def sources(table: Path = SOURCES, split: str = "all") -> list[tuple[str, str, str, str]]:
    """(file name, owner/repo, commit, path) for every script of the evaluation in `split`
    ("tune", "held" or "all"; a row without a split column is a tuning one)."""
    rows = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, repo, commit, path, *rest = line.split("\t")
            if split in ("all", rest[0] if rest else "tune"):
                rows.append((name, repo, commit, path))
    return rows


def local_path(folder: Path, repo: str, path: str) -> Path:
    """Where `fetch` puts a script (or a module it imports) inside `folder`."""
    return folder / repo.replace("/", "+") / path


def _git_dir(mirrors: Path, repo: str) -> Path:
    base = mirrors / repo.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def fetch(dest: Path, mirrors: Path | None) -> None:
    """Copy every listed script, at its recorded commit, into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    clones = dest / ".clones"
    for _name, repo, commit, path in sources():
        if mirrors is not None:
            git_dir = _git_dir(mirrors, repo)
        else:
            git_dir = clones / repo.replace("/", "+")
            if not git_dir.exists():
                url = f"https://github.com/{repo}.git"
                subprocess.run(["git", "clone", "--bare", "--filter=blob:none", url, str(git_dir)], check=True)
        listing = subprocess.run(
            ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "--name-only", commit],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        files = set(listing)
        todo, done = [(path, 0)], set()
        while todo:  # the script, then the project modules it imports (as the checker follows them)
            rel, depth = todo.pop()
            if rel in done:
                continue
            done.add(rel)
            blob = subprocess.run(
                ["git", "--git-dir", str(git_dir), "show", f"{commit}:{rel}"], check=True, capture_output=True
            ).stdout
            target = local_path(dest, repo, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
            if depth >= MAX_DEPTH:
                continue
            try:
                tree = ast.parse(blob)
            except (SyntaxError, ValueError):
                continue
            folder = posixpath.dirname(rel)
            for found in module_files(tree, folder, lambda p, folder=folder, files=files: _norm(folder, p) in files):
                todo.append((_norm(folder, found), depth + 1))
    print(f"{len(sources())} scripts in {dest}")


def _norm(folder: str, rel: str) -> str:
    return posixpath.normpath(posixpath.join(folder, rel)) if folder else posixpath.normpath(rel)


@dataclass
class Tally:
    """Per-rule counts."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    hint_tp: Counter[str] = field(default_factory=Counter)  # hints, kept apart from the errors
    hint_fp: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def _findings(source: str, name: str) -> list:
    return check_source(source, name)


def score(
    folder: Path,
    table: Path = SOURCES,
    label_file: Path = LABELS,
    mutant_file: Path = MUTANTS,
    split: str = "all",
) -> Tally:
    """Label the clean findings and run every mutant of the scripts in `split`."""
    labels = tomllib.loads(label_file.read_text(encoding="utf-8")).get("finding", [])
    truth = {(lab["file"], lab["line"], lab["id"]): lab["true"] for lab in labels}
    tally = Tally()
    clean: dict[str, Counter[str]] = {}
    used: set[tuple[str, int, str]] = set()
    where: dict[str, Path] = {}
    for name, repo, _commit, path in sources(table, split):
        where[name] = local_path(folder, repo, path)
        if not where[name].exists():
            where[name] = folder / name  # a flat copy
        source = decode_source(where[name].read_bytes())  # a BOM or a coding line, as Python reads it
        found = _findings(source, str(where[name]))
        clean[name] = Counter(f.id for f in found)
        for f in found:
            key = (name, f.line, f.id)
            used.add(key)
            verdict = truth.get(key)
            kind = " (hint)" if f.severity == HINT else ""
            tp, fp = (tally.hint_tp, tally.hint_fp) if f.severity == HINT else (tally.tp, tally.fp)
            if verdict is None:
                fp[f.id] += 1
                tally.notes.append(f"UNLABELLED {name}:{f.line}: {f.id}{kind} {f.message}")
            elif verdict:
                tp[f.id] += 1
            else:
                fp[f.id] += 1
                tally.notes.append(f"false positive {name}:{f.line}: {f.id}{kind}")
    for key in sorted(k for k in set(truth) - used if k[0] in where):  # labels of this split only
        tally.notes.append(f"label no longer matches a finding: {key[0]}:{key[1]}: {key[2]} (true={truth[key]})")
    for mutant in tomllib.loads(mutant_file.read_text(encoding="utf-8")).get("mutant", []):
        name, bug = mutant["file"], mutant["id"]
        if name not in where:
            continue  # another split
        mutated = decode_source(where[name].read_bytes())
        edits = mutant.get("edit", []) or [{"old": mutant["old"], "new": mutant["new"]}]
        for edit in edits:  # a move is two edits: delete here, insert there
            count = mutated.count(edit["old"])
            if count != 1:
                raise SystemExit(f"mutant {mutant.get('name')}: `old` occurs {count} times in {name}")
            mutated = mutated.replace(edit["old"], edit["new"])
        after = Counter(f.id for f in _findings(mutated, str(where[name])))
        if after[bug] > clean[name][bug]:
            tally.caught[bug] += 1
        else:
            tally.missed[bug] += 1
            tally.notes.append(f"missed mutant {mutant.get('name')} ({name}): {bug}")
    return tally


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def report(tally: Tally, files: int | None = None) -> dict[str, object]:
    """Per-rule precision and recall, and the totals, as a JSON-ready dict."""
    rules = {}
    for bug in BUGS:
        r = bug.id
        rules[r] = {
            "true": tally.tp[r],
            "false": tally.fp[r],
            "hints_true": tally.hint_tp[r],
            "hints_false": tally.hint_fp[r],
            "precision": _ratio(tally.tp[r], tally.tp[r] + tally.fp[r]),
            "mutants": tally.caught[r] + tally.missed[r],
            "caught": tally.caught[r],
            "recall": _ratio(tally.caught[r], tally.caught[r] + tally.missed[r]),
        }
    tp, fp = sum(tally.tp.values()), sum(tally.fp.values())
    hint_tp, hint_fp = sum(tally.hint_tp.values()), sum(tally.hint_fp.values())
    caught, missed = sum(tally.caught.values()), sum(tally.missed.values())
    return {
        "date": datetime.date.today().isoformat(),
        "files": len(sources()) if files is None else files,
        "rules": rules,
        "precision": _ratio(tp, tp + fp),
        "true_errors": tp,
        "false_positives": fp,
        "hints_true": hint_tp,
        "hints_false": hint_fp,
        "recall": _ratio(caught, caught + missed),
        "mutants": caught + missed,
        "notes": tally.notes,
    }


def _fmt(x: float | None) -> str:
    return "   -" if x is None else f"{x:4.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="copy the listed scripts into a folder")
    f.add_argument("dest", type=Path)
    f.add_argument("--mirrors", type=Path, help="folder of bare clones named owner+name/repo")
    s = sub.add_parser("score", help="score the checker on a folder of fetched copies")
    s.add_argument("folder", type=Path)
    s.add_argument("--json", type=Path, help="also write the numbers here")
    s.add_argument("--split", choices=("tune", "held", "all"), default="tune", help="which part to score")
    args = parser.parse_args(argv)
    if args.cmd == "fetch":
        fetch(args.dest, args.mirrors)
        return 0
    data = report(score(args.folder, split=args.split), files=len(sources(split=args.split)))
    data["split"] = args.split
    print(f"{'rule':34} {'true':>4} {'false':>5} {'prec':>5} {'mut':>4} {'caught':>6} {'recall':>6}")
    for rule, row in data["rules"].items():  # type: ignore[union-attr]
        print(
            f"{rule:34} {row['true']:4} {row['false']:5} {_fmt(row['precision']):>5} "
            f"{row['mutants']:4} {row['caught']:6} {_fmt(row['recall']):>6}"
        )
    print(
        f"{'overall':34} error precision {_fmt(data['precision'])} ({data['true_errors']} true, "
        f"{data['false_positives']} false in {data['files']} files), hints {data['hints_true']} true "
        f"{data['hints_false']} false, recall {_fmt(data['recall'])} on {data['mutants']} mutants"
    )
    for note in data["notes"]:  # type: ignore[union-attr]
        print("  " + note)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
