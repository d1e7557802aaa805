"""Time `scaffold check` on a ~2,000-line training script.

The script is built from the labelled corpus (tests/check_corpus), each file's functions and
classes renamed apart so the checker follows every call as in one big project file.
Run: `python bench/check_speed.py [LINES]`.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scaffold.check import check_source  # noqa: E402

CORPUS = ROOT / "tests" / "check_corpus"


def big_source(min_lines: int = 2000) -> str:
    """Concatenate renamed copies of the corpus until the text has at least `min_lines` lines."""
    chunks: list[str] = []
    lines = 0
    copy = 0
    files = sorted(CORPUS.glob("*.py"))
    if not files:  # without this guard the loop below never ends
        raise SystemExit(f"no corpus files in {CORPUS}: run this from a full checkout")
    while lines < min_lines:
        for path in files:
            text = path.read_text(encoding="utf-8")
            names = set(re.findall(r"^\s*(?:def|class)\s+(\w+)", text, flags=re.MULTILINE)) - {
                "__init__",
                "forward",
            }
            for name in names:
                text = re.sub(rf"\b{name}\b", f"{name}_{copy}", text)
            chunks.append(text)
            lines += text.count("\n")
            if lines >= min_lines:
                break
        copy += 1
    return "\n".join(chunks)


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    source = big_source(target)
    n_lines = source.count("\n") + 1
    check_source(source)  # warm-up: imports, regex compilation
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        findings = check_source(source, "big.py")
        best = min(best, time.perf_counter() - start)
    print(f"{n_lines} lines, {len(findings)} findings: best of 5 = {best * 1000:.1f} ms")


if __name__ == "__main__":
    main()
