"""Where the packaged template lives, in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def template_dir() -> Path:
    """The copier template directory (the one holding copier.yml).

    In a wheel the template is shipped as `scaffold/_template/project`; in a source checkout
    (including editable installs) it is the top-level `templates/project`.
    """
    for candidate in (
        _PACKAGE_DIR / "_template" / "project",
        _PACKAGE_DIR.parent / "templates" / "project",
    ):
        if (candidate / "copier.yml").is_file():
            return candidate
    raise FileNotFoundError("scaffold's template is missing from this installation")
