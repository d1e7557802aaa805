"""Documentation derived from the single sources of truth (copier.yml, the catalogue)."""

from __future__ import annotations

import json
import re
import textwrap

from scaffold.options import Question, describe_default, load_questions

# `scaffold new` names the project after DEST; a plain `copier copy` offers copier.yml's default.
PROJECT_NAME_DEFAULT = "DEST's folder name"


def valid_range(question: Question) -> str | None:
    """What the validator accepts, as its message says it ("between 1 and 1024"), or None.

    Read from copier.yml's validator so the range is written once; validators with several
    messages (they relate answers to each other) are left to the validation itself.
    """
    messages = re.split(r"\{%.*?%\}", question.validator or "")
    texts = [" ".join(m.split()) for m in messages if m.strip()]
    if len(texts) != 1 or question.choices:
        return None
    return texts[0].removeprefix("must be ").strip()


def options_table(fmt: str = "text") -> str:
    """Every question as a text table, a markdown table or JSON.

    Raises:
        ValueError: for an unknown format.
    """
    questions = load_questions()
    rows = [
        {
            "key": q.name,
            "type": q.type,
            "choices": list(q.choices) if q.choices is not None else None,
            "default": _default(q),
            "valid": valid_range(q),
            "headline": q.headline,
            "group": q.group,
            "asked_when": q.when if q.is_conditional else None,
            "help": q.help,
        }
        for q in questions
    ]
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "markdown":
        lines = ["| key | type | choices | default | help |", "|---|---|---|---|---|"]
        for r in rows:
            key = f"**{r['key']}**" if r["headline"] else r["key"]
            choices = ", ".join(str(c) for c in r["choices"] or ())
            lines.append(f"| {key} | {r['type']} | {choices} | {r['default']} | {r['help']} |")
        return "\n".join(lines)
    if fmt == "text":
        return _text_table(rows)
    raise ValueError(f"unknown format {fmt!r} (expected text, markdown or json)")


TEXT_WIDTH = 100


def _default(question: Question) -> str:
    if question.name == "project_name":
        return f"{PROJECT_NAME_DEFAULT} (plain copier: {describe_default(question)})"
    return describe_default(question)


def _text_table(rows: list[dict]) -> str:
    """One block per question, never wider than TEXT_WIDTH: key, type and default on the first
    line, then the choices and the help, wrapped and indented."""
    width = max(len(r["key"]) for r in rows)
    indent = " " * (width + 2)
    blocks = []
    for r in rows:
        mark = "  (headline)" if r["headline"] else ""
        head = f"{r['key'].ljust(width)}  {r['type']:<5} default: {r['default']}{mark}"
        lines = [head]
        if r["choices"]:
            lines.append("choices: " + ", ".join(str(c) for c in r["choices"]))
        if r["valid"]:
            lines.append(f"valid: {r['valid']}")
        lines.append(r["help"] + ".")
        wrapped = [
            row
            for line in lines[1:]
            for row in textwrap.wrap(
                line, TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent
            )
        ]
        blocks.append("\n".join([*textwrap.wrap(head, TEXT_WIDTH, subsequent_indent=indent), *wrapped]))
    headline = ", ".join(r["key"] for r in rows if r["headline"])
    footer = textwrap.wrap(f"Headline questions (asked first): {headline}", TEXT_WIDTH)
    return "\n".join([*blocks, "", *footer])


def options_markdown_page() -> str:
    """The full text of docs/options.md."""
    return (
        "# Options\n\n"
        "Generated from `templates/project/copier.yml` by `python -m scaffold.docs`; do not edit.\n"
        "Headline questions (asked first by `scaffold new`) are in bold. Every question is also a\n"
        "typed flag of `scaffold new` (`--accum-steps 4`) and a `--set KEY=VALUE` key.\n\n"
        + options_table("markdown")
        + "\n"
    )


def write_docs(root) -> list:
    """Regenerate the derived docs under `root/docs`; returns the paths written."""
    from pathlib import Path

    path = Path(root) / "docs" / "options.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(options_markdown_page(), encoding="utf-8")
    return [path]


if __name__ == "__main__":
    import pathlib

    for written in write_docs(pathlib.Path(__file__).resolve().parents[1]):
        print(f"wrote {written}")
