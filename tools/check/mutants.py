"""Write single-mistake mutants of real training scripts, in bench/check_mutants.toml's format.

Each mutant is one exact edit that makes one classic mistake, chosen by the shape of a line:

- `del-zero`: delete a `X.zero_grad()` line (zero-grad-missing);
- `del-eval`: delete a `X.eval()` line (validation-in-train-mode);
- `del-train`: delete a `X.train()` line in a file that also calls eval() (missing-train-mode);
- `no-decorator` / `grad-on`: drop an `@torch.no_grad()` decorator of a validation function, or
  turn a `with torch.no_grad():` whose block evaluates into `with torch.enable_grad():`
  (validation-without-no-grad);
- `zero-after-backward`: insert the next step's optimizer's zero_grad() right after a backward()
  (zero-grad-after-backward).

A statement that the same function repeats is not deleted (one copy left makes no mistake).
Some edits are still harmless in their file (a second zero_grad in the same loop, an eval() of a model
that has no dropout and is never trained); review the missed ones and drop those, with the reason,
as bench/check_mutants.toml's header does.

Run: `python -m tools.check.mutants FOLDER --split held >> bench/check_mutants.toml`, FOLDER as
written by `python bench/check_eval.py fetch`.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import check_eval  # noqa: E402

_ZERO = re.compile(r"^\s*[\w\.\[\]]+\.zero_grad\([^()]*\)\s*(#.*)?$")
_EVAL = re.compile(r"^\s*[\w\.\[\]]+\.eval\(\)\s*(#.*)?$")
_TRAIN = re.compile(r"^\s*[\w\.\[\]]+\.train\(\)\s*(#.*)?$")
_NOGRAD_DECO = re.compile(r"^\s*@torch\.no_grad\(\)\s*$")
_NOGRAD_WITH = re.compile(r"^(\s*)with torch\.no_grad\(\):\s*(#.*)?$")
_BACKWARD = re.compile(r"^(\s*)[^#]*\.backward\([^()]*\)\s*(#.*)?$")
_STEP = re.compile(r"^\s*([\w\.\[\]]+)\.step\(\)\s*(#.*)?$")
_DEF = re.compile(r"^\s*(async\s+)?def\s")
_VAL = re.compile(r"val|eval|test|valid", re.IGNORECASE)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _unique_old(lines: list[str], i: int) -> str | None:
    """The shortest run of lines starting at line `i` (going up for context) that occurs once."""
    text = "\n".join(lines) + "\n"
    for before in range(0, 4):
        start = max(0, i - before)
        old = "".join(line + "\n" for line in lines[start : i + 1])
        if text.count(old) == 1:
            return old
    return None


def mutants_of(name: str, source: str) -> list[dict[str, str]]:
    """Every mutant this module's operators make of one script."""
    lines = source.splitlines()
    out: list[dict[str, str]] = []
    has_eval = any(_EVAL.match(line) for line in lines)

    def add(kind: str, bug: str, i: int, new_last: str | None) -> None:
        old = _unique_old(lines, i)
        if old is None:
            return
        body = old.split("\n")[:-1]
        new_lines = body[:-1] + ([] if new_last is None else [new_last])
        new = "".join(line + "\n" for line in new_lines)
        out.append({"name": f"{kind}@{i + 1}", "file": name, "id": bug, "old": old, "new": new})

    def redundant(i: int) -> bool:
        """The same statement again in the same function: deleting one copy makes no mistake."""
        text = lines[i].strip()
        indent = len(lines[i]) - len(lines[i].lstrip())
        start = next((j for j in range(i - 1, -1, -1) if _DEF.match(lines[j]) and _indent(lines[j]) < indent), -1)
        end = next(
            (
                j
                for j in range(i + 1, len(lines))
                if _DEF.match(lines[j]) and _indent(lines[j]) <= max(0, _indent(lines[start]) if start >= 0 else 0)
            ),
            len(lines),
        )
        return any(lines[j].strip() == text for j in range(start + 1, end) if j != i)

    for i, line in enumerate(lines):
        if (_ZERO.match(line) or _EVAL.match(line) or _TRAIN.match(line)) and redundant(i):
            continue
        if _ZERO.match(line):
            add("del-zero", "zero-grad-missing", i, None)
        elif _EVAL.match(line):
            add("del-eval", "validation-in-train-mode", i, None)
        elif _TRAIN.match(line) and has_eval:
            add("del-train", "missing-train-mode", i, None)
        elif _NOGRAD_DECO.match(line) and i + 1 < len(lines) and _VAL.search(lines[i + 1]):
            add("no-decorator", "validation-without-no-grad", i, None)
        elif (match := _NOGRAD_WITH.match(line)) and _VAL.search(" ".join(lines[max(0, i - 3) : i + 8])):
            add("grad-on", "validation-without-no-grad", i, f"{match.group(1)}with torch.enable_grad():")
        elif (match := _BACKWARD.match(line)) and "scale" not in line:
            step = next((s for s in lines[i + 1 : i + 6] if _STEP.match(s)), None)
            if step is not None and "sched" not in step:
                opt = _STEP.match(step).group(1)  # type: ignore[union-attr]
                add("zero-after-backward", "zero-grad-after-backward", i, f"{line}\n{match.group(1)}{opt}.zero_grad()")
    return out


def _parses(source: str) -> bool:
    """A mutant must still be Python (deleting a function's only line is not a mistake)."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def to_toml(mutant: dict[str, str]) -> str:
    """One `[[mutant]]` table; literal multi-line strings keep the code as it is."""
    return (
        f'\n[[mutant]]\nname = "{mutant["name"]}"\nfile = "{mutant["file"]}"\nid = "{mutant["id"]}"\n'
        f"old = '''\n{mutant['old']}'''\nnew = '''\n{mutant['new']}'''\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--split", choices=("tune", "held", "all"), default="all")
    parser.add_argument("--names", help="only these scripts (comma-separated names)")
    args = parser.parse_args(argv)
    wanted = set(args.names.split(",")) if args.names else None
    for name, repo, _commit, path in check_eval.sources(split=args.split):
        if wanted is not None and name not in wanted:
            continue
        source = check_eval.decode_source(check_eval.local_path(args.folder, repo, path).read_bytes())
        for mutant in mutants_of(name, source):
            usable = "'''" not in mutant["old"] + mutant["new"] and source.count(mutant["old"]) == 1  # not CRLF
            if usable and _parses(source.replace(mutant["old"], mutant["new"])):
                sys.stdout.write(to_toml(mutant))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
