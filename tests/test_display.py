"""Displays follow scikit-learn's contract: ``from_result`` builds without drawing,
``plot`` draws what the result computed and returns the display with ``ax_``,
``figure_`` and ``line_`` set; the CLI saves them atomically."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import prcore  # noqa: E402
from prcore.cli import main  # noqa: E402
from prcore.curves import curve_from_sequence  # noqa: E402
from prcore.display import PrecisionRecallDisplay, ScoreCurveDisplay  # noqa: E402
from prcore.example import example_paths  # noqa: E402


@pytest.fixture(scope="module")
def result():
    gt, dt = example_paths()
    return prcore.evaluate(gt, dt)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_from_result_builds_without_drawing(result):
    before = plt.get_fignums()
    pr = PrecisionRecallDisplay.from_result(result)
    score = ScoreCurveDisplay.from_result(result, "car")
    assert plt.get_fignums() == before
    assert pr.ax_ is None and pr.figure_ is None and pr.line_ is None
    assert score.ax_ is None and score.line_ is None


def test_pr_display_plots_the_raw_curves(result):
    disp = PrecisionRecallDisplay.from_result(result)
    assert len(disp.curves) == len(result.params.cat_ids) + 1
    assert disp.plot() is disp
    assert disp.figure_ is disp.ax_.figure
    assert len(disp.lines_) == len(disp.markers_) == len(disp.curves)
    # The main line is the pooled curve's, drawn last.
    assert disp.line_ is disp.lines_[-1] and disp.line_.get_label() == "all classes"
    k = result.cat_names.index("person")
    person = result.curve("person")
    np.testing.assert_array_equal(disp.lines_[k].get_xdata(), person.recall)
    np.testing.assert_array_equal(disp.lines_[k].get_ydata(), person.precision)
    best = int(np.argmax(person.f1))
    np.testing.assert_array_equal(disp.markers_[k].get_xdata(), [person.recall[best]])


def test_plot_on_a_given_axes_and_kwargs(result):
    fig, (left, right) = plt.subplots(1, 2)
    disp = PrecisionRecallDisplay.from_result(result, "car").plot(ax=right, alpha=0.5)
    assert disp.ax_ is right and disp.figure_ is fig
    assert disp.line_ is disp.lines_[0] and disp.line_.get_alpha() == 0.5
    assert left.get_lines() == []


def test_plot_draws_only_what_the_display_holds():
    """No result at all: plot reads the curves given, it computes no metric."""
    curve = curve_from_sequence(np.array([0.9, 0.8, 0.3]), np.array([1, 0, 1]), 4)
    disp = PrecisionRecallDisplay([curve]).plot(mark_best_f1=False, legend=False)
    np.testing.assert_array_equal(disp.line_.get_xdata(), [0.5, 0.25, 0.25, 0.0])
    np.testing.assert_array_equal(disp.line_.get_ydata(), [2 / 3, 0.5, 1.0, 1.0])
    assert disp.markers_ == [None] and disp.ax_.get_legend() is None
    score = ScoreCurveDisplay(curve).plot()
    assert set(score.lines_) == {"precision", "recall", "f1"}
    assert score.line_ is score.lines_["precision"]
    np.testing.assert_array_equal(score.lines_["recall"].get_xdata(), curve.thresholds)
    np.testing.assert_array_equal(score.lines_["recall"].get_ydata(), curve.recall[:-1])
    np.testing.assert_array_equal(score.lines_["f1"].get_ydata(), curve.f1)


def test_replot_sets_the_new_axes(result):
    disp = ScoreCurveDisplay.from_result(result, "car")
    first = disp.plot().ax_
    second = disp.plot().ax_
    assert first is not second and disp.ax_ is second
    assert disp.ax_.get_xlabel() == "score threshold"


def test_from_predictions_equals_from_result(result):
    gt, dt = example_paths()
    disp = PrecisionRecallDisplay.from_predictions(gt, dt, categories=["car", "person"])
    expected = PrecisionRecallDisplay.from_result(result, ["car", "person"])
    for got, want in zip(disp.curves, expected.curves, strict=True):
        np.testing.assert_array_equal(got.precision, want.precision)
        np.testing.assert_array_equal(got.thresholds, want.thresholds)
    score = ScoreCurveDisplay.from_predictions(gt, dt, category="car", iou=0.75)
    np.testing.assert_array_equal(score.curve.tp, result.curve("car", iou=0.75).tp)


@pytest.mark.parametrize(
    "build",
    [
        lambda r: PrecisionRecallDisplay.from_result(r, ["car", "no such class"]),
        lambda r: PrecisionRecallDisplay.from_result(r, []),
        lambda r: PrecisionRecallDisplay.from_result(r, iou=0.52),
        lambda r: PrecisionRecallDisplay.from_result(r, area="tiny"),
        lambda r: ScoreCurveDisplay.from_result(r, 12345),
        lambda r: ScoreCurveDisplay.from_result(r, "car", max_dets=7),
    ],
)
def test_bad_arguments_raise_prcore_input_error(result, build):
    with pytest.raises(prcore.PrcoreInputError):
        build(result)


def test_cli_plot_draws_the_library_curves(tmp_path, monkeypatch, capsys):
    """``prcore curves --plot``: the PR curve on the left and precision, recall and F1
    against the threshold on the right, of the class and IoU asked for; saved as drawn."""
    from prcore import cli

    drawn = []
    save = cli._save_plot

    def keep_figure(path, draw):
        def draw_and_keep():
            drawn.append(draw())
            return drawn[-1]

        return save(path, draw_and_keep)

    monkeypatch.setattr(cli, "_save_plot", keep_figure)
    gt, dt = example_paths()
    out = tmp_path / "pr.png"
    args = ["curves", str(gt), str(dt), "--class", "car", "--iou", "0.75", "--plot", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    curve = prcore.evaluate(gt, dt).curve("car", iou=0.75)
    assert len(curve.thresholds) > 1
    (fig,) = drawn
    left, right = fig.axes
    # one labelled line on the left: the class's step curve (the rest are its markers)
    (pr,) = [line for line in left.get_lines() if not line.get_label().startswith("_")]
    assert pr.get_label() == "car" and pr.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(pr.get_xdata(), curve.recall)
    np.testing.assert_array_equal(pr.get_ydata(), curve.precision)
    lines = {line.get_label(): line for line in right.get_lines()}
    assert set(lines) == {"precision", "recall", "F1"}
    for label, values in (
        ("precision", curve.precision[:-1]),
        ("recall", curve.recall[:-1]),
        ("F1", curve.f1),
    ):
        np.testing.assert_array_equal(lines[label].get_xdata(), curve.thresholds)
        np.testing.assert_array_equal(lines[label].get_ydata(), values)
    assert right.get_title() == "car (IoU=0.75)"
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (int.from_bytes(png[i : i + 4], "big") for i in (16, 20))  # IHDR
    assert (width, height) == tuple(round(v * 120) for v in fig.get_size_inches())
