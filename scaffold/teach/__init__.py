"""`scaffold teach`: the classic training-loop mistakes, one per folder, each with its measured symptom.

The catalogue (scaffold.catalogue) names the mistakes; scaffold.teach.mutations turns each into a
minimal edit of the correct rendered train.py; scaffold.teach.symptoms holds the measurement each
lesson's test runs; scaffold.teach.lessons holds the prose; measured.json the numbers. This package
never imports torch at import time (the CLI must start fast).
"""

from __future__ import annotations

from pathlib import Path

from scaffold.catalogue import BUGS
from scaffold.teach.build import course_files, unknown_id_message, variant_files, write_files
from scaffold.teach.course import DEFAULT_TASK, TeachError, course_ids, require_task

__all__ = ["TeachError", "list_text", "plot_symptom", "teach"]


def list_text(task: str | None = None) -> str:
    """One line per mistake: ID, kind, title (only those `task` shows, when given)."""
    ids = course_ids(task) if task is not None else [b.id for b in BUGS]
    bugs = [b for b in BUGS if b.id in ids]
    width = max(len(b.id) for b in bugs)
    return "\n".join(f"{b.id.ljust(width)}  {b.kind.ljust(4)}  {b.title}" for b in bugs)


def plot_symptom(bug_id: str, path: Path) -> bool:
    """Draw the correct loop and the mistake side by side from the stored measurements.

    Every catalogue entry has a plot: a curve where the symptom is one, else the measured numbers
    (see scaffold.teach.plots).

    Returns:
        False when measured.json holds nothing to draw for this mistake.

    Raises:
        TeachError: matplotlib is not installed.
    """
    from scaffold.teach import plots
    from scaffold.teach.course import measured

    entry = measured().get(bug_id, {})
    if not plots.has_chart(bug_id, entry):
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TeachError(
            "--plot needs matplotlib: pip install 'torch-loop-scaffold[plot]'"
        ) from None
    plots.draw(bug_id, entry, path, plt)
    return True


def teach(
    bug_id: str | None,
    dest: Path | None,
    *,
    list_: bool = False,
    all_: bool = False,
    plot: bool = False,
    force: bool = False,
    task: str | None = None,
) -> str:
    """Carry out one `scaffold teach` invocation and return what to print.

    Args:
        task: The copier `task` whose loop the lessons are made from (None: tabular, the task the
            symptoms were measured on; with --list, None lists every ID).

    Raises:
        TeachError: a usage mistake (unknown ID or task, a mistake the task cannot show, missing
            or non-empty DEST, conflicting flags).
    """
    if task is not None:
        require_task(task)
    if list_:
        if bug_id or dest or all_:
            raise TeachError("--list takes no other arguments")
        return list_text(task)
    task = task or DEFAULT_TASK
    if all_:
        if dest is not None:
            raise TeachError("--all takes one argument, DEST")
        if bug_id is None:
            raise TeachError("missing DEST: scaffold teach --all DEST")
        dest = Path(bug_id)
        files = course_files(task)  # built before anything is written: a failure writes nothing
        write_files(files, dest, force=force)
        ids = course_ids(task)
        plotted = [i for i in ids if plot and plot_symptom(i, dest / i / "symptom.png")]
        note = f", {len(plotted)} plots" if plot else ""
        return f"wrote the task={task} course to {dest}: {len(ids)} lessons and README.md{note}"
    if bug_id is None:
        raise TeachError(
            "missing BUG_ID and DEST: scaffold teach BUG_ID DEST (or --list, or --all DEST)"
        )
    if bug_id not in {b.id for b in BUGS}:
        raise TeachError(unknown_id_message(bug_id))
    if dest is None:
        raise TeachError(f"missing DEST: scaffold teach {bug_id} DEST")
    files = variant_files(bug_id, task)
    write_files(files, dest, force=force)
    note = ""
    if plot:
        note = (
            (
                " and symptom.png"
                + ("" if task == DEFAULT_TASK else f" (measured on {DEFAULT_TASK})")
            )
            if plot_symptom(bug_id, dest / "symptom.png")
            else " (nothing measured to plot for this one)"
        )
    shown = [name for name in files if name != "tracking.py"]
    return f"wrote {bug_id} (task={task}) to {dest}: {', '.join(shown)}{note}"
