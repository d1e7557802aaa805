"""The generated plot.py: real runs in, curves.png out (size and panels); matplotlib stays optional."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PYTHON, child_env, write_project

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, *args], cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A default project with two short real runs (different lr) in runs/a and runs/b."""
    dest = write_project(tmp_path_factory.mktemp("plot") / "p")
    for name, lr in (("a", "0.01"), ("b", "0.003")):
        done = run(dest, "train.py", "--epochs", "3", "--lr", lr, "--out", f"runs/{name}")
        assert done.returncode == 0, done.stderr
    return dest


def test_one_run_gives_three_panels_in_its_folder(project):
    pytest.importorskip("matplotlib")
    done = run(project, "plot.py", "runs/a")
    assert done.returncode == 0, done.stderr
    # loss, val_acc, lr per epoch, then steps.csv's train loss and gradient norm per step:
    # 5 panels, 3 to a row at 4.6 x 3.4 inches, 100 dpi: width and height count the panels.
    assert "5 panels, 1 run" in done.stdout
    assert png_size(project / "runs" / "a" / "curves.png") == (1380, 680)


def test_several_runs_are_overlaid_in_one_figure(project, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "both.png"
    done = run(project, "plot.py", "runs", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "5 panels, 2 runs" in done.stdout
    assert png_size(out) == (1380, 680)


def test_panels_group_train_and_val_and_put_lr_last(project):
    plot = _import_plot(project)
    runs = [plot.read_run(project / "runs" / name, name) for name in ("a", "b")]
    groups = plot.panels(runs)
    assert groups == [("loss", ["train_loss", "val_loss"]), ("acc", ["val_acc"]), ("lr", ["lr"])]
    assert runs[0].columns["epoch"] == [1.0, 2.0, 3.0]
    # metrics.csv's step column gives the top axis in optimizer steps; steps.csv the step panels
    # (every --log-every 10 optimizer steps, the first included).
    assert runs[0].columns["step"] == [38.0, 76.0, 114.0]
    assert runs[0].steps["step"] == [float(s) for s in range(1, 115, 10)]


def test_a_step_column_and_extra_metrics_get_their_own_panels(tmp_path):
    pytest.importorskip("matplotlib")
    project = write_project(tmp_path / "p")
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    lines = ["epoch,step,train_loss,val_loss,val_ppl,lr"]
    lines += [f"{e},{e * 10},{1 / e},{1.2 / e},{5 - e},{0.1 / e}" for e in range(1, 6)]
    (run_dir / "metrics.csv").write_text("\n".join(lines) + "\n")
    plot = _import_plot(project)
    run_ = plot.read_run(run_dir, "r")
    assert [m for m, _ in plot.panels([run_])] == ["loss", "ppl", "lr"]
    assert plot.plot([run_], tmp_path / "c.png") == 3


def test_smoothing_is_bias_corrected_and_skips_gaps(project):
    plot = _import_plot(project)
    assert plot.smooth([2.0, 2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0, 2.0])
    out = plot.smooth([1.0, float("nan"), 3.0], 0.5)
    assert out[0] == 1.0 and out[1] != out[1] and 1.0 < out[2] < 3.0


def test_missing_matplotlib_is_one_line_and_exit_1(project):
    code = "import sys; sys.modules['matplotlib'] = None; import plot; sys.exit(plot.main(['runs/a']))"
    done = run(project, "-c", code)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        'error: plot.py needs matplotlib: pip install -e ".[plot]"'
    ]


def test_no_metrics_is_one_line_and_exit_1(project, tmp_path):
    done = run(project, "plot.py", str(tmp_path))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "no metrics.csv" in done.stderr


def test_training_never_imports_matplotlib(project):
    code = "import sys, train; train.main(['--dry-run', '--out', 'runs/dry']); print('matplotlib' in sys.modules)"
    done = run(project, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_generated_pyproject_offers_matplotlib_as_an_extra(project):
    text = (project / "pyproject.toml").read_text()
    assert 'plot = ["matplotlib' in text
    assert "matplotlib" not in text.split("[project.optional-dependencies]")[0]


def test_plot_with_no_arguments_writes_inside_runs_and_skips_dry_runs(project, tmp_path):
    """`python plot.py` as the README says: the picture lands in runs/ (gitignored), never in the
    project root, and a dry run's few batches are not drawn among the real runs."""
    pytest.importorskip("matplotlib")
    dry = run(project, "train.py", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    done = run(project, "plot.py")
    assert done.returncode == 0, done.stderr
    assert "2 runs" in done.stdout and not (project / "curves.png").exists()
    assert (project / "runs" / "curves.png").is_file()
    repo = tmp_path / "repo"  # the project's .gitignore in a repository of its own
    repo.mkdir()
    (repo / ".gitignore").write_text((project / ".gitignore").read_text())
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    ignored = subprocess.run(["git", "check-ignore", "-q", "runs/curves.png"], cwd=repo)
    assert ignored.returncode == 0, ".gitignore does not cover runs/curves.png"
    with_dry = run(project, "plot.py", "--include-dry-runs", "-o", "runs/all.png")
    assert with_dry.returncode == 0, with_dry.stderr
    dry_runs = [p for p in (project / "runs").glob("*/config.json") if '"dry_run": true' in p.read_text()]
    assert dry_runs and f"{2 + len(dry_runs)} runs" in with_dry.stdout, with_dry.stdout


def test_a_folder_of_dry_runs_only_is_one_line(project, tmp_path):
    plot = _import_plot(project)
    folder = tmp_path / "runs"
    (folder / "dry_run").mkdir(parents=True)
    (folder / "dry_run" / "metrics.csv").write_text("epoch,train_loss\n1,0.5\n")
    (folder / "dry_run" / "config.json").write_text('{"dry_run": true}')
    with pytest.raises(plot.PlotError, match="only dry runs"):
        plot.find_runs([folder])
    assert [name for _, name in plot.find_runs([folder], include_dry_runs=True)] == ["runs/dry_run"]


def test_the_loss_axis_turns_log_over_a_decade_and_the_best_epoch_is_marked(project, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    plot = _import_plot(project)
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    lines = ["epoch,train_loss,val_loss,val_acc,lr"]
    lines += [f"{e},{10.0 / e**2},{12.0 / e**2},{e / 10},0.1" for e in range(1, 7)]
    (run_dir / "metrics.csv").write_text("\n".join(lines) + "\n")
    (run_dir / "summary.json").write_text('{"best_epoch": 4}')
    run_ = plot.read_run(run_dir, "r")
    assert run_.best_epoch == 4
    assert plot.loss_spans_a_decade([run_], ["train_loss", "val_loss"])
    drawn = {}
    real_savefig = plt.Figure.savefig

    def keep(fig, *args, **kwargs):
        drawn["fig"] = fig
        return real_savefig(fig, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        for choice, scale in (("auto", "log"), ("off", "linear"), ("on", "log")):
            plot.plot([run_], tmp_path / f"{choice}.png", log_loss=choice)
            loss_ax = drawn["fig"].axes[0]
            assert loss_ax.get_yscale() == scale, choice
            marks = [line.get_xdata() for line in loss_ax.get_lines() if line.get_linestyle() == ":"]
            assert [list(m) for m in marks] == [[4, 4]]
        labels = [t.get_text() for t in drawn["fig"].legends[0].get_texts()]
        # raw/smoothed and train/validation each have an encoding of their own in the key
        assert labels[:4] == [
            "raw (thin, faint)",
            "smoothed, EMA 0.6 (thick)",
            "train (dashed)",
            "validation (solid)",
        ] and "best epoch (dotted)" in labels
    finally:
        plt.Figure.savefig = real_savefig
    flat = run_.columns["val_loss"][3:]
    assert not plot.loss_spans_a_decade([plot.Run("f", {"val_loss": flat})], ["val_loss"])


def _import_plot(project: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("generated_plot", project / "plot.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
