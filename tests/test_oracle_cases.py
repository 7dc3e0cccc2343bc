"""Named quirks of pycocotools, each compared with it array for array.

Cases follow pycocotools' cocoeval.py (evaluateImg, accumulate, summarize)
and maskApi.c's bbIou; several also write the expected numbers out by hand.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import prcore
from pycocotools_oracle import check, prcore_params, run_drop_in, run_pycocotools

CATS = [{"id": 1, "name": "a"}, {"id": 5, "name": "b"}]


def gt_of(anns, n_img=3, cats=CATS):
    images = [{"id": 100 + i} for i in range(n_img)]
    full = []
    for i, a in enumerate(anns):
        rec = {"id": i + 1, "iscrowd": 0, "category_id": 1, "image_id": 100}
        rec.update(a)
        rec.setdefault("area", rec["bbox"][2] * rec["bbox"][3])
        full.append(rec)
    return {"images": images, "annotations": full, "categories": cats}


def det(img, cat, box, score):
    return {"image_id": img, "category_id": cat, "bbox": list(box), "score": score}


def test_one_perfect_detection_by_hand():
    gt = gt_of([{"bbox": [10, 10, 50, 50]}])
    r = prcore.evaluate(gt, [det(100, 1, [10, 10, 50, 50], 0.9)])
    # 1 - 2e-16, not 1: pycocotools' pr = tp / (fp + tp + eps)
    assert r.stats[0] == pytest.approx(1, abs=1e-15) and r.stats[0] < 1
    assert r.stats[1] == pytest.approx(1, abs=1e-15) and r.stats[8] == 1.0
    assert r.stats[3] == -1.0  # no small ground truth
    check(gt, [det(100, 1, [10, 10, 50, 50], 0.9)])


def test_false_positive_above_true_positive_by_hand():
    gt = gt_of([{"bbox": [10, 10, 50, 50]}])
    dets = [det(100, 1, [200, 200, 50, 50], 0.9), det(100, 1, [10, 10, 50, 50], 0.8)]
    r = prcore.evaluate(gt, dets)
    # precision after the TP is 1/2 at every recall threshold, recall 1.
    np.testing.assert_allclose(r.precision[0, :, 0, 0, 2], 0.5, rtol=0, atol=1e-15)
    assert r.recall[0, 0, 0, 2] == 1.0
    # recall threshold 0 reads position 0 (the false positive's score), the rest the TP's.
    assert r.scores[0, 0, 0, 0, 2] == 0.9
    np.testing.assert_array_equal(r.scores[0, 1:, 0, 0, 2], 0.8)
    check(gt, dets)


def test_score_ties_within_and_across_images():
    gt = gt_of(
        [
            {"bbox": [0, 0, 20, 20]},
            {"bbox": [0, 0, 20, 20], "image_id": 101},
            {"bbox": [50, 50, 20, 20], "image_id": 101},
        ]
    )
    dets = [
        det(101, 1, [50, 50, 20, 20], 0.5),
        det(100, 1, [90, 90, 5, 5], 0.5),
        det(100, 1, [0, 0, 20, 20], 0.5),
        det(101, 1, [0, 0, 20, 21], 0.5),
        det(101, 1, [300, 0, 20, 20], 0.5),
    ]
    check(gt, dets)
    check(gt, list(reversed(dets)))  # file order decides ties, as in pycocotools


def test_crowd_region_absorbs_many_detections():
    gt = gt_of([{"bbox": [0, 0, 100, 100], "iscrowd": 1}, {"bbox": [200, 200, 30, 30]}])
    dets = [det(100, 1, [10 * i, 10 * i, 10, 10], 0.9 - 0.05 * i) for i in range(8)]
    dets.append(det(100, 1, [200, 200, 30, 30], 0.3))
    check(gt, dets)
    r = prcore.evaluate(gt, dets)
    # every detection inside the crowd is ignored, not a false positive
    assert r.stats[1] == pytest.approx(1, abs=1e-15)


def test_crowd_iou_uses_detection_area():
    # A detection half inside a crowd box: IoU = intersection / detection area = 0.5.
    gt = gt_of([{"bbox": [0, 0, 100, 100], "iscrowd": 1}, {"bbox": [300, 300, 10, 10]}])
    dets = [det(100, 1, [50, 0, 100, 100], 0.9)]
    check(gt, dets)


def test_equal_iou_ties_between_ground_truths():
    # Two ground truths equally overlapped: the later one wins (>= in evaluateImg).
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [10, 0, 10, 10]}])
    dets = [det(100, 1, [5, 0, 10, 10], 0.9), det(100, 1, [5, 0, 10, 10], 0.8)]
    check(gt, dets)


def test_regular_match_not_replaced_by_ignored_ground_truth():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [0, 0, 10, 10], "iscrowd": 1}])
    check(gt, [det(100, 1, [0, 0, 10, 10], 0.9), det(100, 1, [0, 0, 10, 10], 0.8)])


def test_per_image_max_dets_cut():
    gt = gt_of([{"bbox": [i * 3.0, 0, 3, 3]} for i in range(120)])
    rng = np.random.default_rng(0)
    dets = [
        det(100, 1, [i * 3.0 + rng.uniform(-1, 1), 0, 3, 3], float(rng.random()))
        for i in range(150)
    ]
    check(gt, dets)
    check(gt, dets, maxDets=[1, 10, 50])


@pytest.mark.parametrize("side", [32.0, 96.0])
def test_area_exactly_on_range_boundaries(side):
    area = side * side
    gt = gt_of(
        [
            {"bbox": [0, 0, side, side], "area": area},
            {"bbox": [200, 0, side, side], "area": np.nextafter(area, 0)},
            {"bbox": [400, 0, side, side], "area": np.nextafter(area, 1e9)},
        ]
    )
    dets = [
        det(100, 1, [0, 0, side, side], 0.9),
        det(100, 1, [200, 0, side, side], 0.8),
        det(100, 1, [600, 0, side, side], 0.7),
        det(100, 1, [800, 0, side, side + 1], 0.6),
    ]
    check(gt, dets)


def test_ignore_flag_is_overridden_by_iscrowd():
    gt = gt_of(
        [
            {"bbox": [0, 0, 10, 10], "ignore": 1},
            {"bbox": [50, 0, 10, 10], "iscrowd": 1, "ignore": 0},
        ]
    )
    dets = [det(100, 1, [0, 0, 10, 10], 0.9), det(100, 1, [50, 0, 10, 10], 0.8)]
    with pytest.warns(prcore.PrcoreWarning, match="ignore"):
        prcore.evaluate(gt, dets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(gt, dets)


def test_annotation_id_zero_is_never_a_true_positive():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [50, 0, 10, 10]}])
    gt["annotations"][0]["id"] = 0
    dets = [det(100, 1, [0, 0, 10, 10], 0.9), det(100, 1, [50, 0, 10, 10], 0.8)]
    with pytest.warns(prcore.PrcoreWarning, match="id 0"):
        r = prcore.evaluate(gt, dets)
    assert r.recall[0, 0, 0, 2] == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(gt, dets)


def test_images_and_categories_without_ground_truth():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}], n_img=4)
    dets = [
        det(100, 1, [0, 0, 10, 10], 0.9),
        det(102, 1, [0, 0, 10, 10], 0.95),
        det(103, 5, [0, 0, 10, 10], 0.5),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(gt, dets)
        r = prcore.evaluate(gt, dets)
    assert (r.precision[:, :, 1] == -1).all()  # category 5 has no ground truth


def test_category_with_ground_truth_but_no_detections():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [0, 0, 10, 10], "category_id": 5}])
    check(gt, [det(100, 1, [0, 0, 10, 10], 0.9)])


def test_empty_detections_are_valid():
    """pycocotools' loadRes crashes on []; the numbers follow its accumulate()."""
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [0, 0, 100, 100], "category_id": 5}])
    r = prcore.evaluate(gt, [])
    assert (r.recall[:, :, 0, :] == 0).all() and (r.precision[:, :, :, 0, :] == 0).all()
    assert r.stats.tolist() == [0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1, 0]
    with pytest.raises(IndexError):
        run_pycocotools(gt, [])


@pytest.mark.parametrize(
    "params",
    [
        {"iouThrs": np.array([0.5, 0.75])},
        {"iouThrs": np.array([0.3, 0.5, 0.75, 0.99])},
        {"recThrs": np.linspace(0, 1, 11)},
        {"maxDets": [1, 5, 20]},
        {"maxDets": [100, 10, 1]},
        {"areaRng": [[0, 1e10], [0, 150], [150, 2000], [2000, 1e10]]},
        # More than four area ranges: their states spill into a second packed byte.
        {
            "areaRng": [[0, 1e10], [0, 150], [150, 2000], [2000, 1e10], [0, 500], [500, 1e10]],
            "areaRngLbl": ["all", "small", "medium", "large", "lo", "hi"],
        },
        {
            "areaRng": [[0, 1e10], [0, 150], [150, 2000], [2000, 1e10], [40, 900]],
            "areaRngLbl": ["all", "small", "medium", "large", "mid"],
        },
        {"useCats": 0},
        {"imgIds": [100, 102]},
        {"catIds": [5]},
        {"catIds": [1, 5, 7]},
    ],
)
def test_custom_params(params):
    rng = np.random.default_rng(1)
    anns, dets = [], []
    for img in (100, 101, 102):
        for _ in range(6):
            x, y, w, h = (
                rng.uniform(0, 100),
                rng.uniform(0, 100),
                rng.uniform(2, 60),
                rng.uniform(2, 60),
            )
            cat = int(rng.choice([1, 5]))
            anns.append(
                {
                    "bbox": [x, y, w, h],
                    "image_id": img,
                    "category_id": cat,
                    "iscrowd": int(rng.random() < 0.1),
                }
            )
            dets.append(
                det(
                    img,
                    cat,
                    [x + rng.normal(0, 3), y + rng.normal(0, 3), w, h],
                    float(np.round(rng.random(), 1)),
                )
            )
            dets.append(det(img, int(rng.choice([1, 5])), [x, y + 20, w, h], float(rng.random())))
    check(gt_of(anns), dets, **params)


def test_zero_width_and_touching_boxes():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [10, 0, 10, 10]}, {"bbox": [0, 20, 0, 10]}])
    dets = [
        det(100, 1, [10, 0, 10, 10], 0.9),
        det(100, 1, [0, 20, 0, 10], 0.8),
        det(100, 1, [0, 0, 0, 0], 0.7),
        det(100, 1, [20, 0, 5, 10], 0.6),
    ]
    check(gt, dets)


def test_integer_and_float_boxes_agree():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [3, 4, 20, 20]}])
    ints = [det(100, 1, [1, 1, 10, 10], 1), det(100, 1, [3, 4, 20, 19], 0)]
    floats = [det(100, 1, [1.0, 1.0, 10.0, 10.0], 1.0), det(100, 1, [3.0, 4.0, 20.0, 19.0], 0.0)]
    check(gt, ints)
    assert prcore.evaluate(gt, ints).stats.tolist() == prcore.evaluate(gt, floats).stats.tolist()


def test_iou_exactly_at_threshold():
    # IoU exactly 0.5: 10x10 gt, det covering it plus 100 more pixels.
    gt = gt_of([{"bbox": [0, 0, 10, 10]}])
    check(gt, [det(100, 1, [0, 0, 20, 10], 0.9)])


def test_two_max_dets_by_hand():
    """maxDets=[1, 3]: pycocotools' summarize() reads maxDets[2] and raises IndexError;
    prcore reads the largest value there (its documented summary), arrays as pycocotools'."""
    gt = gt_of([{"bbox": [0, 0, 50, 50]}, {"bbox": [100, 0, 50, 50]}])  # two 'medium' objects
    dets = [
        det(100, 1, [0, 0, 50, 50], 0.9),  # TP
        det(100, 1, [300, 0, 50, 50], 0.8),  # FP
        det(100, 1, [100, 0, 50, 50], 0.7),  # TP
    ]
    with pytest.raises(IndexError):
        run_pycocotools(gt, dets, maxDets=[1, 3])
    r = prcore.evaluate(gt, dets, params=prcore.Params(max_dets=[1, 3]))
    # precision envelope 1, 2/3, 2/3 at recall 1/2, 1/2, 1: 51 recall thresholds read 1, 50 read 2/3
    ap = (51 + 50 * 2 / 3) / 101
    # AP is -1: stats[0] is _summarize(1), whose default maxDets=100 is not in [1, 3]
    want = [-1, ap, ap, -1, ap, -1, 0.5, 1, 1, -1, 1, -1]
    np.testing.assert_allclose(r.stats, want, rtol=0, atol=1e-12)
    check(gt, dets, maxDets=[1, 3])  # arrays element for element, stats as above
    check(gt, dets, maxDets=[3])


def test_iou_thresholds_zero_and_one_by_hand():
    # evaluateImg starts from iou = min(t, 1 - 1e-10) and skips only ious below it: at t=0 a
    # detection matches a ground truth it does not touch; at t=1 an exact box still matches.
    gt = gt_of([{"bbox": [0, 0, 10, 10]}])
    params = prcore.Params(iou_thrs=[0.0, 1.0])
    apart = [det(100, 1, [100, 100, 10, 10], 0.9)]
    assert prcore.evaluate(gt, apart, params=params).recall[:, 0, 0, 2].tolist() == [1.0, 0.0]
    exact = [det(100, 1, [0, 0, 10, 10], 0.9)]
    assert prcore.evaluate(gt, exact, params=params).recall[:, 0, 0, 2].tolist() == [1.0, 1.0]
    check(gt, apart, iouThrs=np.array([0.0, 1.0]))
    check(gt, exact, iouThrs=np.array([0.0, 1.0]))


def test_zero_width_area_range_by_hand():
    # Both bounds are inclusive (area < lo or area > hi is outside): [2500, 2500] holds
    # exactly the objects of area 2500, and detections of w*h 2500.
    gt = gt_of(
        [
            {"bbox": [0, 0, 50, 50]},  # area 2500
            {"bbox": [100, 0, 50, 50], "area": np.nextafter(2500.0, 1e9)},
        ]
    )
    dets = [det(100, 1, [0, 0, 50, 50], 0.9), det(100, 1, [100, 0, 50, 50], 0.8)]
    params = {"areaRng": [[0, 1e10], [2500.0, 2500.0]], "areaRngLbl": ["all", "exact"]}
    r = prcore.evaluate(gt, dets, params=prcore_params(**params))
    # In 'exact': one ground truth; the second detection matches the ignored one (ignored).
    np.testing.assert_array_equal(r.recall[:, 0, 1, 2], 1.0)
    np.testing.assert_allclose(r.precision[:, :, 0, 1, 2], 1.0, rtol=0, atol=1e-15)
    # The stats read 'all' only; 'small', 'medium' and 'large' are not labels here.
    assert r.stats[[3, 4, 5, 9, 10, 11]].tolist() == [-1.0] * 6
    check(gt, dets, **params)


def test_id_subsets_without_ground_truth_by_hand():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [0, 0, 10, 10], "category_id": 5}])
    dets = [det(100, 1, [0, 0, 10, 10], 0.9), det(100, 5, [0, 0, 10, 10], 0.8)]
    # Only images or categories the ground truth lacks: every entry is -1.
    for params in ({"imgIds": [7, 8]}, {"catIds": [2, 9]}, {"imgIds": []}):
        r = prcore.evaluate(gt, dets, params=prcore_params(**params))
        assert (r.precision == -1).all() and (r.recall == -1).all() and (r.stats == -1).all()
        check(gt, dets, **params)
    # No categories at all: K = 0, as in pycocotools.
    r = prcore.evaluate(gt, dets, params=prcore.Params(cat_ids=[]))
    assert r.precision.shape == (10, 101, 0, 4, 3) and (r.stats == -1).all()
    check(gt, dets, catIds=[])
    # An absent id beside present ones changes nothing but its own -1 column.
    r = prcore.evaluate(gt, dets, params=prcore.Params(cat_ids=[1, 4]))
    assert (r.precision[:, :, 1] == -1).all() and r.recall[0, 0, 0, 2] == 1.0
    check(gt, dets, catIds=[1, 4], imgIds=[100, 101, 7])


# ---------------------------------------------------------------- known differences
# With useCats=0, pycocotools' evaluate() skips np.unique on catIds (it runs it only when
# useCats is on) and computeIoU / evaluateImg pool each image's objects category by
# category in catIds' order. prcore sorts and de-duplicates the ids, as its Params
# documents; the two tests below write out both sides.


def test_use_cats_off_cat_ids_order_decides_ties():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}])
    dets = [det(100, 1, [0, 0, 10, 10], 0.5), det(100, 5, [0, 0, 10, 13], 0.5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # category 5 has no ground truth
        check(gt, dets, useCats=0, catIds=[1, 5])  # sorted: the same order for both
        # pycocotools with [5, 1]: the IoU-0.77 box comes first (a score tie, stable sort)
        # and takes the TP up to IoU 0.75; above, the exact box is a TP after one FP.
        ev = run_pycocotools(gt, dets, useCats=0, catIds=[5, 1])
        assert ev.stats[0] == pytest.approx((6 * 1 + 4 * 0.5) / 10, abs=1e-12)
        # prcore reads [5, 1] as [1, 5]: the exact box first, a TP at every threshold.
        r = prcore.evaluate(gt, dets, params=prcore.Params(use_cats=False, cat_ids=[5, 1]))
    assert r.stats[0] == pytest.approx(1, abs=1e-12)


def test_use_cats_off_repeated_cat_ids():
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [50, 0, 10, 10], "category_id": 5}])
    dets = [det(100, 1, [0, 0, 10, 10], 0.9)]
    # pycocotools pools category 5's ground truth twice: three objects, one found.
    ev = run_pycocotools(gt, dets, useCats=0, catIds=[1, 5, 5])
    np.testing.assert_array_equal(ev.eval["recall"][:, 0, 0, 2], 1 / 3)
    # prcore counts each object once, as pycocotools does for [1, 5].
    r = prcore.evaluate(gt, dets, params=prcore.Params(use_cats=False, cat_ids=[1, 5, 5]))
    np.testing.assert_array_equal(r.recall[:, 0, 0, 2], 0.5)
    check(gt, dets, useCats=0, catIds=[1, 5])


# Differences prcore does not document. strict: the day prcore follows pycocotools, the
# test passes, fails as XPASS, and the marker must go.


def test_five_area_ranges_default_labels_as_pycocotools():
    """More than 4 areaRng without areaRngLbl: pycocotools keeps its 4 default labels,
    so the stats come from the first 4 ranges."""
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [50, 0, 40, 40]}])
    dets = [det(100, 1, [0, 0, 10, 10], 0.9), det(100, 1, [50, 0, 40, 40], 0.8)]
    area_rng = [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10], [0, 500]]
    assert run_pycocotools(gt, dets, areaRng=area_rng).stats[0] > 0.9
    check(gt, dets, areaRng=area_rng)


def test_drop_in_takes_area_ranges_without_labels():
    """areaRng of another length than areaRngLbl: pycocotools evaluates and accumulates
    (its summarize() then may crash), and so does the drop-in."""
    gt = gt_of([{"bbox": [0, 0, 10, 10]}, {"bbox": [50, 0, 40, 40]}])
    dets = [det(100, 1, [0, 0, 10, 10], 0.9), det(100, 1, [50, 0, 40, 40], 0.8)]
    area_rng = [[0, 1e10], [0, 1024], [1024, 1e10]]
    ev = run_pycocotools(gt, dets, summarize=False, areaRng=area_rng)
    ours = run_drop_in(gt, dets, areaRng=area_rng)
    np.testing.assert_array_equal(ours.eval["precision"], ev.eval["precision"])
