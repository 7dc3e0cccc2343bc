"""The analysis Displays (confusion matrix, TIDE errors, reliability) follow
scikit-learn's contract: ``from_result`` builds without drawing, ``plot`` draws
what the view computed and returns the display with ``ax_`` and ``figure_``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import prcore  # noqa: E402
from prcore.display import (  # noqa: E402
    ConfusionMatrixDisplay,
    ErrorBreakdownDisplay,
    ReliabilityDisplay,
)
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
    displays = [
        ConfusionMatrixDisplay.from_result(result),
        ErrorBreakdownDisplay.from_result(result),
        ReliabilityDisplay.from_result(result),
    ]
    assert plt.get_fignums() == before
    assert all(d.ax_ is None and d.figure_ is None for d in displays)


def test_confusion_display_draws_the_matrix(result):
    disp = ConfusionMatrixDisplay.from_result(result, score=0.3)
    cm = result.confusion(score=0.3)
    assert disp.plot() is disp and disp.figure_ is disp.ax_.figure
    np.testing.assert_array_equal(disp.im_.get_array(), cm.counts)
    n = len(cm.labels)
    assert disp.text_.shape == (n, n)
    assert [[t.get_text() for t in row] for row in disp.text_] == [
        [str(v) for v in row] for row in cm.counts.tolist()
    ]
    ax = disp.ax_
    assert [t.get_text() for t in ax.get_xticklabels()] == list(cm.labels)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(cm.labels)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "score >= 0.3" in ax.get_title() and disp.colorbar_ is not None


def test_confusion_display_normalized_on_a_given_axes(result):
    fig, (left, right) = plt.subplots(1, 2)
    disp = ConfusionMatrixDisplay.from_result(result, normalize="true").plot(
        ax=right, include_values=False, colorbar=False
    )
    assert disp.ax_ is right and disp.figure_ is fig and disp.text_ is None
    np.testing.assert_allclose(disp.im_.get_array(), result.confusion().normalized("true"))
    assert disp.colorbar_ is None and left.get_images() == []
    assert "normalised over true" in right.get_title()
    with pytest.raises(prcore.PrcoreInputError) as info:
        ConfusionMatrixDisplay(result.confusion(), normalize="all")
    assert info.value.field == "normalize"


def test_error_display_draws_dap_bars_and_counts(result):
    eb = result.error_breakdown()
    disp = ErrorBreakdownDisplay(eb).plot()
    heights = [r.get_height() for r in disp.bars_.patches]
    np.testing.assert_allclose(heights, 100 * eb.delta_ap, rtol=0, atol=1e-12)
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == [
        "Cls", "Loc", "Both", "Dupe", "Bkg", "Miss",
    ]  # fmt: skip
    assert [t.get_text() for t in disp.texts_] == [f"n={n}" for n in eb.counts.tolist()]
    assert f"AP {100 * eb.ap:.1f}" in disp.ax_.get_title()
    assert "dAP" in disp.ax_.get_ylabel()


def test_reliability_display_pooled_and_one_class(result):
    cal = result.calibration(bins=5)
    disp = ReliabilityDisplay.from_result(result, bins=5).plot()
    c = cal.pooled
    full = c.counts > 0
    np.testing.assert_allclose(disp.line_.get_xdata(), c.mean_score[full])
    np.testing.assert_allclose(disp.line_.get_ydata(), c.precision[full])
    np.testing.assert_array_equal(disp.diagonal_.get_xdata(), [0, 1])
    np.testing.assert_array_equal(disp.diagonal_.get_ydata(), [0, 1])
    np.testing.assert_allclose([r.get_height() for r in disp.bars_.patches], c.precision)
    np.testing.assert_allclose([r.get_x() for r in disp.bars_.patches], cal.edges[:-1])
    assert f"ECE {c.ece:.3f}" in disp.ax_.get_title()
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert f"all classes (ECE {c.ece:.3f})" in labels and "perfect calibration" in labels

    car = ReliabilityDisplay.from_result(result, "car", bins=5).plot(legend=False, color="k")
    expected = cal.curve("car")
    np.testing.assert_allclose(car.line_.get_ydata(), expected.precision[expected.counts > 0])
    assert car.ax_.get_legend() is None and car.line_.get_color() == "k"
    assert car.ax_.get_title().startswith("Reliability of car")
    with pytest.raises(prcore.PrcoreInputError) as info:
        ReliabilityDisplay.from_result(result, "zebra")
    assert info.value.field == "category"


def test_cli_plots(tmp_path):
    from prcore.cli import main

    gt, dt = example_paths()
    for command, extra in (
        ("confusion", ["--normalize", "true"]),
        ("errors", []),
        ("calibration", ["--class", "car"]),
    ):
        out = tmp_path / f"{command}.png"
        assert main([command, str(gt), str(dt), "--plot", str(out), *extra]) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
