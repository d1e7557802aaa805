"""Black in parallel with copier: `scaffold new` formats while copier renders.

black is a third of `scaffold new`'s time, and copier (its import and its Jinja compiles) most of
the rest; both are single-threaded. So while copier renders the project, a forked worker renders
the same answers in memory (`render_in_memory`, the same Jinja settings) and puts the Python files
through black. Afterwards each file copier wrote is matched against the worker's input: when the
text is identical, black's output for exactly that text is used; otherwise (or if the worker
failed) black runs in process as before. black stays the formatter of every file; only *when* it
runs changes.

Linux only (fork is cheap and safe there), and only when a core is free: on a machine whose
load average already fills every core the worker just competes with copier for the same CPU, so
black runs in process after copier. SCAFFOLD_BLACK_AHEAD=0 in the environment never forks,
SCAFFOLD_BLACK_AHEAD=1 always does (bench/new_speed.py compares them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

Formatted = dict[str, tuple[str, str]]  # relative path -> (text black was given, black's output)


def _work(answers: dict[str, Any]) -> Formatted:
    from scaffold.render import format_python, render_in_memory

    out: Formatted = {}
    for rel, text in render_in_memory(answers, black_check=False).items():
        if rel.endswith(".py"):
            out[rel] = (text, format_python(text, rel))
    return out


def _worth_a_worker() -> bool:
    """Whether formatting in a second process can overlap copier (see the module docstring)."""
    setting = os.environ.get("SCAFFOLD_BLACK_AHEAD", "")
    if setting in ("0", "1"):
        return setting == "1"
    try:
        busy = os.getloadavg()[0]
    except OSError:  # no load average on this system: assume a free core
        return True
    return busy <= (os.cpu_count() or 1) - 1


class BlackAhead:
    """A worker process formatting the in-memory render of `answers` (see the module docstring)."""

    def __init__(self, answers: Mapping[str, Any]) -> None:
        self._pool = None
        self._future = None
        if not sys.platform.startswith("linux") or not _worth_a_worker():
            return
        try:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
            self._future = self._pool.submit(_work, dict(answers))
        except (OSError, ValueError, ImportError):  # no fork, no semaphores: run in process
            self.close()

    def result(self) -> Formatted:
        """The worker's (input, output) pairs; empty if it failed (the caller formats itself)."""
        try:
            return self._future.result() if self._future is not None else {}
        except Exception:  # noqa: BLE001 - any worker failure means: format in process instead
            return {}
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
