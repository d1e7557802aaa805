"""`scaffold teach --plot`: every catalogue ID gets a symptom plot drawn from measured.json."""

from __future__ import annotations

import copy

import pytest
from typer.testing import CliRunner

from scaffold.catalogue import BUGS
from scaffold.cli.app import app
from scaffold.teach import plots
from scaffold.teach.course import measured


def test_every_catalogue_id_has_a_chart_from_its_measurements():
    stored = measured()
    missing = [b.id for b in BUGS if not plots.has_chart(b.id, stored.get(b.id, {}))]
    assert missing == []
    for bug_id, charts in plots.CHARTS.items():  # every key a chart names is measured
        for chart in charts:
            keys = [chart.key] if isinstance(chart, plots.Series) else [k for k, _ in chart.keys]
            keys += [chart.reference[0]] if getattr(chart, "reference", None) else []
            for which in ("correct", "variant"):
                assert all(k in stored[bug_id][which] for k in keys), (bug_id, which, keys)


def test_all_plots_are_written_by_the_course(tmp_path):
    pytest.importorskip("matplotlib")
    result = CliRunner().invoke(app, ["teach", "--all", str(tmp_path / "c"), "--plot"])
    assert result.exit_code == 0, result.output
    assert f"{len(BUGS)} plots" in result.output
    for bug in BUGS:
        png = tmp_path / "c" / bug.id / "symptom.png"
        assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000, bug.id


def test_the_plot_draws_the_measured_values(tmp_path):
    """Changing a measured number changes the picture: the chart is not drawn from constants."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entry = copy.deepcopy(measured()["validation-without-no-grad"])
    plots.draw("validation-without-no-grad", entry, tmp_path / "a.png", plt)
    entry["variant"]["saved_kib_alive_after_each_batch"] = [1.0, 2.0, 3.0]
    plots.draw("validation-without-no-grad", entry, tmp_path / "b.png", plt)
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()


def test_an_entry_without_measurements_has_no_plot():
    assert not plots.has_chart("zero-grad-missing", {})
    assert not plots.has_chart("no-such-id", {"correct": {}, "variant": {}})
