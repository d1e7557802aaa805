"""Where copier reads the template from.

For now the template is read straight from the installed package directory. Versioned updates
(a git bundle of released template versions shipped in the wheel) plug in here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from scaffold.paths import template_dir


@contextlib.contextmanager
def copier_source() -> Iterator[tuple[str, str | None]]:
    """Yield (src_path, vcs_ref) for copier's run_copy."""
    yield str(template_dir()), None
