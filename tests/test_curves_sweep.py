"""Raw curves, threshold picks and the score sweep, checked against pycocotools.

The sweep must equal pycocotools run on the detections that survive each cut;
the raw curve must equal one built from pycocotools' own per-image matches
(``evalImgs``) at IoU 0.5, area 'all'.
"""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

import prcore
from prcore.curves import PRCurve, curve_from_sequence, pick_threshold
from pycocotools_oracle import run_pycocotools


def _dataset(seed: int, n_img: int = 25, n_cat: int = 4):
    rng = np.random.default_rng(seed)
    cats = [{"id": int(c), "name": f"cat{c}"} for c in (3, 7, 11, 20)[:n_cat]]
    images = [{"id": 10 + i} for i in range(n_img)]
    anns, dets = [], []
    for im in images:
        for _ in range(int(rng.integers(0, 6))):
            x, y = rng.uniform(0, 300, 2)
            w, h = rng.uniform(4, 150, 2)
            c = cats[int(rng.integers(n_cat))]["id"]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": im["id"],
                    "category_id": c,
                    "bbox": [x, y, w, h],
                    "area": w * h * 0.7,
                    "iscrowd": int(rng.random() < 0.05),
                }
            )
            for _ in range(int(rng.integers(0, 3))):
                j = rng.normal(0, 0.15, 4) * [w, h, w, h]
                dets.append(
                    {
                        "image_id": im["id"],
                        "category_id": c,
                        "bbox": [x + j[0], y + j[1], abs(w + j[2]), abs(h + j[3])],
                        "score": float(np.round(rng.uniform(0.05, 1), 2)),
                    }
                )
        for _ in range(int(rng.integers(0, 4))):
            x, y = rng.uniform(0, 300, 2)
            dets.append(
                {
                    "image_id": im["id"],
                    "category_id": cats[int(rng.integers(n_cat))]["id"],
                    "bbox": [x, y, 30.0, 40.0],
                    "score": float(np.round(rng.random(), 2)),
                }
            )
    return {"images": images, "annotations": anns, "categories": cats}, dets


@pytest.mark.parametrize("seed", range(6))
def test_sweep_equals_pycocotools_on_filtered_detections(seed):
    gt, dets = _dataset(seed)
    result = prcore.evaluate(gt, dets)
    cuts = [0.0, 0.2, 0.5, 0.81]
    sweep = result.sweep(cuts)
    for cut, row in zip(cuts, sweep.rows):
        kept = [d for d in dets if d["score"] >= cut]
        assert row.n_detections == len(kept)
        if not kept:
            continue
        oracle = run_pycocotools(gt, kept)
        np.testing.assert_allclose(row.stats, oracle.stats, rtol=0, atol=1e-12)


def _oracle_curve(ev: COCOeval, cat_id: int | None, t: int = 0, a: int = 0) -> tuple:
    """(scores, states) in descending order, from pycocotools' evalImgs (area range ``a``)."""
    scores, states, npig = [], [], 0
    for e in ev.evalImgs:
        if e is None or e["aRng"] != ev.params.areaRng[a]:
            continue
        if cat_id is not None and e["category_id"] != cat_id:
            continue
        npig += int(np.count_nonzero(e["gtIgnore"] == 0))
        for j, s in enumerate(e["dtScores"][:100]):
            scores.append(s)
            if e["dtIgnore"][t, j]:
                states.append(2)
            else:
                states.append(1 if e["dtMatches"][t, j] > 0 else 0)
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    return np.asarray(scores)[order], np.asarray(states)[order], npig


@pytest.mark.parametrize("seed", range(4))
def test_raw_curve_matches_pycocotools_matches(seed):
    gt, dets = _dataset(seed)
    result = prcore.evaluate(gt, dets)
    ev = run_pycocotools(gt, dets)
    for cat in [None] + [c["id"] for c in gt["categories"]]:
        s, st, npig = _oracle_curve(ev, cat)
        expected = curve_from_sequence(s, st, npig)
        got = result.curve(cat, iou=0.5)
        assert got.n_gt == npig
        np.testing.assert_array_equal(got.thresholds, expected.thresholds)
        np.testing.assert_array_equal(got.tp, expected.tp)
        np.testing.assert_array_equal(got.fp, expected.fp)
        np.testing.assert_array_equal(got.precision, expected.precision)


def test_raw_curves_at_every_area_range_match_pycocotools():
    """Six area ranges: their states are packed two bits each over two bytes."""
    gt, dets = _dataset(7)
    rng = [[0, 1e10], [0, 150], [150, 2000], [2000, 1e10], [0, 500], [500, 1e10]]
    labels = ["all", "small", "medium", "large", "lo", "hi"]
    result = prcore.evaluate(gt, dets, params=prcore.Params(area_rng=rng, area_rng_lbl=labels))
    ev = run_pycocotools(gt, dets, areaRng=rng, areaRngLbl=labels)
    for a, label in enumerate(labels):
        for t, iou in ((0, 0.5), (5, 0.75)):
            s, st, npig = _oracle_curve(ev, None, t=t, a=a)
            expected = curve_from_sequence(s, st, npig)
            got = result.curve(None, iou=iou, area=label)
            assert got.n_gt == npig
            np.testing.assert_array_equal(got.tp, expected.tp)
            np.testing.assert_array_equal(got.fp, expected.fp)
            np.testing.assert_array_equal(got.thresholds, expected.thresholds)


def test_curve_by_hand():
    # scores 0.9 TP, 0.8 FP, 0.8 TP (tie), 0.5 ignored, 0.3 TP; 4 ground truths.
    c = curve_from_sequence(np.array([0.9, 0.8, 0.8, 0.5, 0.3]), np.array([1, 0, 1, 2, 1]), 4)
    np.testing.assert_array_equal(c.thresholds, [0.3, 0.8, 0.9])
    np.testing.assert_array_equal(c.tp, [3, 2, 1])
    np.testing.assert_array_equal(c.fp, [1, 1, 0])
    np.testing.assert_allclose(c.precision, [0.75, 2 / 3, 1.0, 1.0])
    np.testing.assert_allclose(c.recall, [0.75, 0.5, 0.25, 0.0])
    np.testing.assert_allclose(c.f1, [0.75, 4 / 7, 0.4])
    assert c.truncated and c.lowest_score == 0.3 and c.max_recall == 0.75


def test_pick_threshold_by_hand():
    c = curve_from_sequence(np.array([0.9, 0.8, 0.8, 0.5, 0.3]), np.array([1, 0, 1, 2, 1]), 4)
    p = pick_threshold(c, min_precision=0.7)
    assert (p.threshold, p.tp, p.fp) == (0.3, 3, 1)
    p = pick_threshold(c, min_precision=0.99)
    assert p.threshold == 0.9 and p.recall == 0.25
    p = pick_threshold(c, min_recall=0.5)
    assert p.threshold == 0.3  # precision .75 beats .667 at 0.8
    p = pick_threshold(c, best_f1=True)
    assert p.threshold == 0.3 and p.f1 == pytest.approx(0.75)
    p = pick_threshold(c, min_recall=0.9)
    assert p.threshold is None and "never reached" in p.note


def test_empty_curve():
    """No detections left (none, or every one ignored): the curve is its end point
    (precision 1 at recall 0) and no threshold can be picked."""
    for scores, states in ((np.zeros(0), np.zeros(0, np.int64)), (np.array([0.7, 0.2]), [2, 2])):
        c = curve_from_sequence(scores, np.asarray(states), 3, category_name="cup")
        assert type(c) is PRCurve and c.n_gt == 3 and c.category_name == "cup"
        np.testing.assert_array_equal(c.precision, [1.0])
        np.testing.assert_array_equal(c.recall, [0.0])
        assert c.thresholds.shape == c.tp.shape == c.fp.shape == c.f1.shape == (0,)
        assert c.tp.dtype == c.fp.dtype == np.int64 and c.thresholds.dtype == np.float64
        assert (c.lowest_score, c.max_recall, c.truncated) == (None, 0.0, False)
        assert c.to_csv() == "threshold,precision,recall,f1,tp,fp\n"
        for criterion in ({"best_f1": True}, {"min_precision": 0.0}, {"min_recall": 0.0}):
            pick = pick_threshold(c, **criterion)
            assert pick.threshold is None and pick.precision is None and pick.recall is None
            assert (pick.tp, pick.fp, pick.n_gt, pick.note) == (0, 0, 3, "no detections")


def _oracle_pick(scores, states, n_gt, criterion):
    """(threshold, tp, fp) that ``criterion`` picks, counting pycocotools' own matches
    among the detections scoring at least each threshold; None when none qualifies."""
    kept = states != 2
    s, tp_flags = scores[kept], states[kept] == 1
    best, best_key = None, None
    for t in np.unique(s):  # ascending: on ties, the later (higher) threshold wins
        tp = int(np.count_nonzero(tp_flags & (s >= t)))
        fp = int(np.count_nonzero(~tp_flags & (s >= t)))
        p, r = tp / (tp + fp), tp / n_gt
        if "min_precision" in criterion:
            key = tp if p >= criterion["min_precision"] else None
        elif "min_recall" in criterion:
            key = p if r >= criterion["min_recall"] else None
        else:
            key = 2 * p * r / (p + r) if p + r > 0 else 0.0
        if key is not None and (best_key is None or key >= best_key):
            best, best_key = (float(t), tp, fp), key
    return best


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "criterion", [{"min_precision": 0.6}, {"min_recall": 0.3}, {"best_f1": True}], ids=str
)
def test_threshold_picks_recount_pycocotools_matches(seed, criterion):
    """Each pick (per class and shared) is the threshold the criterion picks from
    pycocotools' own matches (``evalImgs``) at IoU 0.5, area 'all', and reports the
    raw counts of the detections scoring at least that threshold."""
    gt, dets = _dataset(seed)
    result = prcore.evaluate(gt, dets)
    ev = run_pycocotools(gt, dets)
    report = result.select_thresholds(**criterion, per_class=True)
    cats = [c["id"] for c in gt["categories"]]
    assert [p.category_id for p in report.per_class] == cats
    checked = 0
    for cat, pick in zip([None, *cats], [report.shared, *report.per_class]):
        scores, states, npig = _oracle_curve(ev, cat)
        assert pick.n_gt == npig
        expected = _oracle_pick(scores, states, npig, criterion) if npig else None
        if expected is None:
            assert pick.threshold is None and (pick.tp, pick.fp) == (0, 0)
            continue
        assert (pick.threshold, pick.tp, pick.fp) == expected
        assert pick.precision == expected[1] / (expected[1] + expected[2])
        assert pick.recall == expected[1] / npig
        checked += 1
    assert checked >= 2  # every seed and criterion has picks, some have none
    assert "ALL (shared)" in report.to_text()
