"""bench/check_eval.py scores what it claims: labels decide precision, mutants decide recall."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import check_eval  # noqa: E402

BUGGY = "def train(model, loader, opt):\n    for x in loader:\n        model(x).sum().backward()\n        opt.step()\n"
CLEAN = (
    "def train(model, loader, opt):\n    for x in loader:\n        opt.zero_grad()\n"
    "        model(x).sum().backward()\n        opt.step()\n"
)


def test_precision_and_recall_follow_labels_and_mutants(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BUGGY)
    (tmp_path / "b.py").write_text(CLEAN)
    table = tmp_path / "sources.tsv"
    table.write_text("a.py\tme/a\t0\ta.py\nb.py\tme/b\t0\tb.py\n")
    labels = tmp_path / "labels.toml"
    labels.write_text('[[finding]]\nfile = "a.py"\nline = 2\nid = "zero-grad-missing"\ntrue = false\n')
    mutants = tmp_path / "mutants.toml"
    mutants.write_text(
        "[[mutant]]\nname = 'drop-zero'\nfile = 'b.py'\nid = 'zero-grad-missing'\n"
        "old = '''        opt.zero_grad()\n'''\nnew = ''\n"
        "[[mutant]]\nname = 'harmless'\nfile = 'b.py'\nid = 'clip-after-step'\n"
        "old = 'opt.step()'\nnew = 'opt.step() '\n"
    )
    data = check_eval.report(check_eval.score(tmp_path, table, labels, mutants), files=2)
    assert data["precision"] == 0.0 and data["false_positives"] == 1  # labelled false
    assert data["recall"] == 0.5 and data["mutants"] == 2
    assert any("missed mutant harmless" in n for n in data["notes"])
    labels.write_text(labels.read_text().replace("true = false", "true = true"))
    assert check_eval.report(check_eval.score(tmp_path, table, labels, mutants), files=2)["precision"] == 1.0
    labels.write_text("")
    data = check_eval.report(check_eval.score(tmp_path, table, labels, mutants), files=2)
    assert data["false_positives"] == 1 and any(n.startswith("UNLABELLED") for n in data["notes"])


def test_committed_mutants_are_well_formed() -> None:
    mutants = tomllib.loads((ROOT / "bench" / "check_mutants.toml").read_text())["mutant"]
    names = {row[0] for row in check_eval.sources()}
    assert len(mutants) >= 100
    for m in mutants:
        assert m["file"] in names and m["id"]
        edits = m.get("edit") or [m]
        assert all(e["old"] != e["new"] for e in edits)
    assert len(names) >= 40


def test_pre_commit_hook_runs_scaffold_check() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "scaffold-check" and hook["entry"].split()[:2] == ["scaffold", "check"]
    assert hook["types"] == ["python"] and hook["language"] == "python"


def test_mutant_writer_makes_mistakes_the_checker_catches(tmp_path: Path) -> None:
    from tools.check.mutants import mutants_of

    source = (
        "import torch\n\n\ndef fit(model, loader, val_loader, opt):\n    for epoch in range(3):\n"
        "        model.train()\n        for x in loader:\n            opt.zero_grad()\n"
        "            model(x).sum().backward()\n            opt.step()\n        model.eval()\n"
        "        with torch.no_grad():\n            for x in val_loader:\n                model(x)\n"
    )
    made = {m["name"]: m for m in mutants_of("s.py", source)}
    assert set(made) == {"del-train@6", "del-zero@8", "zero-after-backward@9", "del-eval@11", "grad-on@12"}
    for mutant in made.values():
        assert source.count(mutant["old"]) == 1
        before = [f.id for f in check_eval.check_source(source)]
        after = [f.id for f in check_eval.check_source(source.replace(mutant["old"], mutant["new"]))]
        assert after.count(mutant["id"]) > before.count(mutant["id"]), mutant["name"]
