"""Keypoint evaluation (OKS) against pycocotools, array for array.

pycocotools' ``computeOks`` takes ``np.exp`` (numpy's own SIMD code on some
CPUs, not libm's) and ``np.sum`` (pairwise summation) of each pair's terms;
prcore must give the same similarities bit for bit, so the drop-in's
``ious`` are compared element for element, not only the stats. Data: random
persons with visible, invisible and missing keypoints, ground truths with no
visible keypoint (the doubled-box distance rule), ``num_keypoints == 0``
(ignored), crowds, whole-pixel, two-decimal and float32 coordinates, tied
scores, detections with and without boxes; keypoint sets of 17 (COCO), 14
(CrowdPose), 133 (COCO-WholeBody) and 5, with their sigmas.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_dropin_clients import assert_same_eval_imgs, assert_same_ious

import prcore
from prcore.cli import main
from prcore.coco import COCO as DropInCOCO
from prcore.cocoeval import COCOeval as DropInCOCOeval
from prcore.errors import PrcoreInputError
from prcore.params import COCO_PERSON_SIGMAS

CROWDPOSE_SIGMAS = (
    np.array([.79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89, .79, .79]) / 10.0
).tolist()  # fmt: skip
WHOLEBODY_SIGMAS = np.random.default_rng(133).uniform(0.005, 0.11, 133).tolist()
FIVE_SIGMAS = [0.025, 0.035, 0.05, 0.08, 0.107]
SIGMAS = {17: list(COCO_PERSON_SIGMAS), 14: CROWDPOSE_SIGMAS, 133: WHOLEBODY_SIGMAS, 5: FIVE_SIGMAS}
SCORES = [0.1, 0.25, 0.5, 0.5, 0.75, 0.9]  # few values: ties
NATIVE = bool(os.environ.get("PRCORE_TEST_NATIVE"))


def _coord(rng, v, style: str) -> float:
    if style == "int":
        return int(round(v))
    if style == "cents":
        return round(float(v), 2)
    if style == "f32":
        return float(np.float32(v))
    return float(v)


def keypoint_data(seed: int, n_img: int = 6, cats=((1, 17),), box: str = "mixed",
                  style: str | None = None):  # fmt: skip
    """A keypoint ground truth and results, as dicts.

    ``box``: "all" (every result carries a box, as detectron2 writes them),
    "none" (boxes from the keypoints' extent), "mixed" (the first result has
    none, so pycocotools' loadRes takes every box from the extent).
    """
    rng = np.random.default_rng(seed)
    styles = ("int", "cents", "f32", "float")
    images = [{"id": 10 + 3 * i, "width": 640, "height": 480} for i in range(n_img)]
    categories = [
        {"id": c, "name": f"kind{c}", "keypoints": [f"p{j}" for j in range(k)]} for c, k in cats
    ]
    anns: list[dict] = []
    dets: list[dict] = []
    for img in images:
        st_ = style or styles[int(rng.integers(len(styles)))]
        for c, k in cats:
            objects = []
            for _ in range(int(rng.integers(0, 5))):
                x, y = rng.uniform(0, 500, 2)
                w, h = rng.choice([rng.uniform(1, 160, 2), rng.uniform(0.5, 8, 2)])
                if rng.random() < 0.15 and objects:  # a duplicate, or one shifted by a bit
                    x, y, w, h = objects[-1][0] + rng.choice([0, 0.5, 3]), *objects[-1][1:]
                xs, ys = x + rng.uniform(-0.1, 1.1, k) * w, y + rng.uniform(-0.1, 1.1, k) * h
                v = rng.choice([0, 1, 2], k, p=[0.3, 0.2, 0.5])
                if rng.random() < 0.25:
                    v[:] = 0  # no visible keypoint: the doubled-box rule
                kp = []
                for j in range(k):
                    if v[j] == 0 and rng.random() < 0.8:
                        kp += [0, 0, 0]
                    else:
                        kp += [_coord(rng, xs[j], st_), _coord(rng, ys[j], st_), int(v[j])]
                if rng.random() < 0.05:
                    kp = []  # a ground truth may list none
                n_vis = int((v > 0).sum()) if kp else 0
                crowd = int(rng.random() < 0.08)
                count = 0 if crowd and rng.random() < 0.7 else n_vis
                if rng.random() < 0.1:
                    count = int(rng.integers(0, 3))  # the field, not the list, decides
                area = float(w * h * rng.uniform(0.3, 1.0))
                if rng.random() < 0.15:
                    area = float(rng.choice([0, 1, 32**2, 96**2, 9216.5, 1e5]))
                objects.append((x, y, w, h))
                anns.append({
                    "id": len(anns) + 1, "image_id": img["id"], "category_id": c,
                    "bbox": [_coord(rng, t, st_) for t in (x, y, w, h)], "area": area,
                    "iscrowd": crowd, "keypoints": kp, "num_keypoints": count,
                })  # fmt: skip
                for _ in range(int(rng.integers(0, 3))):
                    s = rng.choice([0.0, 0.5, 2, 8, 30])
                    dx, dy = xs + rng.normal(0, s, k), ys + rng.normal(0, s, k)
                    dets.append(_result(rng, img["id"], c, dx, dy, st_))
            for _ in range(int(rng.integers(0, 3))):  # far from everything, or near by chance
                x, y = rng.uniform(0, 600, 2)
                dx, dy = x + rng.uniform(0, 90, k), y + rng.uniform(0, 90, k)
                dets.append(_result(rng, img["id"], c, dx, dy, st_))
    rng.shuffle(dets)
    for d in dets:
        if box == "all" or (box == "mixed" and rng.random() < 0.5):
            xs, ys = d["keypoints"][0::3], d["keypoints"][1::3]
            d["bbox"] = [min(xs) - 1.5, min(ys) - 2, max(xs) - min(xs) + 4, max(ys) - min(ys) + 3]
    if box == "mixed" and dets:
        dets[0].pop("bbox", None)
    gt = {"images": images, "annotations": anns, "categories": categories}
    return gt, dets


def _result(rng, img, cat, xs, ys, style) -> dict:
    score = float(rng.choice(SCORES)) if rng.random() < 0.3 else float(rng.uniform())
    kp = []
    for x, y in zip(xs, ys):
        kp += [_coord(rng, x, style), _coord(rng, y, style), float(np.float32(rng.uniform()))]
    return {"image_id": img, "category_id": cat, "keypoints": kp, "score": score}


# ---------------------------------------------------------------- oracle


def _ground_truth(coco_cls, gt: dict):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = coco_cls()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
    return coco


def run_coco(coco_cls, eval_cls, gt, dets, iou_type="keypoints", summarize=True, **params):
    """pycocotools' (or the drop-in's) COCOeval after evaluate, accumulate and summarize."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = _ground_truth(coco_cls, gt)
        coco_dt = coco_gt.loadRes(copy.deepcopy(dets))
        ev = eval_cls(coco_gt, coco_dt, iou_type)
        for key, value in params.items():
            setattr(ev.params, key, copy.deepcopy(value))
        ev.evaluate()
        ev.accumulate()
        if summarize:
            ev.summarize()
    return ev


def assert_result_equals(result, ev) -> None:
    np.testing.assert_allclose(result.stats, ev.stats, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.precision, ev.eval["precision"])
    np.testing.assert_array_equal(result.recall, ev.eval["recall"])
    np.testing.assert_array_equal(result.scores, ev.eval["scores"])


def check_keypoints(gt, dets, sigmas=None, views=True, **params):
    """prcore.evaluate and the drop-in equal pycocotools (stats, arrays; the drop-in's
    ious and evalImgs element for element when ``views``)."""
    extra = {} if sigmas is None else {"kpt_oks_sigmas": np.array(sigmas)}
    ref = run_coco(COCO, COCOeval, gt, dets, **extra, **params)
    kw = {"kpt_oks_sigmas": sigmas} if sigmas is not None else {}
    if "useCats" in params:
        kw["use_cats"] = bool(params["useCats"])
    if "maxDets" in params:
        kw["max_dets"] = params["maxDets"]
    result = prcore.evaluate(gt, dets, params=prcore.Params(iou_type="keypoints", **kw))
    assert_result_equals(result, ref)
    ours = run_coco(DropInCOCO, DropInCOCOeval, gt, dets, **extra, **params)
    assert_result_equals(
        type("R", (), {"stats": ours.stats, **{k: ours.eval[k] for k in ref.eval if k in (
            "precision", "recall", "scores")}}),
        ref,
    )  # fmt: skip
    if views:
        assert_same_ious(ref, ours)
        assert_same_eval_imgs(ref, ours)
    return ref


# ---------------------------------------------------------------- written out


def _one(gt_kp, dt_kp, bbox=(0.0, 0.0, 50.0, 50.0), area=100.0, count=None, crowd=0):
    gt = {
        "images": [{"id": 1, "width": 100, "height": 100}],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": [{
            "id": 1, "image_id": 1, "category_id": 1, "bbox": list(bbox), "area": area,
            "iscrowd": crowd, "keypoints": gt_kp,
            "num_keypoints": sum(v > 0 for v in gt_kp[2::3]) if count is None else count,
        }],
    }  # fmt: skip
    dets = [{"image_id": 1, "category_id": 1, "keypoints": dt_kp, "score": 0.9}]
    return gt, dets


def _oks(gt, dets, sigmas):
    ev = run_coco(DropInCOCO, DropInCOCOeval, gt, dets, kpt_oks_sigmas=np.array(sigmas))
    return ev.ious[1, 1]


def test_oks_of_one_pair_written_out():
    # sigma 0.5: vars = (2 * 0.5)**2 = 1; d**2 = 6**2 + 8**2 = 100; area 100:
    # e = 100 / 1 / 100 / 2 = 0.5, OKS = exp(-0.5).
    gt, dets = _one([10, 10, 2], [16, 18, 1])
    assert _oks(gt, dets, [0.5]).tolist() == [[0.6065306597126334]]
    # Invisible keypoints do not count: the mean is over the visible one.
    gt, dets = _one([10, 10, 2, 0, 0, 0], [16, 18, 1, 90, 90, 1])
    assert _oks(gt, dets, [0.5, 0.5]).tolist() == [[0.6065306597126334]]


def test_no_visible_keypoint_measures_outside_the_doubled_box():
    # bbox [10, 10, 10, 10] doubled about its centre: x and y in [0, 30]. A
    # keypoint at (35, 20) is 5 outside: e = 25 / 1 / 100 / 2 = 0.125; one at
    # (-4, 33) is 4 and 3 outside: e = 25 / 1 / 100 / 2 as well; one inside: e = 0.
    gt, dets = _one([0, 0, 0, 0, 0, 0, 0, 0, 0], [35, 20, 1, -4, 33, 1, 15, 15, 1],
                    bbox=(10.0, 10.0, 10.0, 10.0), count=3)  # fmt: skip
    # numpy's exp(-0.125) is 0.8824969025845953 here, where libm's (math.exp) is
    # 0.8824969025845955: pycocotools' value is numpy's.
    e = float(np.exp(-0.125))
    assert _oks(gt, dets, [0.5, 0.5, 0.5]).tolist() == [[(e + e + 1.0) / 3]]
    ref = run_coco(COCO, COCOeval, gt, dets, kpt_oks_sigmas=np.array([0.5, 0.5, 0.5]))
    assert ref.ious[1, 1].tolist() == [[(e + e + 1.0) / 3]]
    gt, dets = _one([], [15, 15, 1], bbox=(10.0, 10.0, 10.0, 10.0), count=1)
    assert _oks(gt, dets, [0.5]).tolist() == [[1.0]]


def test_ground_truth_without_keypoints_is_ignored():
    # num_keypoints 0: ignored, whatever its keypoint list; no positives -> -1.
    gt, dets = _one([10, 10, 2], [10, 10, 1], count=0)
    params = prcore.Params(iou_type="keypoints", kpt_oks_sigmas=[0.5])
    result = prcore.evaluate(gt, dets, params=params)
    assert result.stats.tolist() == [-1.0] * 10
    check_keypoints(gt, dets, sigmas=[0.5])
    # With a keypoint counted, a perfect match: AP 1 at 'all' and 'large' is -1 (area 100).
    gt, dets = _one([10, 10, 2], [10, 10, 1])
    result = prcore.evaluate(gt, dets, params=prcore.Params(iou_type="keypoints",
                                                            kpt_oks_sigmas=[0.5]))  # fmt: skip
    # (precision is tp / (tp + fp + eps), a hair below 1, as pycocotools gives it)
    want = [1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0, -1.0, -1.0]
    assert result.stats.tolist() == pytest.approx(want, abs=1e-15)
    check_keypoints(gt, dets, sigmas=[0.5])


@pytest.mark.skipif(NATIVE, reason="calls a numba helper the build does not export")
def test_pairwise_sum_is_numpys():
    from prcore._kernels.similarity import pairwise_sum

    rng = np.random.default_rng(0)
    for n in [*range(0, 300), 1000, 1031, 4099]:
        a = np.exp(-rng.exponential(rng.choice([0.1, 3.0, 50.0]), n + 3)) * rng.choice(
            [1.0, 1e-300, 1e300]
        )
        assert pairwise_sum(a, 3, n) == np.sum(a[3:]), n


# ---------------------------------------------------------------- against pycocotools


@pytest.mark.parametrize("box", ["mixed", "all", "none"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_person_keypoints(seed, box):
    gt, dets = keypoint_data(seed, n_img=12, box=box)
    check_keypoints(gt, dets)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    box=st.sampled_from(["mixed", "all", "none"]),
    style=st.sampled_from([None, "int", "cents", "f32", "float"]),
)
def test_random_keypoint_datasets(seed, box, style):
    gt, dets = keypoint_data(seed, n_img=4, box=box, style=style)
    check_keypoints(gt, dets)


@pytest.mark.parametrize("k", [14, 133, 5])
def test_other_keypoint_sets_with_their_sigmas(k):
    gt, dets = keypoint_data(40 + k, n_img=8, cats=((3, k),), box="all")
    check_keypoints(gt, dets, sigmas=SIGMAS[k])


def test_sigmas_per_category():
    """Two keypoint sets in one file: pycocotools takes one sigma list, so each category
    is checked against pycocotools run on that category alone with its own sigmas."""
    gt, dets = keypoint_data(7, n_img=10, cats=((1, 17), (4, 5)), box="none")
    params = prcore.Params(iou_type="keypoints", kpt_oks_sigmas={4: FIVE_SIGMAS})
    result = prcore.evaluate(gt, dets, params=params)
    for k, (cat, n) in enumerate([(1, 17), (4, 5)]):
        ref = run_coco(COCO, COCOeval, gt, dets, catIds=[cat], kpt_oks_sigmas=np.array(SIGMAS[n]))
        for key, ours in (("precision", result.precision), ("scores", result.scores)):
            np.testing.assert_array_equal(ours[:, :, k : k + 1], ref.eval[key])
        np.testing.assert_array_equal(result.recall[:, k : k + 1], ref.eval["recall"])
    # the drop-in takes the same mapping on its params
    ours = run_coco(DropInCOCO, DropInCOCOeval, gt, dets, kpt_oks_sigmas={4: FIVE_SIGMAS})
    np.testing.assert_array_equal(ours.eval["precision"], result.precision)


@pytest.mark.parametrize(
    "params",
    [
        {"useCats": 0},  # computeOks reads the empty cell (image, -1): nothing matches
        {"maxDets": [1, 2]},
        {"iouThrs": np.array([0.0, 0.5, 1.0])},
        {"areaRng": [[0, 1e10], [0, 900], [900, 1e10]], "areaRngLbl": ["all", "a", "b"]},
    ],
    ids=["no_cats", "max_dets", "iou_thrs", "area_rng"],
)
def test_keypoint_params(params):
    gt, dets = keypoint_data(11, n_img=10, cats=((1, 17), (2, 17)))
    ref = run_coco(COCO, COCOeval, gt, dets, summarize=False, **params)
    ours = run_coco(DropInCOCO, DropInCOCOeval, gt, dets, summarize=False, **params)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], ref.eval[key], err_msg=key)
    assert_same_ious(ref, ours)
    assert_same_eval_imgs(ref, ours)
    names = {"useCats": "use_cats", "maxDets": "max_dets", "iouThrs": "iou_thrs",
             "areaRng": "area_rng", "areaRngLbl": "area_rng_lbl"}  # fmt: skip
    kw = {names[k]: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in params.items()}
    result = prcore.evaluate(gt, dets, params=prcore.Params(iou_type="keypoints", **kw))
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(getattr(result, key), ref.eval[key], err_msg=key)


def test_files_and_command_line(tmp_path):
    gt, dets = keypoint_data(5, n_img=15, box="mixed")
    ref = check_keypoints(gt, dets, views=False)
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    assert_result_equals(prcore.evaluate(gt_path, dt_path, iou_type="keypoints"), ref)
    arrays = tmp_path / "a.npz"
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["eval", str(gt_path), str(dt_path), "--iou-type", "keypoints",
                     "--arrays", str(arrays)])  # fmt: skip
    assert code == 0
    saved = np.load(arrays)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(saved[key], ref.eval[key])
    assert "maxDets= 20" in out.getvalue()


def test_command_line_sigmas(tmp_path):
    gt, dets = keypoint_data(9, n_img=8, cats=((1, 17), (4, 5)), box="all")
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    arrays = tmp_path / "a.npz"
    flag = "4=" + ",".join(map(repr, FIVE_SIGMAS))
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["eval", str(gt_path), str(dt_path), "--iou-type", "keypoints",
                     "--kpt-sigmas", flag, "--arrays", str(arrays)])  # fmt: skip
    assert code == 0
    params = prcore.Params(iou_type="keypoints", kpt_oks_sigmas={4: FIVE_SIGMAS})
    want = prcore.evaluate(gt, dets, params=params)
    np.testing.assert_array_equal(np.load(arrays)["precision"], want.precision)


# ---------------------------------------------------------------- bad input


def _errors(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("prcore: error: ")
    return err


def test_keypoint_count_without_sigmas_names_the_category(tmp_path, capsys):
    gt, dets = keypoint_data(3, n_img=4, cats=((3, 14),), box="all")
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets, iou_type="keypoints")
    text = str(info.value)
    assert "category 3 ('kind3') has 14 keypoints" in text
    assert "COCO's person sigmas are 17" in text
    assert info.value.field == "keypoints" and info.value.section == "annotations"
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    err = _errors(capsys, ["eval", str(gt_path), str(dt_path), "--iou-type", "keypoints"])
    assert str(gt_path) in err and "14 keypoints" in err and "--kpt-sigmas 3=" in err
    # given the wrong number of sigmas for it
    err = _errors(capsys, ["eval", str(gt_path), str(dt_path), "--iou-type", "keypoints",
                           "--kpt-sigmas", "3=0.1,0.2"])  # fmt: skip
    assert "has 14 keypoints here, but its OKS sigmas are 2" in err


def test_result_with_another_keypoint_count(tmp_path):
    gt, dets = keypoint_data(4, n_img=4, box="all")
    dets[2]["keypoints"] = dets[2]["keypoints"][:-3]
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets, iou_type="keypoints")
    err = info.value
    assert err.index == 2 and err.field == "keypoints" and "16 keypoints" in str(err)


@pytest.mark.parametrize(
    "change, field, message",
    [
        (lambda a: a.pop("keypoints"), "keypoints", "is missing"),
        (lambda a: a.pop("num_keypoints"), "num_keypoints", "is missing"),
        (lambda a: a.update(keypoints=[1, 2]), "keypoints", "multiple of 3"),
        (lambda a: a.update(keypoints=[1, "2", 2]), "keypoints", "expected a number"),
        (lambda a: a.update(keypoints=[1, math.nan, 2]), "keypoints", "finite"),
        (lambda a: a.update(num_keypoints=-1), "num_keypoints", ">= 0"),
        (lambda a: a.update(num_keypoints="3"), "num_keypoints", "expected a number"),
    ],
    ids=["no_keypoints", "no_count", "not_triples", "string", "nan", "negative", "count_str"],
)
def test_bad_ground_truth_keypoints(change, field, message):
    gt, dets = keypoint_data(6, n_img=4, box="all")
    change(gt["annotations"][3])
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets, iou_type="keypoints")
    err = info.value
    assert (err.section, err.index, err.field) == ("annotations", 3, field), str(err)
    assert message in str(err)
    # a box evaluation does not read them
    prcore.evaluate(gt, dets)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("keypoints"), "is missing"),
        (lambda d: d.update(keypoints=[]), "non-empty multiple of 3"),
        (lambda d: d.update(keypoints=[1.0, 2.0]), "multiple of 3"),
        (lambda d: d.update(keypoints=None), "expected a list"),
    ],
    ids=["missing", "empty", "not_triples", "null"],
)
def test_bad_result_keypoints(change, message):
    gt, dets = keypoint_data(6, n_img=4, box="all")
    change(dets[5])
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets, iou_type="keypoints")
    assert (info.value.index, info.value.field) == (5, "keypoints"), str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--kpt-sigmas", "0.1,x"], "expected S,S,..."),
        (["--kpt-sigmas", "a=0.1"], "expected S,S,..."),
        (["--kpt-sigmas", "0.1,-0.2"], "must be positive"),
        (["--kpt-sigmas", "1=0.1", "--kpt-sigmas", "1=0.2"], "given twice"),
        (["--kpt-sigmas", "0.1", "--kpt-sigmas", "1=0.2"], "either one list"),
        (["--iou-type", "bbox", "--kpt-sigmas", "0.1"], "applies to --iou-type keypoints"),
        (["--iou-type", "polygons"], "invalid choice"),
    ],
)
def test_bad_command_line_sigmas(capsys, argv, message):
    # before any file is read: the paths do not exist
    argv = ["eval", "/nonexistent/gt.json", "/nonexistent/dt.json", *argv]
    if "--iou-type" not in argv:
        argv += ["--iou-type", "keypoints"]
    assert message in _errors(capsys, argv)


def test_params_sigmas():
    p = prcore.Params(iou_type="keypoints")
    assert p.kpt_oks_sigmas == COCO_PERSON_SIGMAS and len(p.sigmas_for(5)) == 17
    p = prcore.Params(iou_type="keypoints", kpt_oks_sigmas={4: FIVE_SIGMAS, 2: [0.1]})
    assert p.kpt_oks_sigmas == ((2, (0.1,)), (4, tuple(FIVE_SIGMAS)))
    assert p.sigmas_for(4) == tuple(FIVE_SIGMAS) and p.sigmas_for(1) == COCO_PERSON_SIGMAS
    assert prcore.Params(iou_type="keypoints", kpt_oks_sigmas=p.kpt_oks_sigmas) == p
    hash(p)
    for bad in ({1: []}, [0.1, 0.0], {"x": [0.1]}, "0.1", [(1, [0.1]), (1, [0.2])]):
        with pytest.raises(PrcoreInputError):
            prcore.Params(iou_type="keypoints", kpt_oks_sigmas=bad)
    with pytest.raises(PrcoreInputError):
        prcore.Params(iou_type="bbox", kpt_oks_sigmas=[0.1])


def test_sweep_and_views():
    """The sweep's rows are pycocotools' stats on the detections scoring at least the cut;
    the views read the 10 keypoint stats."""
    gt, dets = keypoint_data(12, n_img=12, box="all")
    result = prcore.evaluate(gt, dets, iou_type="keypoints")
    sweep = result.sweep([0.3, 0.6])
    for row in sweep.rows:
        kept = [d for d in dets if d["score"] >= row.score_threshold]
        ref = run_coco(COCO, COCOeval, gt, kept)
        np.testing.assert_allclose(row.stats, ref.stats, rtol=0, atol=1e-12)
    assert sweep.to_text().splitlines()[0].split()[-3:] == ["AR75", "ARm", "ARl"]
    assert list(result.stats_dict()) == ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50",
                                         "AR75", "ARm", "ARl"]  # fmt: skip
    report = json.loads(result.to_json())
    assert report["stat_names"] == list(result.stats_dict())
    assert len(report["stats"]) == 10
