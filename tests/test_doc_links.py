"""Every link in the docs, the goldens and a freshly rendered README resolves.

Relative links must name an existing file or folder (and an existing heading when they carry a
`#fragment`); external links may only point at hosts known to serve what they name, so no page that
does not exist (such as an unpublished package page) is linked.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from scaffold.options import default_answers, resolve_answers
from scaffold.render import render_in_memory

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
EXTERNAL_HOSTS = {"pytorch.org", "docs.pytorch.org", "copier.readthedocs.io", "typer.tiangolo.com"}
SKIPPED = {".venv", ".git", "check_corpus", "node_modules", ".pytest_cache"}


def markdown_files() -> list[Path]:
    return sorted(
        p for p in ROOT.rglob("*.md") if not SKIPPED.intersection(p.relative_to(ROOT).parts)
    )


def links(text: str) -> list[str]:
    return LINK.findall(CODE.sub("", text))


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", CODE.sub("", text), re.M)}


def broken(text: str, where: Path, files: dict[str, str] | None = None) -> list[str]:
    """The links of `text` (a file in folder `where`) that do not resolve."""
    bad = []
    for target in links(text):
        url = urlparse(target)
        if url.scheme in ("http", "https"):
            if url.hostname not in EXTERNAL_HOSTS:
                bad.append(f"{target} (external host not known to serve it)")
            continue
        if url.scheme == "mailto":
            continue
        path, _, fragment = target.partition("#")
        if files is not None and path:  # a rendered project, still in memory
            exists = path.rstrip("/") in files or any(f.startswith(path.rstrip("/") + "/") for f in files)
            if not exists:
                bad.append(target)
            continue
        resolved = (where / path).resolve() if path else None
        if resolved is not None and not resolved.exists():
            bad.append(target)
        elif fragment:
            page = resolved.read_text(encoding="utf-8") if resolved else text
            if resolved is not None and resolved.suffix != ".md":
                continue
            if fragment not in anchors(page):
                bad.append(f"{target} (no such heading)")
    return bad


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_in_the_repository_resolve(path):
    assert broken(path.read_text(encoding="utf-8"), path.parent) == []


@pytest.mark.parametrize(
    "given", [{}, {"data": "csv", "checkpoint": "none", "annotations": "none"}], ids=["default", "csv"]
)
def test_links_in_a_rendered_readme_resolve(given):
    answers = resolve_answers(given) if given else default_answers()
    files = render_in_memory(answers, black_check=False)
    assert broken(files["README.md"], Path("."), files=files) == []


def test_the_checker_catches_a_broken_link(tmp_path):
    (tmp_path / "there.md").write_text("# Here\n")
    text = "[a](there.md) [b](there.md#here) [c](missing.md) [d](there.md#nope) [e](https://pypi.org/x)"
    assert broken(text, tmp_path) == [
        "missing.md",
        "there.md#nope (no such heading)",
        "https://pypi.org/x (external host not known to serve it)",
    ]


PIP_INSTALL = re.compile(r"pip install\s+(?:-[-\w]+\s+)*([\w.\-\[\]\"'=<>]+)")


def test_install_commands_name_our_distribution():
    """`scaffold` on the package index is an unrelated project: ours is torch-loop-scaffold."""
    wrong = []
    for path in markdown_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for name in PIP_INSTALL.findall(line):
                if name.strip("\"'").split("[")[0].lower() == "scaffold":
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not wrong, "\n".join(wrong)
