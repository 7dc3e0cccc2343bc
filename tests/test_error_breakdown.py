"""TIDE's error breakdown: one error of each type alone, its dAP worked out by hand,
and the base AP against pycocotools' AP at the foreground threshold."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_oracle_generated import generate
from test_oracle_property import datasets

import prcore
from prcore.error_breakdown import ERROR_TYPES

CATS = [{"id": 1, "name": "a"}, {"id": 5, "name": "b"}]
A, B = 1, 5
EPS = np.spacing(1)  # pycocotools' precision is tp / (fp + tp + eps)


def ground_truth(*objects, crowd=()):
    """Objects ``(category, box)`` in image 100; ``crowd`` ones flagged iscrowd."""
    anns = []
    for flag, items in ((0, objects), (1, crowd)):
        for cat, box in items:
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": 100,
                    "category_id": cat,
                    "bbox": list(box),
                    "area": box[2] * box[3],
                    "iscrowd": flag,
                }
            )
    return {"images": [{"id": 100}, {"id": 101}], "annotations": anns, "categories": CATS}


def det(cat, box, score, img=100):
    return {"image_id": img, "category_id": cat, "bbox": list(box), "score": score}


A1, A2 = (0, 0, 10, 10), (50, 50, 10, 10)


def breakdown(gt, dets, **kw):
    return prcore.evaluate(gt, dets).error_breakdown(**kw)


def only(eb, kind: str, count: int, delta: float):
    """``kind`` has ``count`` errors and gains ``delta``; every other type none and 0
    (apart from the ones the caller checks itself)."""
    i = ERROR_TYPES.index(kind)
    assert eb.counts[i] == count
    assert eb.delta_ap[i] == pytest.approx(delta, abs=1e-12)


def test_localization_error_fixed_into_a_true_positive():
    # TP at .9; a box of class a with IoU 0.4 on the other a: Loc.
    gt = ground_truth((A, A1), (A, A2))
    eb = breakdown(gt, [det(A, A2, 0.9), det(A, (0, 0, 10, 4), 0.8)])
    # base: [TP, FP] of 2 -> precision 1 up to recall .5 (51 of 101 points)
    assert eb.ap == pytest.approx(51 / 101, abs=1e-12)
    only(eb, "localization", 1, 50 / 101)  # fixed: both TPs, AP 1
    np.testing.assert_array_equal(eb.counts, [0, 1, 0, 0, 0, 0])  # a1 is not missed
    np.testing.assert_allclose(eb.delta_ap, [0, 50 / 101, 0, 0, 0, 0], rtol=0, atol=1e-12)
    assert eb.counts_per_class[1].tolist() == [1, 0]


@pytest.mark.filterwarnings("ignore::prcore.PrcoreWarning")  # b has no ground truth
def test_classification_error_moves_to_its_ground_truths_class():
    # A b box exactly on a1: false positive of b, IoU 1 with an a object.
    gt = ground_truth((A, A1), (A, A2))
    eb = breakdown(gt, [det(A, A2, 0.9), det(B, A1, 0.8)])
    assert eb.ap == pytest.approx(51 / 101, abs=1e-12)  # b has no ground truth: not averaged
    np.testing.assert_array_equal(eb.counts, [1, 0, 0, 0, 0, 0])
    assert eb.counts_per_class[0].tolist() == [0, 1]  # counted in the predicted class
    # relabelled to a, it is a's second TP: AP 1
    np.testing.assert_allclose(eb.delta_ap, [50 / 101, 0, 0, 0, 0, 0], rtol=0, atol=1e-12)
    assert np.isnan(eb.ap_per_class[1])


def test_both_error_is_removed_and_the_unaimed_object_is_missed():
    # An a box with IoU 0.4 on a b object above a's TP: Both; b's object is missed.
    gt = ground_truth((A, A1), (B, A2))
    eb = breakdown(gt, [det(A, (50, 50, 10, 4), 0.9), det(A, A1, 0.8)])
    # a: [FP, TP] of 1 -> precision 1/2 everywhere; b: nothing found -> 0; mean 1/4
    assert eb.ap == pytest.approx(0.25, abs=1e-12)
    np.testing.assert_array_equal(eb.counts, [0, 0, 1, 0, 0, 1])
    # Both removed: a's AP 1, mean 1/2. Miss: b has neither positives nor detections
    # left, so it leaves the mean (TIDE's is_empty): a's 1/2 alone.
    np.testing.assert_allclose(eb.delta_ap, [0, 0, 0.25, 0, 0, 0.25], rtol=0, atol=1e-12)
    assert np.isnan(eb.delta_ap_per_class[5, 1]) and eb.delta_ap_per_class[2, 0] == pytest.approx(
        0.5, abs=1e-12
    )


def test_duplicate_error_between_two_true_positives():
    gt = ground_truth((A, A1), (A, A2))
    eb = breakdown(gt, [det(A, A1, 0.9), det(A, A1, 0.8), det(A, A2, 0.7)])
    # [TP, FP, TP] of 2: precision 1 up to recall .5, then 2/3 (50 points)
    base = (51 / (1 + EPS) + 50 * 2 / (3 + EPS)) / 101
    assert eb.ap == pytest.approx(base, abs=1e-12)
    np.testing.assert_array_equal(eb.counts, [0, 0, 0, 1, 0, 0])
    np.testing.assert_allclose(eb.delta_ap, [0, 0, 0, 1 - base, 0, 0], rtol=0, atol=1e-12)


def test_background_error():
    gt = ground_truth((A, A1))
    eb = breakdown(gt, [det(A, (100, 100, 10, 10), 0.9), det(A, A1, 0.8)])
    assert eb.ap == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_array_equal(eb.counts, [0, 0, 0, 0, 1, 0])
    np.testing.assert_allclose(eb.delta_ap, [0, 0, 0, 0, 0.5, 0], rtol=0, atol=1e-12)
    # and the special errors: no false positive -> 1; every object found already -> 0
    assert eb.false_positive_delta_ap == pytest.approx(0.5, abs=1e-12)
    assert eb.false_negative_delta_ap == pytest.approx(0, abs=1e-12)


def test_missed_object():
    gt = ground_truth((A, A1), (A, A2))
    eb = breakdown(gt, [det(A, A1, 0.9)])
    np.testing.assert_array_equal(eb.counts, [0, 0, 0, 0, 0, 1])
    np.testing.assert_allclose(eb.delta_ap, [0, 0, 0, 0, 0, 50 / 101], rtol=0, atol=1e-12)


def test_background_threshold_splits_localization_from_background():
    # IoU 0.2 with its own class: Loc at t_b = 0.1, Bkg at t_b = 0.3.
    gt = ground_truth((A, A1))
    dets = [det(A, (0, 0, 10, 2), 0.9), det(A, A1, 0.8)]
    assert breakdown(gt, dets).counts.tolist() == [0, 1, 0, 0, 0, 0]
    assert breakdown(gt, dets, background_iou=0.3).counts.tolist() == [0, 0, 0, 0, 1, 0]


def test_only_the_best_scoring_error_on_one_object_is_fixed():
    # Two Loc errors on a1 (.8 and .7): fixing makes one TP and drops the other.
    gt = ground_truth((A, A1), (A, A2))
    dets = [det(A, A2, 0.9), det(A, (0, 0, 10, 4), 0.8), det(A, (0, 0, 10, 3), 0.7)]
    eb = breakdown(gt, dets)
    assert eb.counts.tolist() == [0, 2, 0, 0, 0, 0]
    assert eb.delta_ap[1] == pytest.approx(1 - 51 / 101, abs=1e-12)


def test_crowd_is_ignored_not_an_error():
    gt = ground_truth((A, A1), crowd=[(A, (40, 40, 40, 40))])
    eb = breakdown(gt, [det(A, (45, 45, 20, 20), 0.9), det(A, A1, 0.8)])
    assert eb.counts.sum() == 0  # the detection on the crowd is ignored
    assert eb.ap == pytest.approx(1, abs=1e-12)


def test_bad_arguments_name_their_field():
    gt = ground_truth((A, A1))
    r = prcore.evaluate(gt, [det(A, A1, 0.9)])
    for kw, name in (
        ({"iou": 1.5}, "iou"),
        ({"background_iou": "x"}, "background_iou"),
        ({"iou": 0.3, "background_iou": 0.4}, "background_iou"),
        ({"area": "huge"}, "area"),
        ({"max_dets": 7}, "max_dets"),
    ):
        with pytest.raises(prcore.PrcoreInputError) as info:
            r.error_breakdown(**kw)
        assert info.value.field == name


def test_text_and_dict():
    gt = ground_truth((A, A1), (A, A2))
    eb = breakdown(gt, [det(A, A2, 0.9), det(A, (0, 0, 10, 4), 0.8)])
    text = eb.to_text()
    assert "Cls" in text and "Miss" in text and f"{100 * 50 / 101:.2f}" in text
    assert text.splitlines()[-2].split() == [
        "a",
        f"{100 * 51 / 101:.2f}",
        "0",
        "1",
        "0",
        "0",
        "0",
        "0",
    ]
    assert text.splitlines()[-1].split() == ["b", "-", "0", "0", "0", "0", "0", "0"]
    d = eb.to_dict()
    assert d["errors"]["localization"] == {"count": 1, "delta_ap": pytest.approx(50 / 101)}
    assert [c["name"] for c in d["per_class"]] == ["a", "b"]
    assert d["per_class"][1]["ap"] is None


@pytest.fixture(scope="module")
def generated():
    gt, dets = generate(5, n_img=80, n_cat=8)
    return gt, dets, prcore.evaluate(gt, dets)


@pytest.mark.parametrize(("area", "max_dets"), [("all", None), ("small", 10), ("large", 100)])
def test_base_ap_is_pycocotools_ap50(generated, area, max_dets):
    _, _, r = generated
    eb = r.error_breakdown(area=area, max_dets=max_dets)
    a = r.params.area_rng_lbl.index(area)
    m = r.params.max_dets.index(max_dets or 100)
    p = r.precision[0, :, :, a, m]
    assert abs(eb.ap - p[p > -1].mean()) <= 1e-12
    if (area, max_dets) == ("all", None):
        assert abs(eb.ap - r.stats[1]) <= 1e-12
    valid = p[0] > -1
    np.testing.assert_allclose(eb.ap_per_class[valid], p[:, valid].mean(0), rtol=0, atol=1e-12)


def test_generated_errors_add_up(generated):
    _, _, r = generated
    eb = r.error_breakdown()
    o_fp = sum(int(c.fp[0]) if len(c.fp) else 0 for c in r.curves())
    assert eb.counts[:5].sum() == o_fp  # every false positive gets one type
    assert (eb.delta_ap >= -1e-15).all()  # a fix never costs AP
    assert eb.false_positive_delta_ap >= eb.delta_ap[:5].max() - 1e-12
    assert (eb.counts > 0).all()


def test_masks_and_keypoints():
    from test_keypoints import keypoint_data
    from test_segm import segm_data

    gt, dets = segm_data(3, n_img=5, n_cat=2)
    r = prcore.evaluate(gt, dets, iou_type="segm")
    eb = r.error_breakdown()
    assert abs(eb.ap - r.stats[1]) <= 1e-12
    gt, dets = keypoint_data(2)
    r = prcore.evaluate(gt, dets, iou_type="keypoints")
    eb = r.error_breakdown()
    assert abs(eb.ap - r.stats[1]) <= 1e-12
    assert eb.counts[0] == 0  # OKS pairs no two categories: no classification error


def test_command_line(tmp_path, capsys):
    import json

    from prcore.cli import main

    gt_dict = ground_truth((A, A1), (A, A2))
    dets = [det(A, A2, 0.9), det(A, (0, 0, 10, 4), 0.8)]
    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    gt.write_text(json.dumps(gt_dict))
    dt.write_text(json.dumps(dets))
    out = tmp_path / "errors.json"
    assert main(["errors", str(gt), str(dt), "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == breakdown(gt_dict, dets).to_dict()
    assert "Loc" in capsys.readouterr().out
    # --iou is any threshold (matching again), not only an evaluated one
    assert main(["errors", str(gt), str(dt), "--iou", "0.42", "--background-iou", "0.3"]) == 0
    assert "IoU=0.42" in capsys.readouterr().out
    for bad in (["--background-iou", "0.6"], ["--iou", "2"], ["--area", "huge"]):
        target = tmp_path / "bad.json"
        assert main(["errors", str(gt), str(dt), "--json", str(target), *bad]) == 2
        assert not target.exists()
        err = capsys.readouterr().err
        assert err.startswith("prcore: error:") and err.count("\n") == 1


# ---------------------------------------------------------------- a plain reference


def tide_reference(gt: dict, dets: list, t_f: float = 0.5, t_b: float = 0.1):
    """TIDE's rules written plainly, one detection at a time, on pycocotools' own
    matching (its ``evalImgs``) and its IoUs (``maskUtils.iou``): counts and dAP."""
    from collections import defaultdict

    from pycocotools import mask as mask_utils

    from pycocotools_oracle import run_pycocotools

    ev = run_pycocotools(
        gt, dets, summarize=False, iouThrs=[t_f], areaRng=[[0, 1e10]], areaRngLbl=["all"]
    )
    cat_ids, img_ids = ev.params.catIds, ev.params.imgIds
    dets_out = []
    for k in range(len(cat_ids)):
        for i in range(len(img_ids)):
            e = ev.evalImgs[k * len(img_ids) + i]
            if e is None:
                continue
            for r, did in enumerate(e["dtIds"]):
                match, ignored = int(e["dtMatches"][0, r]), bool(e["dtIgnore"][0, r])
                state = 2 if ignored else (1 if match else 0)
                dets_out.append(
                    {"id": did, "k": k, "i": i, "rank": r, "score": e["dtScores"][r],
                     "state": state, "gt": match}
                )  # fmt: skip
    # the objects pycocotools does not ignore; in an image, by category then file order
    # (ties between equal IoUs go to the first, as prcore breaks them)
    regular = {g for e in ev.evalImgs if e for g, ig in zip(e["gtIds"], e["gtIgnore"]) if not ig}
    objects = [a for a in ev.cocoGt.dataset["annotations"] if a["id"] in regular]
    objects.sort(key=lambda a: cat_ids.index(a["category_id"]))
    used = {d["gt"] for d in dets_out if d["state"] == 1}
    in_image = defaultdict(list)
    for a in objects:
        in_image[a["image_id"]].append(a)

    kinds, targets = {}, {}
    for d in dets_out:
        if d["state"] != 0:
            continue
        here = in_image[img_ids[d["i"]]]
        box = ev.cocoDt.anns[d["id"]]["bbox"]
        ious = (
            list(mask_utils.iou([box], [g["bbox"] for g in here], [0] * len(here))[0])
            if here
            else []
        )  # noqa: E501
        mine = cat_ids[d["k"]]
        same = [(v, g["id"]) for v, g in zip(ious, here) if g["category_id"] == mine and v > 0]
        other = [(v, g["id"]) for v, g in zip(ious, here) if g["category_id"] != mine and v > 0]
        best_same = max(same, key=lambda x: x[0], default=(0.0, None))
        best_other = max(other, key=lambda x: x[0], default=(0.0, None))
        best_used = max((v for v, g in same if g in used), default=0.0)
        if best_same[1] is not None and t_b <= best_same[0] < t_f:
            kinds[d["id"]], targets[d["id"]] = "localization", best_same[1]
        elif best_other[0] >= t_f:
            kinds[d["id"]], targets[d["id"]] = "classification", best_other[1]
        elif best_used >= t_f:
            kinds[d["id"]] = "duplicate"
        elif max(ious, default=0.0) < t_b or max(ious, default=0.0) <= 0:  # none overlaps
            kinds[d["id"]] = "background"
        else:
            kinds[d["id"]] = "both"
    aimed = set(targets.values())
    missed = [a for a in objects if a["id"] not in used and a["id"] not in aimed]
    n_pos = [sum(a["category_id"] == c for a in objects) for c in cat_ids]

    def mean_ap(points, positives):
        """COCOeval.accumulate at one threshold, per class, then the mean; a class
        with neither positives nor detections leaves the mean."""
        aps = []
        for k in range(len(cat_ids)):
            if n_pos[k] == 0:
                continue  # not a class of the base AP
            mine = sorted((p for p in points if p[0] == k), key=lambda p: (-p[1], p[2], p[3]))
            if positives[k] == 0:
                if mine:
                    aps.append(0.0)
                continue
            tp = np.cumsum([p[4] for p in mine]).astype(float)
            fp = np.cumsum([not p[4] for p in mine]).astype(float)
            rc = tp / positives[k]
            pr = list(tp / (fp + tp + np.spacing(1)))
            for j in range(len(pr) - 1, 0, -1):
                pr[j - 1] = max(pr[j - 1], pr[j])
            q = [0.0] * 101
            for ri, pi in enumerate(np.searchsorted(rc, ev.params.recThrs, side="left")):
                if pi >= len(pr):
                    break
                q[ri] = pr[pi]
            aps.append(float(np.mean(q)))
        return float(np.mean(aps))

    def fixed(kind):
        """The points after fixing ``kind``: TIDE's oracle."""
        best = {}
        for d in dets_out:  # the highest-scoring error of this kind on each free object
            t = targets.get(d["id"])
            if kinds.get(d["id"]) == kind and t is not None and t not in used:
                if t not in best or d["score"] > best[t]["score"]:
                    best[t] = d
        winners = {d["id"] for d in best.values()}
        cat_of = {a["id"]: cat_ids.index(a["category_id"]) for a in objects}
        points = []
        for d in dets_out:
            k, tp = d["k"], d["state"] == 1
            if d["state"] == 2:
                continue
            if kinds.get(d["id"]) == kind:
                if d["id"] not in winners:
                    continue
                tp = True
                if kind == "classification":
                    k = cat_of[targets[d["id"]]]
            points.append((k, d["score"], d["i"], d["rank"], tp))
        return points

    base_points = fixed("none")
    base = mean_ap(base_points, n_pos)
    deltas = []
    for kind in ERROR_TYPES[:5]:
        deltas.append(mean_ap(fixed(kind), n_pos) - base)
    fewer = [n - sum(cat_ids.index(a["category_id"]) == k for a in missed)
             for k, n in enumerate(n_pos)]  # fmt: skip
    deltas.append(mean_ap(base_points, fewer) - base)
    counts = [sum(v == kind for v in kinds.values()) for kind in ERROR_TYPES[:5]]
    return base, counts + [len(missed)], deltas


@pytest.mark.parametrize(("seed", "t_f", "t_b"), [(21, 0.5, 0.1), (22, 0.75, 0.3), (23, 0.5, 0.0)])
def test_agrees_with_a_plain_reference_on_generated_boxes(seed, t_f, t_b):
    gt, dets = generate(seed, n_img=30, n_cat=4)
    base, counts, deltas = tide_reference(gt, dets, t_f, t_b)
    eb = prcore.evaluate(gt, dets).error_breakdown(iou=t_f, background_iou=t_b)
    assert eb.counts.tolist() == counts
    assert abs(eb.ap - base) <= 1e-12
    np.testing.assert_allclose(eb.delta_ap, deltas, rtol=0, atol=1e-12)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.sampled_from([(0.5, 0.1), (0.75, 0.3), (0.3, 0.0)]))
def test_agrees_with_the_reference_on_random_small_datasets(data, thresholds):
    gt, dets = data
    if not dets:
        return  # pycocotools' loadRes cannot take []
    t_f, t_b = thresholds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base, counts, deltas = tide_reference(gt, dets, t_f, t_b)
        eb = prcore.evaluate(gt, dets).error_breakdown(iou=t_f, background_iou=t_b)
    assert eb.counts.tolist() == counts
    if not np.isnan(eb.ap):
        assert abs(eb.ap - base) <= 1e-12
        np.testing.assert_allclose(eb.delta_ap, deltas, rtol=0, atol=1e-12)
        # NaN: the Miss fix left no class to average (every object missed, no detection)
        assert (np.nan_to_num(eb.delta_ap) >= -1e-15).all()
