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


def _import_plot(project: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("generated_plot", project / "plot.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
