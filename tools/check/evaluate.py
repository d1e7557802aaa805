"""Precision and recall of `scaffold check` over a labelled corpus.

Each corpus file starts with header comments `# expect: clean` or `# expect: ID` / `# expect: ID@LINE`
(one per expected finding). A finding matches an expectation with the same ID (and the same line,
when the label gives one); every other finding is a false positive, every unmatched expectation a
false negative. Hints count like errors here: the corpus labels them too.

Run: `python -m tools.check.evaluate [CORPUS_DIR]`.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.catalogue import BUGS
from scaffold.check import check_source

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "tests" / "check_corpus"
_LABEL = re.compile(r"^#\s*expect:\s*([a-z-]+)(?:@(\d+))?\s*$")


def labels(source: str) -> list[tuple[str, int | None]]:
    """The `(id, line or None)` expectations in the leading comment block; [] for `clean`."""
    out: list[tuple[str, int | None]] = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        match = _LABEL.match(line)
        if match and match.group(1) != "clean":
            out.append((match.group(1), int(match.group(2)) if match.group(2) else None))
    return out


@dataclass
class Score:
    """True/false positive and false negative counts, overall and per rule."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    @staticmethod
    def ratio(num: int, den: int) -> float:
        return num / den if den else 1.0

    def precision(self, rule: str | None = None) -> float:
        tp = self.tp[rule] if rule else sum(self.tp.values())
        fp = self.fp[rule] if rule else sum(self.fp.values())
        return self.ratio(tp, tp + fp)

    def recall(self, rule: str | None = None) -> float:
        tp = self.tp[rule] if rule else sum(self.tp.values())
        fn = self.fn[rule] if rule else sum(self.fn.values())
        return self.ratio(tp, tp + fn)


def evaluate(corpus: Path = DEFAULT_CORPUS) -> Score:
    """Check every `*.py` in `corpus` and score the findings against the labels."""
    score = Score()
    for path in sorted(corpus.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        expected = labels(source)
        found = [(f.id, f.line) for f in check_source(source, str(path))]
        unmatched = list(found)
        for bug_id, line in expected:
            hit = next(
                (f for f in unmatched if f[0] == bug_id and (line is None or f[1] == line)),
                None,
            )
            if hit:
                unmatched.remove(hit)
                score.tp[bug_id] += 1
            else:
                score.fn[bug_id] += 1
                score.misses.append(f"{path.name}: missed {bug_id}@{line}")
        for bug_id, line in unmatched:
            score.fp[bug_id] += 1
            score.misses.append(f"{path.name}: unexpected {bug_id}@{line}")
    return score


def main(argv: list[str] | None = None) -> int:
    """Print a per-rule table and the overall precision/recall."""
    args = sys.argv[1:] if argv is None else argv
    score = evaluate(Path(args[0]) if args else DEFAULT_CORPUS)
    print(f"{'rule':34} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>9} {'recall':>6}")
    for bug in BUGS:
        r = bug.id
        print(
            f"{r:34} {score.tp[r]:3} {score.fp[r]:3} {score.fn[r]:3} {score.precision(r):9.2f} {score.recall(r):6.2f}"
        )
    print(
        f"{'overall':34} {sum(score.tp.values()):3} {sum(score.fp.values()):3} {sum(score.fn.values()):3} "
        f"{score.precision():9.2f} {score.recall():6.2f}"
    )
    for line in score.misses:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
