"""The result as a value: hand-checked numbers, read-only arrays, a private match
table, and one error type (``PrcoreInputError``, a ``ValueError``) for every
argument a view cannot read."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import prcore
from prcore.curves import curve_from_sequence, describe_criterion, pick_threshold
from prcore.result import check_score_thresholds

# One image, one class, two 10x10 objects. Detections: 0.9 on the first object
# (IoU 1), 0.8 on empty ground (IoU 0), 0.6 on the second object (IoU 1).
GT = {
    "images": [{"id": 1}],
    "categories": [{"id": 4, "name": "cup"}],
    "annotations": [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 4,
            "bbox": [0, 0, 10, 10],
            "area": 100.0,
            "iscrowd": 0,
        },
        {
            "id": 2,
            "image_id": 1,
            "category_id": 4,
            "bbox": [50, 50, 10, 10],
            "area": 100.0,
            "iscrowd": 0,
        },
    ],
}
DT = [
    {"image_id": 1, "category_id": 4, "bbox": [0, 0, 10, 10], "score": 0.9},
    {"image_id": 1, "category_id": 4, "bbox": [100, 100, 10, 10], "score": 0.8},
    {"image_id": 1, "category_id": 4, "bbox": [50, 50, 10, 10], "score": 0.6},
]
# COCO's AP: precision envelope [1, 2/3, 2/3] at recalls [.5, .5, 1]; the 51
# recall points up to .5 read 1, the 50 above read 2/3.
AP_ALL = (51 + 50 * 2 / 3) / 101


@pytest.fixture(scope="module")
def result():
    return prcore.evaluate(GT, DT)


def test_hand_checked_stats_curve_and_sweep(result):
    # AP, AP50, AP75, AP small / medium / large, AR@1, AR@10, AR@100, AR small / medium / large
    expected = [AP_ALL, AP_ALL, AP_ALL, AP_ALL, -1, -1, 0.5, 1.0, 1.0, 1.0, -1, -1]
    np.testing.assert_allclose(result.stats, expected, rtol=0, atol=1e-15)
    curve = result.curve("cup", iou=0.95)
    np.testing.assert_array_equal(curve.thresholds, [0.6, 0.8, 0.9])
    np.testing.assert_array_equal(curve.tp, [2, 1, 1])
    np.testing.assert_array_equal(curve.fp, [1, 1, 0])
    np.testing.assert_array_equal(curve.precision, [2 / 3, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(curve.recall, [1.0, 0.5, 0.5, 0.0])
    one = result.curve(4, max_dets=1)  # the per-image cut keeps the 0.9 only
    np.testing.assert_array_equal(one.tp, [1])
    rows = result.sweep([0.0, 0.7, 0.95]).rows
    assert [r.n_detections for r in rows] == [3, 2, 0]
    np.testing.assert_array_equal(rows[0].stats, result.stats)
    assert rows[1].stats[:2] == pytest.approx([51 / 101] * 2, abs=1e-15)
    assert rows[1].stats[8] == 0.5
    assert rows[2].stats[:4] == [0.0] * 4 and rows[2].stats[8] == 0.0


def test_threshold_picks_by_hand(result):
    report = result.select_thresholds(min_precision=0.6)
    assert report.criterion == "precision >= 0.6"
    assert (report.shared.threshold, report.shared.tp, report.shared.fp) == (0.6, 2, 1)
    assert [p.category_name for p in report.per_class] == ["cup"]
    assert result.select_thresholds(min_recall=0.5).shared.threshold == 0.9
    assert result.select_thresholds(best_f1=True).shared.f1 == pytest.approx(0.8)


def test_arrays_are_read_only_and_the_table_private(result):
    assert not hasattr(result, "table")
    public = [f.name for f in dataclasses.fields(result) if not f.name.startswith("_")]
    assert public == [
        "stats",
        "precision",
        "recall",
        "scores",
        "params",
        "cat_names",
        "n_detections",
    ]
    assert "_table" not in repr(result)
    for array in (result.stats, result.precision, result.recall, result.scores):
        assert not array.flags.writeable
    table = result._table
    arrays = [getattr(table, f.name) for f in dataclasses.fields(table)]
    assert arrays and all(isinstance(a, np.ndarray) for a in arrays)
    for array in arrays:
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        table.det_score[0] = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result._table = None


def test_views_leave_the_result_unchanged(result):
    before = {
        f.name: getattr(result._table, f.name).copy() for f in dataclasses.fields(result._table)
    }
    result.sweep([0.5, 0.85])
    result.curves()
    result.select_thresholds(best_f1=True)
    for name, array in before.items():
        np.testing.assert_array_equal(getattr(result._table, name), array)
        assert not getattr(result._table, name).flags.writeable
    np.testing.assert_allclose(result.stats[0], AP_ALL, rtol=0, atol=1e-15)


VIEW_ERRORS = {
    "category": (
        lambda r: r.curve("mug"),
        "field 'category': unknown category 'mug'; known names: cup",
    ),
    "score_thresholds[1]": (
        lambda r: r.sweep([0.5, math.nan]),
        "field 'score_thresholds[1]': expected a finite number, got nan",
    ),
    "iou": (
        lambda r: r.curve(4, iou=0.52),
        "field 'iou': IoU threshold 0.52 is not among the evaluated ones "
        "(0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)",
    ),
}


@pytest.mark.parametrize("field", VIEW_ERRORS)
def test_a_view_error_names_the_argument(result, field):
    """Caught as the documented ``ValueError``; it names the argument and what was
    expected, and no file or record (a view's argument is not input data)."""
    view, message = VIEW_ERRORS[field]
    with pytest.raises(ValueError) as caught:
        view(result)
    error = caught.value
    assert type(error) is prcore.PrcoreInputError
    assert (error.field, str(error)) == (field, message)
    assert error.file is None and error.index is None and error.record_id is None


BAD_VIEWS = {
    "unknown category name": (lambda r: r.curve("mug"), "category"),
    "unknown category id": (lambda r: r.curve(5), "unknown category id 5"),
    "category as a float": (lambda r: r.curve(4.0), "category"),
    "category as a bool": (lambda r: r.curve(True), "category"),
    "category as a list": (lambda r: r.curve([4]), "category"),
    "IoU not evaluated": (lambda r: r.curve(4, iou=0.52), "not among the evaluated"),
    "IoU as a string": (lambda r: r.curve(4, iou="0.5"), "iou"),
    "IoU None": (lambda r: r.curve(4, iou=None), "iou"),
    "IoU NaN": (lambda r: r.curve(4, iou=math.nan), "finite"),
    "unknown area": (lambda r: r.curve(4, area="tiny"), "unknown area range 'tiny'"),
    "area not a string": (lambda r: r.curve(4, area=0), "area"),
    "area unhashable": (lambda r: r.curve(4, area=["all"]), "area"),
    "max_dets not among": (lambda r: r.curve(4, max_dets=50), "maxDets"),
    "max_dets True": (lambda r: r.curve(4, max_dets=True), "maxDets"),
    "max_dets float": (lambda r: r.curve(4, max_dets=100.0), "maxDets"),
    "max_dets string": (lambda r: r.curve(4, max_dets="100"), "maxDets"),
    "curves: IoU": (lambda r: r.curves(iou=0.1), "iou"),
    "no criterion": (lambda r: r.select_thresholds(), "got none"),
    "two criteria": (
        lambda r: r.select_thresholds(min_precision=0.5, min_recall=0.5),
        "min_precision, min_recall",
    ),
    "criterion and best F1": (
        lambda r: r.select_thresholds(min_recall=0.5, best_f1=True),
        "min_recall, best_f1",
    ),
    "min_precision above 1": (lambda r: r.select_thresholds(min_precision=1.5), r"in \[0, 1\]"),
    "min_precision below 0": (lambda r: r.select_thresholds(min_precision=-0.1), "min_precision"),
    "min_precision NaN": (lambda r: r.select_thresholds(min_precision=math.nan), "finite"),
    "min_precision string": (lambda r: r.select_thresholds(min_precision="0.5"), "number"),
    "min_recall above 1": (lambda r: r.select_thresholds(min_recall=2), "min_recall"),
    "best_f1 not a bool": (lambda r: r.select_thresholds(best_f1="yes"), "best_f1"),
    "per_class not a bool": (
        lambda r: r.select_thresholds(best_f1=True, per_class="no"),
        "per_class",
    ),
    "per_class an array": (
        lambda r: r.select_thresholds(best_f1=True, per_class=np.array([1, 0])),
        "per_class",
    ),
    "select: max_dets": (lambda r: r.select_thresholds(best_f1=True, max_dets=3), "maxDets"),
    "sweep NaN": (lambda r: r.sweep([0.5, math.nan]), r"score_thresholds\[1\]"),
    "sweep infinity": (lambda r: r.sweep([math.inf]), "finite"),
    "sweep -infinity": (lambda r: r.sweep([-math.inf]), "finite"),
    "sweep string item": (lambda r: r.sweep([0.1, "abc"]), r"score_thresholds\[1\]"),
    "sweep None item": (lambda r: r.sweep([None]), "number"),
    "sweep bool item": (lambda r: r.sweep([True]), "number"),
    "sweep a string": (lambda r: r.sweep("0.5"), "list of numbers"),
    "sweep a bare number": (lambda r: r.sweep(0.5), "list of numbers"),
    "sweep nothing": (lambda r: r.sweep([]), "at least one"),
    "sweep 2-d": (lambda r: r.sweep(np.array([[0.1, 0.2]])), "number"),
    "truncation IoU": (lambda r: r.truncation(iou=0.3), "iou"),
}


@pytest.mark.parametrize("case", BAD_VIEWS, ids=list(BAD_VIEWS))
def test_bad_arguments_raise_one_error_type(result, case):
    view, message = BAD_VIEWS[case]
    with pytest.raises(prcore.PrcoreInputError, match=message):
        view(result)


def test_use_cats_off_has_only_the_pooled_curve():
    result = prcore.evaluate(GT, DT, params=prcore.Params(use_cats=False))
    np.testing.assert_array_equal(result.curve().tp, [2, 1, 1])
    with pytest.raises(prcore.PrcoreInputError, match="use_cats"):
        result.curve(4)
    with pytest.raises(prcore.PrcoreInputError, match="use_cats"):
        result.curves()
    assert result.select_thresholds(best_f1=True).per_class == ()


def test_accepted_argument_forms(result):
    by_id = result.curve(np.int64(4), iou=np.float64(0.5), max_dets=np.int32(100))
    for same in (result.curve("cup"), result.curve("4"), result.curve(4, iou=0.5 + 1e-12)):
        np.testing.assert_array_equal(same.tp, by_id.tp)
    rows = result.sweep(np.array([0.7, 0.0])).rows
    assert [r.score_threshold for r in rows] == [0.7, 0.0]
    assert all(type(r.score_threshold) is float for r in rows)
    assert result.select_thresholds(best_f1=1, per_class=0).per_class == ()
    assert check_score_thresholds(iter([1, 2.5, np.float32(0.25)])) == (1.0, 2.5, 0.25)
    assert check_score_thresholds([-3.0, 7]) == (-3.0, 7.0)  # scores need not lie in [0, 1]


def test_pick_threshold_validates_its_criterion():
    curve = curve_from_sequence(np.array([0.9, 0.3]), np.array([1, 0]), 2)
    for kwargs in ({}, {"min_precision": 0.5, "best_f1": True}, {"min_recall": -1}):
        with pytest.raises(prcore.PrcoreInputError):
            pick_threshold(curve, **kwargs)
    assert describe_criterion(min_recall=1) == "recall >= 1"
    assert describe_criterion(min_precision=0) == "precision >= 0"
    assert describe_criterion(best_f1=True) == "best F1"
