"""Hypothesis: the sweep and the raw curves on random small datasets with float
coordinates, with pycocotools as the oracle.

- A sweep row at score ``s`` equals pycocotools run on the detections scoring
  at least ``s`` (``COCOeval.stats``, and the number of detections kept).
- A raw curve equals a brute-force count over pycocotools' own matches
  (``COCOeval.evalImgs``: ``dtMatches``, ``dtIgnore``, ``gtIgnore``, cut to
  maxDet per image as ``accumulate`` cuts them) at every threshold, and its last
  recall is ``COCOeval.eval['recall']``, which no interpolation touches.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import prcore
from pycocotools_oracle import prcore_params, run_pycocotools

CAT_IDS = [3, 8, 21]
MAX_DETS = [1, 2, 100]  # small cuts, so that the per-image maxDet cut bites


def _f32(v: float) -> float:
    return float(np.float32(v))


def _real(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Whole pixels, two decimals, float32 values and arbitrary doubles."""
    any_float = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return st.one_of(
        st.integers(math.ceil(lo), math.floor(hi)).map(float),
        any_float.map(lambda v: min(max(round(v, 2), lo), hi)),
        any_float.map(_f32).filter(lambda v: lo <= v <= hi),
        any_float,
    )


COORD = _real(0.0, 80.0)
SIZE = st.one_of(st.sampled_from([0.0, 1.0, 32.0, 96.0]), _real(0.5, 110.0))
JITTER = st.one_of(st.sampled_from([0.0, 0.0, 0.5, -0.25]), _real(-6.0, 6.0))
SCORE = st.one_of(
    st.sampled_from([0.05, 0.3, 0.5, 0.5, 0.9, 1.0]),  # ties
    _real(0.0, 1.0),
)


@st.composite
def datasets(draw):
    n_img = draw(st.integers(1, 4))
    cats = CAT_IDS[: draw(st.integers(1, len(CAT_IDS)))]
    anns, dets = [], []
    for img in range(1, n_img + 1):
        for _ in range(draw(st.integers(0, 5))):
            w, h = draw(SIZE), draw(SIZE)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img,
                    "category_id": draw(st.sampled_from(cats)),
                    "bbox": [draw(COORD), draw(COORD), w, h],
                    "area": draw(st.one_of(st.just(w * h), _real(0.0, 12000.0))),
                    "iscrowd": int(draw(st.integers(0, 9)) == 0),
                }
            )
        for _ in range(draw(st.integers(0, 7))):
            on_image = [a for a in anns if a["image_id"] == img]
            if on_image and draw(st.booleans()):
                base = draw(st.sampled_from(on_image))
                box = [v + draw(JITTER) for v in base["bbox"]]
                box[2], box[3] = abs(box[2]), abs(box[3])
                cat = (
                    base["category_id"] if draw(st.integers(0, 5)) else draw(st.sampled_from(cats))
                )
            else:
                box = [draw(COORD), draw(COORD), draw(SIZE), draw(SIZE)]
                cat = draw(st.sampled_from(cats))
            dets.append({"image_id": img, "category_id": cat, "bbox": box, "score": draw(SCORE)})
    gt = {
        "images": [{"id": i} for i in range(1, n_img + 1)],
        "annotations": anns,
        "categories": [{"id": c, "name": f"c{c}"} for c in cats],
    }
    return gt, dets


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _evaluate(gt, dets, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prcore.evaluate(gt, dets, params=prcore_params(**params) if params else None)


def _oracle_stats(gt, kept, **params) -> np.ndarray:
    """pycocotools' stats on ``kept``; with none kept, on one detection of a category
    that is not evaluated (``loadRes`` cannot take an empty list; ``_prepare`` drops it)."""
    if not kept:
        assert params.get("useCats", 1), "no stand-in for an empty list with useCats=0"
        kept = [{"image_id": 1, "category_id": 999, "bbox": [0, 0, 1, 1], "score": 1.0}]
    return run_pycocotools(gt, kept, **params).stats


# ---------------------------------------------------------------- sweep


@SETTINGS
@given(datasets(), st.data())
def test_sweep_row_equals_pycocotools_on_the_kept_detections(data, draw):
    gt, dets = data
    assume(dets)
    scores = sorted({d["score"] for d in dets})
    # A score itself (the cut keeps it: score >= s), or anywhere in between.
    cut = draw.draw(st.one_of(st.sampled_from(scores), _real(-0.1, 1.1)), label="cut")
    params = draw.draw(st.sampled_from([{}, {"maxDets": MAX_DETS}]), label="params")
    row = _evaluate(gt, dets, **params).sweep([cut]).rows[0]
    kept = [d for d in dets if d["score"] >= cut]
    assert row.score_threshold == cut
    assert row.n_detections == len(kept)
    np.testing.assert_allclose(row.stats, _oracle_stats(gt, kept, **params), rtol=0, atol=1e-12)


@SETTINGS
@given(datasets(), st.data())
def test_sweep_without_categories_equals_pycocotools(data, draw):
    gt, dets = data
    scores = sorted({d["score"] for d in dets})
    assume(scores)
    cuts = draw.draw(st.lists(st.sampled_from(scores), min_size=1, max_size=3), label="cuts")
    rows = _evaluate(gt, dets, useCats=0).sweep(cuts).rows
    for cut, row in zip(cuts, rows, strict=True):
        kept = [d for d in dets if d["score"] >= cut]  # never empty: cut is a score
        want = _oracle_stats(gt, kept, useCats=0)
        np.testing.assert_allclose(row.stats, want, rtol=0, atol=1e-12)


def test_empty_stand_in_is_what_pycocotools_gives_for_no_detections():
    """The stand-in above: pycocotools' stats with every evaluated category empty are
    0 where ground truth exists and -1 elsewhere, as prcore's sweep past every score."""
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 3, "name": "c3"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [1.5, 2.25, 40.0, 9.5]}
            | {"area": 380.0, "iscrowd": 0}
        ],
    }
    dets = [{"image_id": 1, "category_id": 3, "bbox": [1.5, 2.0, 40.0, 9.5], "score": 0.5}]
    want = [0.0] * 4 + [-1.0, -1.0] + [0.0] * 4 + [-1.0, -1.0]
    np.testing.assert_array_equal(_oracle_stats(gt, []), want)
    row = prcore.evaluate(gt, dets).sweep([0.6]).rows[0]
    assert row.n_detections == 0
    np.testing.assert_array_equal(row.stats, want)


# ---------------------------------------------------------------- curves


def _oracle_matches(ev, cat_id, t: int, a: int, max_det: int):
    """(scores, states 0 FP / 1 TP / 2 ignored, non-ignored ground truths) of one
    category (``None``: all), from pycocotools' evalImgs, cut as accumulate cuts them."""
    scores, states, n_gt = [], [], 0
    for e in ev.evalImgs:
        if e is None or e["aRng"] != ev.params.areaRng[a]:
            continue
        if cat_id is not None and e["category_id"] != cat_id:
            continue
        n_gt += int(np.count_nonzero(e["gtIgnore"] == 0))
        for j, s in enumerate(e["dtScores"][:max_det]):
            scores.append(s)
            states.append(2 if e["dtIgnore"][t, j] else int(e["dtMatches"][t, j] > 0))
    return np.asarray(scores, np.float64), np.asarray(states, np.int64), n_gt


def _assert_brute_force(curve, scores, states, n_gt):
    assert curve.n_gt == n_gt
    live = states != 2
    thresholds = np.unique(scores[live])  # increasing, as the curve's
    np.testing.assert_array_equal(curve.thresholds, thresholds)
    for i, thr in enumerate(thresholds):
        kept = states[live & (scores >= thr)]
        tp, fp = int(np.count_nonzero(kept == 1)), int(np.count_nonzero(kept == 0))
        assert (int(curve.tp[i]), int(curve.fp[i])) == (tp, fp), thr
        assert curve.precision[i] == tp / (tp + fp)
        if n_gt:
            assert curve.recall[i] == tp / n_gt
        else:
            assert math.isnan(curve.recall[i])
    assert (curve.precision[-1], curve.recall[-1]) == (1.0, 0.0)


def _assert_final_recall(curve, coco_recall: float):
    """COCOeval's recall entry is ``tp / npig`` over every kept detection: the curve's
    recall at its lowest threshold; 0 with no detection; -1 with no ground truth."""
    if curve.n_gt == 0:
        assert coco_recall == -1
    else:
        assert curve.max_recall == coco_recall


@SETTINGS
@given(
    datasets(),
    st.integers(0, 9),
    st.integers(0, 3),
    st.sampled_from(MAX_DETS),
    st.booleans(),
)
def test_raw_curves_are_pycocotools_matches_counted(data, t, a, max_det, use_cats):
    gt, dets = data
    assume(dets)
    params = {"maxDets": MAX_DETS, "useCats": int(use_cats)}
    ev = run_pycocotools(gt, dets, **params)
    result = _evaluate(gt, dets, **params)
    iou, area = result.params.iou_thrs[t], result.params.area_rng_lbl[a]
    m = MAX_DETS.index(max_det)
    pooled = result.curve(None, iou=iou, area=area, max_dets=max_det)
    _assert_brute_force(pooled, *_oracle_matches(ev, None, t, a, max_det))
    if not use_cats:
        _assert_final_recall(pooled, ev.eval["recall"][t, 0, a, m])
        return
    curves = result.curves(iou=iou, area=area, max_dets=max_det)
    assert [c.category_id for c in curves] == list(ev.params.catIds)
    for k, curve in enumerate(curves):
        _assert_brute_force(curve, *_oracle_matches(ev, curve.category_id, t, a, max_det))
        _assert_final_recall(curve, ev.eval["recall"][t, k, a, m])
    # The pooled curve counts every category's detections and ground truths.
    assert pooled.n_gt == sum(c.n_gt for c in curves)
    if len(pooled.thresholds):
        assert pooled.tp[0] == sum(int(c.tp[0]) for c in curves if len(c.thresholds))


@pytest.mark.parametrize("iou", [0.5, 0.75])
def test_float_boxes_on_the_iou_boundary(iou):
    """A detection whose IoU with its ground truth is exactly the threshold matches
    (pycocotools: ``iou < t`` skips, so equality matches), in the curve as in COCOeval."""
    # IoU of [0, 0, 10, h] inside [0, 0, 10, 10]: h / 10, exact for these h.
    h = {0.5: 5.0, 0.75: 7.5}[iou]
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 3, "name": "c3"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [0.0, 0.0, 10.0, 10.0]}
            | {"area": 100.0, "iscrowd": 0}
        ],
    }
    dets = [
        {"image_id": 1, "category_id": 3, "bbox": [0.0, 0.0, 10.0, h], "score": 0.7},
        {"image_id": 1, "category_id": 3, "bbox": [0.0, 0.0, 10.0, h - 1e-9], "score": 0.9},
    ]
    ev = run_pycocotools(gt, dets)
    curve = _evaluate(gt, dets).curve(3, iou=iou)
    _assert_brute_force(curve, *_oracle_matches(ev, 3, [0.5, 0.75].index(iou) * 5, 0, 100))
    np.testing.assert_array_equal(curve.tp, [1, 0])
    np.testing.assert_array_equal(curve.fp, [1, 1])
