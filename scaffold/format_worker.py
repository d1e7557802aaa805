"""The black worker: `scaffold new` formats on the second core while copier renders.

black is about half of `scaffold new`'s CPU time, and copier (its import and its Jinja compiles)
most of the rest; both are single-threaded. So while copier renders the project, a forked worker
renders the same answers in memory (the caller passes `render_in_memory` for its answers: the
same Jinja settings) and puts the
Python files through black, largest first. When copier is done, this process joins in: both take
the next file from one shared counter, this process formatting the text copier wrote, until none
is left. Afterwards each file copier wrote is matched against the worker's input for it: when the
text is identical, black's output for exactly that text is used; otherwise (or if the worker
failed) black runs in process as before. black stays the formatter of every file; only *where*
and *when* it runs change.

Linux only (fork is cheap and safe there), and only with a second core. A busy machine is no
reason to skip the worker: this process never waits for it beyond the one file it is formatting
(the smallest ones come last), so it costs at most the in-memory render (about 0.3 s of CPU), and
two runnable processes get a larger share of a loaded machine than one. (An earlier version that
left every file to the worker skipped it above a load average of cores - 1; the load of the
command just before, e.g. in bench/new_speed.py, then turned it off on a quiet machine.)
SCAFFOLD_BLACK_AHEAD=0 in the environment never forks, SCAFFOLD_BLACK_AHEAD=1 always does
(bench/new_speed.py compares them).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scaffold.formatting import format_python

Formatted = dict[str, tuple[str, str]]  # relative path -> (text black was given, black's output)


def _claim(counter: Any) -> int:
    """The next file index nobody has taken yet (shared by the worker and this process)."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    return index


def _work(
    render: Callable[[], Mapping[str, str]], order: Sequence[str], counter: Any, conn: Any
) -> None:
    """The worker: render in memory, format the files it claims, send all results at the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it stops us)
    done: Formatted = {}
    try:
        texts = render()
        while (index := _claim(counter)) < len(order):
            rel = order[index]
            done[rel] = (texts[rel], format_python(texts[rel], rel))
    except Exception:  # noqa: BLE001, S110 - whatever is not sent, the parent formats itself
        pass
    finally:
        # One send at the end: a pipe holds 64 KiB, so sending file by file would block the
        # worker on train.py until the parent reads, i.e. until copier is done.
        try:
            conn.send(done)
        finally:
            conn.close()


def usable_cores() -> int:
    """How many cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux: every core the machine has
        return os.cpu_count() or 1


def _worth_a_worker() -> bool:
    """Whether formatting in a second process can overlap copier (see the module docstring)."""
    setting = os.environ.get("SCAFFOLD_BLACK_AHEAD", "")
    if setting in ("0", "1"):
        return setting == "1"
    return usable_cores() > 1


class BlackAhead:
    """A worker process formatting an in-memory render (see the module docstring).

    Args:
        render: Called in the worker: relative path -> the unformatted text of every file (for
            `scaffold new`, `render_in_memory` of its answers with `black_check=False`).
        order: The Python files to format, in the order they are taken (put the largest first,
            so that the last file either process waits on is a small one).
    """

    def __init__(self, render: Callable[[], Mapping[str, str]], order: Sequence[str]) -> None:
        self._order = list(order)
        self._proc = None
        self._conn = None
        self._counter = None
        if not sys.platform.startswith("linux") or not _worth_a_worker():
            return
        try:
            import multiprocessing

            ctx = multiprocessing.get_context("fork")
            self._counter = ctx.Value("i", 0)
            self._conn, child_end = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(
                target=_work, args=(render, self._order, self._counter, child_end)
            )
            self._proc.daemon = True
            self._proc.start()
            child_end.close()  # the worker holds the only writing end: its exit ends our reads
        except (OSError, ValueError, ImportError):  # no fork, no semaphores: run in process
            self.close()

    @property
    def running(self) -> bool:
        """Whether a worker was started."""
        return self._proc is not None

    def result(self, read_here: Callable[[str], str] | None = None) -> Formatted:
        """(input, black's output) pairs for the files formatted so far, in either process.

        Args:
            read_here: Given a relative path, the text to format in this process. With it, this
                process takes files from the shared counter too (copier is done: it has a free
                core); without it, it only waits for the worker.

        Returns:
            The pairs; a file the worker could not deliver is missing (the caller formats it).

        Raises:
            RenderError: a file this process formatted does not parse.
        """
        out: Formatted = {}
        try:
            if read_here is not None and self._counter is not None:
                while (index := _claim(self._counter)) < len(self._order):
                    rel = self._order[index]
                    text = read_here(rel)
                    out[rel] = (text, format_python(text, rel))
            if self._conn is not None:
                try:
                    out.update(self._conn.recv())
                except (EOFError, OSError):  # the worker died before sending: nothing from it
                    pass
        finally:
            self.close()
        return out

    def close(self) -> None:
        """Stop the worker (if it is still running) and release its pipe."""
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join()
            self._proc = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
