"""The report's figures, checked by what they draw: the arrays on their axes equal the
result's curves, their labels, titles and number of axes; marks sit where the
threshold picks are. Displays follow scikit-learn's contract (see test_display.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import prcore  # noqa: E402
from prcore.curves import curve_from_sequence, pick_at_score, pick_threshold  # noqa: E402
from prcore.display import (  # noqa: E402
    ClassAPDisplay,
    InterpolatedPRDisplay,
    PrecisionRecallScoreDisplay,
    ScoreCurveDisplay,
)
from prcore.example import example_paths  # noqa: E402


@pytest.fixture(scope="module")
def result():
    return prcore.evaluate(*example_paths())


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _tiny_curve():
    # scores 0.9 (TP), 0.8 (FP), 0.3 (TP); 4 ground truths
    return curve_from_sequence(np.array([0.9, 0.8, 0.3]), np.array([1, 0, 1]), 4)


def test_pick_at_score_reads_the_curve_where_those_detections_are_kept():
    curve = _tiny_curve()
    at = pick_at_score(curve, 0.5)  # keeps 0.9 and 0.8: one TP, one FP
    assert (at.threshold, at.precision, at.recall, at.tp, at.fp) == (0.5, 0.5, 0.25, 1, 1)
    assert at.f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    low = pick_at_score(curve, 0.3)  # keeps all three: ties with a score are kept
    assert (low.precision, low.recall, low.tp, low.fp) == (2 / 3, 0.5, 2, 1)
    assert pick_at_score(curve, -5.0) == low.__class__(**{**low.__dict__, "threshold": -5.0})
    none = pick_at_score(curve, 0.95)  # nothing kept
    assert (none.precision, none.recall, none.tp, none.fp) == (None, 0.0, 0, 0)
    assert none.note == "no detection scores >= 0.95"
    with pytest.raises(prcore.PrcoreInputError, match="score"):
        pick_at_score(curve, float("nan"))


def test_pr_score_display_one_class(result):
    curve = result.curve("car")
    disp = PrecisionRecallScoreDisplay.from_result(
        result, "car", min_precision=0.9, score_thresholds=[0.5]
    )
    assert disp.ax_ is None and disp.figure_ is None  # built, not drawn
    assert disp.plot() is disp
    assert disp.axes_.shape == (1, 2) and len(disp.figure_.axes) == 2
    top, bottom = disp.axes_[0]
    assert disp.ax_ is top and disp.figure_ is top.figure
    assert top.get_shared_x_axes().joined(top, bottom)  # one recall axis
    pr, sr = disp.lines_[0]
    assert disp.line_ is pr and pr.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(pr.get_xdata(), curve.recall)
    np.testing.assert_array_equal(pr.get_ydata(), curve.precision)
    np.testing.assert_array_equal(sr.get_xdata(), curve.recall[:-1])
    np.testing.assert_array_equal(sr.get_ydata(), curve.thresholds)
    assert top.get_ylabel() == "precision"
    assert (bottom.get_xlabel(), bottom.get_ylabel()) == ("recall", "score")
    assert top.get_title() == f"car (GT {curve.n_gt})"
    assert disp.figure_._suptitle.get_text() == "IoU=0.5, area=all"
    # marks: best F1, the precision-target pick and the 0.5 threshold, where picked
    marks = disp.markers_[0]
    assert list(marks) == ["best F1", "precision >= 0.9", "score >= 0.5"]
    best = pick_threshold(curve, best_f1=True)
    i = int(np.flatnonzero(curve.f1 == curve.f1.max()).max())
    assert (best.recall, best.precision) == (curve.recall[i], curve.precision[i])
    on_pr, on_score = marks["best F1"]
    assert (on_pr.get_xdata()[0], on_pr.get_ydata()[0]) == (best.recall, best.precision)
    assert (on_score.get_xdata()[0], on_score.get_ydata()[0]) == (best.recall, best.threshold)
    j = int(np.searchsorted(curve.thresholds, 0.5))  # lowest threshold >= 0.5
    on_pr, on_score = marks["score >= 0.5"]
    assert (on_pr.get_xdata()[0], on_pr.get_ydata()[0]) == (curve.recall[j], curve.precision[j])
    assert on_score.get_ydata()[0] == 0.5
    target = pick_threshold(curve, min_precision=0.9)
    on_pr, _ = marks["precision >= 0.9"]
    assert on_pr.get_ydata()[0] == target.precision >= 0.9
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert legend == ["best F1", "precision >= 0.9", "score >= 0.5"]


def test_pr_score_display_grid_of_every_class(result):
    disp = PrecisionRecallScoreDisplay.from_result(result).plot()
    n = len(result.params.cat_ids) + 1  # every class, then all pooled
    assert disp.axes_.shape == (n, 2) and len(disp.figure_.axes) == 2 * n
    titles = [top.get_title() for top in disp.axes_[:, 0]]
    assert titles == [
        *(f"{c.category_name} (GT {c.n_gt})" for c in result.curves()),
        f"all classes (GT {result.curve(None).n_gt})",
    ]
    pooled = result.curve(None)
    assert disp.line_ is disp.lines_[-1][0]
    np.testing.assert_array_equal(disp.line_.get_ydata(), pooled.precision)
    for (pr, sr), curve in zip(disp.lines_, disp.curves, strict=True):
        np.testing.assert_array_equal(pr.get_xdata(), curve.recall)
        np.testing.assert_array_equal(sr.get_ydata(), curve.thresholds)
    # small multiples, 4 columns: ticks on the first column and the last row only
    assert disp.axes_[4, 0].get_ylabel() == "precision" and disp.axes_[1, 0].get_ylabel() == ""
    assert list(disp.axes_[4, 0].get_yticks()) == [0.5, 1.0]
    assert len(disp.axes_[1, 0].get_yticks()) == len(disp.axes_[1, 1].get_yticks()) == 0
    assert len(disp.axes_[1, 1].get_xticks()) == 0  # curve 5 is below it
    assert list(disp.axes_[2, 1].get_xticks()) == [0.0, 0.5, 1.0]  # nothing below it
    assert disp.axes_[2, 1].get_xlabel() == "recall" and disp.axes_[1, 1].get_xlabel() == ""
    # every score axis has the same limits: [0, 1] holds the example's scores
    assert {tuple(a.get_ylim()) for a in disp.axes_[:, 1]} == {(0.0, 1.0)}
    # the 2x4 grid: curve 4 starts the second row, below curve 0
    assert disp.axes_[4, 0].get_position().x0 == pytest.approx(disp.axes_[0, 0].get_position().x0)
    assert disp.axes_[4, 0].get_position().y0 < disp.axes_[0, 1].get_position().y0


def test_pr_score_display_on_given_axes_and_figure():
    curve = _tiny_curve()
    marks = {"at 0.5": pick_at_score(curve, 0.5), "too high": pick_at_score(curve, 0.95)}
    fig, axes = plt.subplots(2, 1, sharex=True)
    disp = PrecisionRecallScoreDisplay([curve], [marks]).plot(ax=axes, legend=False, alpha=0.5)
    assert disp.figure_ is fig and list(disp.axes_[0]) == list(axes)
    assert disp.line_.get_alpha() == 0.5 and axes[0].get_legend() is None
    assert list(disp.markers_[0]) == ["at 0.5"]  # nothing kept at 0.95: nothing to mark
    figure = Figure(figsize=(6, 6))  # pyplot-free, as the report draws
    drawn = PrecisionRecallScoreDisplay([curve, curve]).plot(figure=figure, ncols=1)
    assert drawn.figure_ is figure and len(figure.axes) == 4
    assert drawn.markers_ == [{}, {}]


@pytest.mark.parametrize(
    "build",
    [
        lambda r: PrecisionRecallScoreDisplay.from_result(r, []),
        lambda r: PrecisionRecallScoreDisplay.from_result(r, "no such class"),
        lambda r: PrecisionRecallScoreDisplay.from_result(r, min_precision=1.5),
        lambda r: PrecisionRecallScoreDisplay.from_result(r, score_thresholds=["x"]),
        lambda r: PrecisionRecallScoreDisplay.from_result(r, iou=0.52),
        lambda r: PrecisionRecallScoreDisplay.from_result(r, "car").plot(ncols=0),
        lambda r: PrecisionRecallScoreDisplay([r.curve("car")], [{}, {}]),
        lambda r: ClassAPDisplay.from_result(r, metrics=("AP", "mAP")),
        lambda r: ClassAPDisplay.from_result(r, sort_by="F1"),
        lambda r: InterpolatedPRDisplay.from_result(r, "no such class"),
        lambda r: InterpolatedPRDisplay.from_result(r, area="tiny"),
        lambda r: InterpolatedPRDisplay.from_result(r, max_dets=7),
        lambda r: ScoreCurveDisplay.from_result(r, "car", marks={"x": "high"}),
    ],
)
def test_bad_arguments_raise_prcore_input_error(result, build):
    with pytest.raises(prcore.PrcoreInputError):
        build(result)


def test_score_curve_display_marks_thresholds(result):
    disp = ScoreCurveDisplay.from_result(result, None, marks={"best F1": 0.46, "cut": 0.7})
    disp.plot()
    assert set(disp.mark_lines_) == {"best F1", "cut"}
    np.testing.assert_array_equal(disp.mark_lines_["cut"].get_xdata(), [0.7, 0.7])
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend == ["precision", "recall", "F1", "best F1", "cut"]
    assert disp.ax_.get_title() == "all (IoU=0.5)"


def test_class_ap_bars_sorted_best_first(result):
    disp = ClassAPDisplay.from_result(result)
    rows = sorted(result.per_class(), key=lambda r: -r.ap)
    assert list(disp.names) == [r.name for r in rows] and disp.missing == []
    disp.plot()
    assert set(disp.bars_) == {"AP", "AP50"} and len(disp.figure_.axes) == 1
    widths = [b.get_width() for b in disp.bars_["AP"]]
    assert widths == [r.ap for r in rows]
    assert [b.get_width() for b in disp.bars_["AP50"]] == [r.ap50 for r in rows]
    labels = [t.get_text() for t in disp.ax_.get_yticklabels()]
    assert labels == [r.name for r in rows]
    # the best at the top: its bar is drawn at the top of an inverted y axis
    assert disp.ax_.get_ylim()[0] > disp.ax_.get_ylim()[1]
    assert disp.ax_.get_xlabel() == "AP" and disp.ax_.get_title() == "Per-class AP (area all)"
    ap50 = ClassAPDisplay.from_result(result, metrics=["AP50"]).plot()
    assert [b.get_width() for b in ap50.bars_["AP50"]] == sorted(
        (r.ap50 for r in rows), reverse=True
    )
    assert ap50.ax_.get_legend() is None  # one metric: no legend


@pytest.fixture(scope="module")
def with_absent_class():
    """Classes a (its one box found), b (only a miss) and c (no ground truth)."""
    gt = {
        "images": [{"id": 1, "width": 100, "height": 100}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 10, 10], "area": 100},
        ],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}],
    }
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.8},
        {"image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.7},
    ]
    with pytest.warns(prcore.PrcoreWarning, match="no ground truth"):
        return prcore.evaluate(gt, dt)


def test_class_ap_bars_leave_out_classes_without_ground_truth(with_absent_class):
    disp = ClassAPDisplay.from_result(with_absent_class).plot()
    assert list(disp.names) == ["a", "b"] and disp.missing == ["c"]
    a, b, _ = with_absent_class.per_class()
    assert [bar.get_width() for bar in disp.bars_["AP"]] == [a.ap, b.ap]
    assert a.ap == pytest.approx(1.0) and b.ap == 0.0
    assert "no ground truth: c" in disp.ax_.get_title()


def test_interpolated_curves_are_cocos_arrays(result):
    disp = InterpolatedPRDisplay.from_result(result)
    p = result.precision[:, :, :, 0, -1]
    assert (p > -1).all()  # every class of the example has ground truth
    disp.plot()
    assert len(disp.lines_) == len(result.params.iou_thrs) == 10
    for t, line in enumerate(disp.lines_):
        np.testing.assert_array_equal(line.get_xdata(), result.params.rec_thrs_array())
        np.testing.assert_allclose(line.get_ydata(), p[t].mean(axis=1), rtol=0, atol=1e-15)
    # the mean of each curve is COCO's AP at that IoU: stats[1] is AP50 exactly
    assert disp.ap[0] == result.stats[1] and disp.ap[5] == result.stats[2]
    assert np.mean(disp.ap) == pytest.approx(result.stats[0], abs=1e-12)
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels[0] == f"IoU=0.50: AP {result.stats[1]:.3f}" and labels[-1].startswith("IoU=0.95")
    assert disp.ax_.get_title() == (
        "COCO 101-point curves: mean over classes with GT (area=all, maxDets=100)"
    )
    assert disp.ax_.get_xlabel() == "recall"
    car = InterpolatedPRDisplay.from_result(result, "car", area="large").plot()
    k, a = result.cat_names.index("car"), result.params.area_rng_lbl.index("large")
    np.testing.assert_array_equal(car.lines_[3].get_ydata(), result.precision[3, :, k, a, -1])
    assert car.label == "car (area=large, maxDets=100)"


def test_interpolated_mean_leaves_out_classes_without_ground_truth(with_absent_class):
    """pycocotools' -1 (no ground truth) is left out of the mean, as its summarize
    leaves it out of AP; the curves of a class without ground truth are NaN."""
    result = with_absent_class
    p = result.precision[:, :, :, 0, -1]
    assert (p[:, :, 2] == -1).all() and (p[:, :, :2] > -1).all()
    disp = InterpolatedPRDisplay.from_result(result)
    np.testing.assert_array_equal(disp.precision, p[:, :, :2].mean(axis=2))
    assert disp.ap[0] == result.stats[1]
    assert np.mean(disp.ap) == pytest.approx(result.stats[0], abs=1e-12)
    absent = InterpolatedPRDisplay.from_result(result, "c").plot()
    assert np.isnan(absent.precision).all() and np.isnan(absent.ap).all()
    assert absent.ax_.get_legend().get_texts()[0].get_text() == "IoU=0.50: AP n/a"
