"""The confusion matrix: hand-built images whose matrix is written out, and its
diagonal and margins against the operating points on generated data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_oracle_generated import generate
from test_oracle_property import datasets

import prcore

CATS = [{"id": 1, "name": "a"}, {"id": 5, "name": "b"}]
A, B = 1, 5


def ground_truth(objects):
    """``objects``: ``(image, category, box, iscrowd)``."""
    anns = [
        {
            "id": i + 1,
            "image_id": img,
            "category_id": cat,
            "bbox": list(box),
            "area": box[2] * box[3],
            "iscrowd": crowd,
        }
        for i, (img, cat, box, crowd) in enumerate(objects)
    ]
    images = [{"id": i} for i in (100, 101, 102)]
    return {"images": images, "annotations": anns, "categories": CATS}


def det(img, cat, box, score):
    return {"image_id": img, "category_id": cat, "bbox": list(box), "score": score}


GT = ground_truth(
    [
        (100, A, (0, 0, 10, 10), 0),
        (100, B, (20, 20, 10, 10), 0),
        (100, A, (50, 50, 10, 10), 0),
        (101, A, (0, 0, 100, 100), 1),  # a crowd
        (102, B, (0, 0, 10, 10), 0),
    ]
)
DETS = [
    det(100, A, (0, 0, 10, 10), 0.9),  # TP a
    det(100, A, (20, 20, 10, 10), 0.8),  # on the b object: b seen as a
    det(100, B, (100, 100, 10, 10), 0.7),  # on nothing: background seen as b
    det(100, B, (0, 0, 10, 10), 0.6),  # on a, which the TP took: background seen as b
    det(100, A, (50, 50, 10, 10), 0.3),  # a TP, but below the score threshold
    det(101, A, (10, 10, 20, 20), 0.9),  # inside the crowd: ignored
    det(102, A, (0, 0, 10, 10), 0.9),  # two a boxes on one b object: the higher
    det(102, A, (0, 0, 10, 9), 0.8),  # scoring one takes it, the other is background
]


def test_hand_built_matrix():
    cm = prcore.evaluate(GT, DETS).confusion(iou=0.5, score=0.5)
    assert cm.labels == ("a", "b", "background")
    assert cm.category_ids == (1, 5)
    expected = [
        # pred: a  b  background        true:
        [1, 0, 1],  # a: one found, one missed (its TP scored .3)
        [2, 0, 0],  # b: both detected as a
        [1, 2, 0],  # background: the second a on image 102, the two b boxes
    ]
    np.testing.assert_array_equal(cm.counts, expected)
    assert cm.counts.dtype == np.int64 and not cm.counts.flags.writeable


def test_score_threshold_moves_counts_to_and_from_background():
    r = prcore.evaluate(GT, DETS)
    low = r.confusion(score=0.0)
    # the .3 TP now counts on the diagonal: a's missed object is found
    np.testing.assert_array_equal(low.counts, [[2, 0, 0], [2, 0, 0], [1, 2, 0]])
    high = r.confusion(score=0.85)
    # only the .9 boxes: a TP on 100, the 102 one on the b object; the rest missed
    np.testing.assert_array_equal(high.counts, [[1, 0, 1], [1, 0, 1], [0, 0, 0]])


def test_iou_threshold_of_the_agnostic_step():
    # An a box with IoU 0.9 on the b object of image 102: confused at IoU .5; at .95
    # the box is background and the object missed (image 100's a and b objects too).
    dets = [det(102, A, (0, 0, 10, 9), 0.8)]
    r = prcore.evaluate(GT, dets)
    np.testing.assert_array_equal(r.confusion(iou=0.5).counts, [[0, 0, 2], [1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(r.confusion(iou=0.95).counts, [[0, 0, 2], [0, 0, 2], [1, 0, 0]])


def test_normalized_over_rows_and_columns():
    cm = prcore.evaluate(GT, DETS).confusion()
    np.testing.assert_allclose(
        cm.normalized("true"), [[0.5, 0, 0.5], [1, 0, 0], [1 / 3, 2 / 3, 0]], rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(
        cm.normalized("pred"), [[0.25, 0, 1], [0.5, 0, 0], [0.25, 1, 0]], rtol=0, atol=1e-15
    )
    with pytest.raises(prcore.PrcoreInputError) as info:
        cm.normalized("rows")
    assert info.value.field == "over"


def test_text_csv_and_dict():
    cm = prcore.evaluate(GT, DETS).confusion()
    text = cm.to_text()
    assert "background" in text.splitlines()[-1] and "IoU=0.5" in text
    assert cm.to_csv().splitlines() == [
        "true\\pred,a,b,background",
        "a,1,0,1",
        "b,2,0,0",
        "background,1,2,0",
    ]
    assert cm.to_csv("true").splitlines()[1] == "a,0.5000,0.0000,0.5000"
    d = cm.to_dict()
    assert d["counts"] == cm.counts.tolist() and d["labels"] == ["a", "b", "background"]
    assert d["score_threshold"] == 0.5 and d["max_dets"] == 100


def test_bad_arguments_name_their_field():
    r = prcore.evaluate(GT, DETS)
    for kw, name in (
        ({"score": "high"}, "score"),
        ({"score": float("nan")}, "score"),
        ({"iou": -0.1}, "iou"),
        ({"area": "huge"}, "area"),
        ({"max_dets": 5}, "max_dets"),
    ):
        with pytest.raises(prcore.PrcoreInputError) as info:
            r.confusion(**kw)
        assert info.value.field == name


def tp_at(curve, score: float) -> int:
    """True positives scoring at least ``score``, read off the raw curve."""
    i = np.searchsorted(curve.thresholds, score, side="left")
    return int(curve.tp[i]) if i < len(curve.tp) else 0


def dets_at(curve, score: float) -> int:
    i = np.searchsorted(curve.thresholds, score, side="left")
    return int(curve.tp[i] + curve.fp[i]) if i < len(curve.tp) else 0


@pytest.fixture(scope="module")
def generated():
    return prcore.evaluate(*generate(7, n_img=80, n_cat=8))


@pytest.mark.parametrize(
    ("iou", "score", "area"), [(0.5, 0.5, "all"), (0.75, 0.2, "all"), (0.5, 0.0, "small")]
)
def test_diagonal_and_margins_are_the_operating_points(generated, iou, score, area):
    r = generated
    cm = r.confusion(iou=iou, score=score, area=area)
    k = len(r.params.cat_ids)
    curves = r.curves(iou=iou, area=area)
    # the diagonal is each class's TPs at that score threshold ...
    np.testing.assert_array_equal(np.diag(cm.counts)[:k], [tp_at(c, score) for c in curves])
    # ... each class's row holds each of its objects once ...
    np.testing.assert_array_equal(cm.counts[:k].sum(1), [c.n_gt for c in curves])
    # ... and each class's column each of its counted detections once
    np.testing.assert_array_equal(cm.counts[:, :k].sum(0), [dets_at(c, score) for c in curves])
    assert cm.counts[k, k] == 0
    off = cm.counts[:k, :k] - np.diag(np.diag(cm.counts[:k, :k]))
    assert off.sum() > 0  # the generator relabels 15% of its detections


def test_masks_and_keypoints():
    from test_keypoints import keypoint_data
    from test_segm import segm_data

    for gt, dets, kind in (
        (*segm_data(3, n_img=5, n_cat=2), "segm"),
        (*keypoint_data(2, cats=((1, 17), (2, 17))), "keypoints"),
    ):
        r = prcore.evaluate(gt, dets, iou_type=kind)
        cm = r.confusion(score=0.0)
        k = len(r.params.cat_ids)
        curves = r.curves()
        np.testing.assert_array_equal(np.diag(cm.counts)[:k], [tp_at(c, 0.0) for c in curves])
        np.testing.assert_array_equal(cm.counts[:k].sum(1), [c.n_gt for c in curves])
        if kind == "keypoints":  # OKS pairs no two categories
            off = cm.counts[:k, :k] - np.diag(np.diag(cm.counts[:k, :k]))
            assert off.sum() == 0


def test_command_line(tmp_path, capsys):
    import json

    from prcore.cli import main

    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    gt.write_text(json.dumps(GT))
    dt.write_text(json.dumps(DETS))
    out = tmp_path / "cm.csv"
    assert main(["confusion", str(gt), str(dt), "--score", "0", "--csv", str(out)]) == 0
    assert out.read_text() == prcore.evaluate(GT, DETS).confusion(score=0).to_csv()
    assert "background" in capsys.readouterr().out
    # any IoU, evaluated or not; fractions with --normalize
    assert main(["confusion", str(gt), str(dt), "--iou", "0.95", "--normalize", "true"]) == 0
    assert "0.5000" in capsys.readouterr().out
    for bad in (["--normalize", "rows"], ["--iou", "1.5"], ["--score", "inf"], ["--area", "x"]):
        target = tmp_path / "bad.csv"
        assert main(["confusion", str(gt), str(dt), "--csv", str(target), *bad]) == 2
        assert not target.exists()
        err = capsys.readouterr().err
        assert err.startswith("prcore: error:") and err.count("\n") == 1


def confusion_reference(gt: dict, dets: list, t: float, score: float) -> np.ndarray:
    """The module's rule written plainly on pycocotools' own matching (``evalImgs``)
    and IoUs (``maskUtils.iou``), one image and one detection at a time."""
    from collections import defaultdict

    from pycocotools import mask as mask_utils

    from pycocotools_oracle import run_pycocotools

    ev = run_pycocotools(
        gt, dets, summarize=False, iouThrs=[t], areaRng=[[0, 1e10]], areaRngLbl=["all"]
    )
    cat_ids, img_ids = ev.params.catIds, ev.params.imgIds
    k_all = len(cat_ids)
    counts = np.zeros((k_all + 1, k_all + 1), np.int64)
    taken, left = set(), defaultdict(list)
    for k in range(k_all):
        for i, img in enumerate(img_ids):
            e = ev.evalImgs[k * len(img_ids) + i]
            if e is None:
                continue
            for r, did in enumerate(e["dtIds"]):
                if e["dtScores"][r] < score or e["dtIgnore"][0, r]:
                    continue
                if e["dtMatches"][0, r]:
                    counts[k, k] += 1
                    taken.add(int(e["dtMatches"][0, r]))
                else:
                    left[img].append((e["dtScores"][r], k, ev.cocoDt.anns[did]["bbox"]))
    # the objects pycocotools does not ignore, not taken; in an image by category then
    # file order (ties between equal IoUs go to the first, as prcore breaks them)
    regular = {g for e in ev.evalImgs if e for g, ig in zip(e["gtIds"], e["gtIgnore"]) if not ig}
    objects = defaultdict(list)
    anns = sorted(ev.cocoGt.dataset["annotations"], key=lambda a: cat_ids.index(a["category_id"]))
    for a in anns:
        if a["id"] in regular and a["id"] not in taken:
            objects[a["image_id"]].append(a)
    for img in img_ids:
        free = list(objects[img])
        for _, k, box in sorted(left[img], key=lambda x: -x[0]):
            ious = mask_utils.iou([box], [g["bbox"] for g in free], [0] * len(free))
            ious = list(ious[0]) if free else []
            best = max(range(len(free)), key=lambda j: ious[j], default=None)
            if best is not None and ious[best] >= t:
                counts[cat_ids.index(free.pop(best)["category_id"]), k] += 1
            else:
                counts[k_all, k] += 1
        for g in free:
            counts[cat_ids.index(g["category_id"]), k_all] += 1
    return counts


@pytest.mark.parametrize(("seed", "t", "score"), [(31, 0.5, 0.5), (32, 0.3, 0.1), (33, 0.75, 0.0)])
def test_agrees_with_a_plain_reference_on_generated_boxes(seed, t, score):
    gt, dets = generate(seed, n_img=30, n_cat=4)
    cm = prcore.evaluate(gt, dets).confusion(iou=t, score=score)
    np.testing.assert_array_equal(cm.counts, confusion_reference(gt, dets, t, score))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.sampled_from([(0.5, 0.5), (0.3, 0.0), (0.75, 0.25)]))
def test_agrees_with_the_reference_on_random_small_datasets(data, thresholds):
    gt, dets = data
    if not dets:
        return  # pycocotools' loadRes cannot take []
    t, score = thresholds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = confusion_reference(gt, dets, t, score)
        cm = prcore.evaluate(gt, dets).confusion(iou=t, score=score)
    np.testing.assert_array_equal(cm.counts, expected)


def test_shared_outcomes_give_the_same_views_and_must_match_their_parameters():
    from prcore.confusion import confusion_matrix
    from prcore.error_breakdown import error_breakdown
    from prcore.match_outcomes import match_outcomes

    r = prcore.evaluate(GT, DETS)
    o = match_outcomes(r, 0.5, "all", None)
    shared = confusion_matrix(r, 0.5, 0.5, "all", outcomes=o)
    assert np.array_equal(shared.counts, r.confusion(0.5, 0.5).counts)
    assert (
        error_breakdown(r, 0.5, 0.1, "all", outcomes=o).to_dict()
        == r.error_breakdown(0.5, 0.1).to_dict()
    )
    with pytest.raises(prcore.PrcoreInputError, match="other parameters"):
        confusion_matrix(r, 0.75, 0.5, "all", outcomes=o)
