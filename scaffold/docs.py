"""Documentation derived from the single sources of truth (copier.yml, the catalogue)."""

from __future__ import annotations

import json

from scaffold.options import describe_default, load_questions


def _choices(q) -> str:
    return ", ".join(str(c) for c in q.choices) if q.choices else ""


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
            "choices": _choices(q),
            "default": describe_default(q),
            "headline": q.headline,
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
            lines.append(f"| {key} | {r['type']} | {r['choices']} | {r['default']} | {r['help']} |")
        return "\n".join(lines)
    if fmt == "text":
        widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in ("key", "type", "choices", "default")}
        head = "  ".join(k.upper().ljust(widths[k]) for k in widths) + "  HELP"
        body = ["  ".join(str(r[k]).ljust(widths[k]) for k in widths) + "  " + r["help"] for r in rows]
        return "\n".join([head, *body, "", "Headline questions (asked first): "
                          + ", ".join(q.name for q in questions if q.headline)])
    raise ValueError(f"unknown format {fmt!r} (expected text, markdown or json)")
