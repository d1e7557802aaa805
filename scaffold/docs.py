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
