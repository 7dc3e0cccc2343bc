"""Displays draw what the result computed; the CLI saves them atomically."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import prcore  # noqa: E402
from prcore.cli import main  # noqa: E402
from prcore.display import PrecisionRecallDisplay, ScoreCurveDisplay  # noqa: E402
from prcore.example import example_paths  # noqa: E402


def test_pr_display_plots_the_raw_curves():
    gt, dt = example_paths()
    result = prcore.evaluate(gt, dt)
    disp = PrecisionRecallDisplay.from_result(result)
    ax = disp.plot()
    assert len(disp.curves) == len(result.params.cat_ids) + 1
    lines = [ln for ln in ax.get_lines() if ln.get_label() == "person"]
    person = result.curve("person")
    np.testing.assert_array_equal(lines[0].get_xdata(), person.recall)
    np.testing.assert_array_equal(lines[0].get_ydata(), person.precision)


def test_score_display_and_cli_plot(tmp_path):
    gt, dt = example_paths()
    ax = ScoreCurveDisplay.from_result(prcore.evaluate(gt, dt), "car").plot()
    assert ax.get_xlabel() == "score threshold"
    out = tmp_path / "pr.png"
    assert main(["curves", str(gt), str(dt), "--class", "car", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
