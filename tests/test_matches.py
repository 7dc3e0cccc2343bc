"""Per-object results (``result.matches``): every detection and ground truth
labelled, checked object for object against pycocotools' ``evalImgs``
(``dtMatches``, ``dtIgnore``, ``dtScores``, ``gtMatches``, ``gtIgnore``) and
``ious``, for boxes with crowds, masks and keypoints; and ``prcore matches``.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_keypoints import keypoint_data, run_coco
from test_operating_points import small
from test_oracle_generated import generate
from test_oracle_property import datasets
from test_segm import segm_data

import prcore
from prcore.cli import main
from prcore.objects import CSV_COLUMNS, DETECTION_LABELS, GROUND_TRUTH_LABELS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools.mask


def _rows(columns) -> dict[int, dict]:
    names = list(vars(columns))
    return {
        int(i): dict(zip(names, values))
        for i, values in zip(
            columns.id.tolist(), zip(*(getattr(columns, n).tolist() for n in names))
        )
    }


# ---------------------------------------------------------------- written out


@pytest.fixture(scope="module")
def small_result():
    return prcore.evaluate(*small())


def _labels(columns):
    return dict(zip(columns.id.tolist(), zip(columns.label.tolist(), _matched(columns))))


def _matched(columns):
    ids = columns.gt_id if hasattr(columns, "gt_id") else columns.det_id
    return ids.tolist()


def test_labels_written_out(small_result):
    m = small_result.matches()
    assert (m.iou, m.area, m.max_dets, m.iou_type) == (0.5, "all", 100, "bbox")
    assert _labels(m.detections) == {
        1: ("tp", 1), 2: ("fp", -1), 3: ("tp", 2), 4: ("fp", -1),
        5: ("tp", 3), 6: ("ignored", 4), 7: ("ignored", 4), 8: ("fp", -1),
    }  # fmt: skip
    # the crowd absorbed detections 6 and 7; gtMatches keeps the last, 7
    assert _labels(m.ground_truths) == {
        1: ("matched", 1),
        2: ("matched", 3),
        3: ("matched", 5),
        4: ("ignored", 7),
    }
    d = m.detections
    np.testing.assert_array_equal(d.iou, [1, np.nan, 1, np.nan, 1, 1, 0.64, np.nan])
    np.testing.assert_array_equal(d.score, [0.9, 0.8, 0.3, 0.6, 0.7, 0.95, 0.5, 0.4])
    np.testing.assert_array_equal(d.category_id, [1, 1, 1, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(d.image_id, [1] * 8)
    np.testing.assert_array_equal(m.ground_truths.iou, [1, 1, 1, 0.64])
    np.testing.assert_array_equal(m.ground_truths.iscrowd, [False, False, False, True])
    assert m.counts()["detections"] == {
        "tp": 3, "fp": 3, "ignored": 2, "cut": 0, "not_evaluated": 0
    }  # fmt: skip


def test_area_range_written_out(small_result):
    # every object is below 1024 px: at 'medium' the ground truths are ignored, the
    # detections that matched one are ignored, and so are the others (outside the range)
    m = small_result.matches(area="medium")
    assert set(m.detections.label.tolist()) == {"ignored"}
    assert _labels(m.ground_truths) == {
        1: ("ignored", 1),
        2: ("ignored", 3),
        3: ("ignored", 5),
        4: ("ignored", 7),
    }
    assert m.detections.gt_id.tolist() == [1, -1, 2, -1, 3, 4, 4, -1]


def test_max_dets_cut_written_out(small_result):
    m = small_result.matches(max_dets=1)
    assert _labels(m.detections) == {
        1: ("tp", 1), 2: ("cut", -1), 3: ("cut", -1), 4: ("cut", -1),
        5: ("cut", -1), 6: ("ignored", 4), 7: ("cut", -1), 8: ("cut", -1),
    }  # fmt: skip
    assert _labels(m.ground_truths) == {
        1: ("matched", 1),
        2: ("missed", -1),
        3: ("missed", -1),
        4: ("ignored", 6),
    }
    assert math.isnan(m.ground_truths.iou[1]) and m.ground_truths.iou[3] == 1.0


def test_categories_not_evaluated_written_out():
    result = prcore.evaluate(*small(), params=prcore.Params(cat_ids=[1]))
    m = result.matches()
    assert m.detections.label.tolist()[4:] == ["not_evaluated"] * 4
    assert m.ground_truths.label.tolist() == ["matched", "matched"] + ["not_evaluated"] * 2


def test_an_iou_not_evaluated(small_result):
    # at 0.7 the crowd keeps only the detection inside it entirely (0.64 < 0.7)
    m = small_result.matches(iou=0.7)
    assert m.iou == 0.7
    assert m.detections.label.tolist()[5:] == ["ignored", "fp", "fp"]
    assert _labels(m.ground_truths)[4] == ("ignored", 6)


def test_no_ground_truth_or_no_detection():
    gt, dets = small()
    nothing = prcore.evaluate({**gt, "annotations": []}, dets).matches()
    assert nothing.detections.label.tolist() == ["fp"] * 8
    assert nothing.ground_truths.id.tolist() == []
    assert np.isnan(nothing.detections.iou).all()
    none = prcore.evaluate(gt, []).matches(max_dets=1)
    assert none.detections.id.tolist() == []
    assert none.ground_truths.label.tolist() == ["missed"] * 3 + ["ignored"]
    assert none.to_csv().count("\n") == 5 and json.loads(none.to_json())["detections"] == []


def test_values_are_frozen_and_serialise(small_result):
    m = small_result.matches()
    with pytest.raises(ValueError):
        m.detections.label[0] = "fp"
    records = m.to_records()
    assert records["detections"][1] == {
        "id": 2, "image_id": 1, "category_id": 1, "score": 0.8, "label": "fp", "gt_id": -1,
        "iou": None,
    }  # fmt: skip
    assert records["ground_truths"][3] == {
        "id": 4, "image_id": 1, "category_id": 2, "area": 900.0, "iscrowd": True,
        "label": "ignored", "det_id": 7, "iou": 0.64,
    }  # fmt: skip
    data = json.loads(m.to_json())
    assert data == json.loads(json.dumps({**m.to_dict()}, allow_nan=False))
    assert data["iou"] == 0.5 and len(data["detections"]) == 8
    rows = list(csv.DictReader(io.StringIO(m.to_csv())))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 12
    assert rows[1] == {
        "kind": "detection", "id": "2", "image_id": "1", "category_id": "1", "score": "0.8",
        "area": "", "iscrowd": "", "label": "fp", "matched_id": "", "iou": "",
    }  # fmt: skip
    assert rows[11] == {
        "kind": "ground_truth", "id": "4", "image_id": "1", "category_id": "2", "score": "",
        "area": "900.0", "iscrowd": "1", "label": "ignored", "matched_id": "7", "iou": "0.64",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"iou": 1.5}, "iou"), ({"iou": "0.5"}, "iou"), ({"area": "huge"}, "area"),
     ({"max_dets": 7}, "max_dets")],
)  # fmt: skip
def test_bad_arguments_name_the_field(small_result, kwargs, field):
    with pytest.raises(prcore.PrcoreInputError) as info:
        small_result.matches(**kwargs)
    assert info.value.field == field


# ---------------------------------------------------------------- against pycocotools


def assert_same_as_eval_imgs(m, ev, t: int, a: int, gt: dict, dets: list) -> int:
    """Every object's label, match and similarity as pycocotools' evalImgs and ious
    give them at IoU threshold ``t`` and area range ``a`` (``ev`` run with one maxDets).
    Returns how many similarities it compared."""
    p = ev._paramsEval
    det_rows, gt_rows = _rows(m.detections), _rows(m.ground_truths)
    seen_d, seen_g = set(), set()
    checked_iou = 0
    for e in ev.evalImgs:
        if e is None or e["aRng"] != p.areaRng[a]:
            continue
        img, cat = e["image_id"], e["category_id"]
        # the cell's ground truths in the order of ious' columns (computeIoU)
        cats = [cat] if p.useCats else p.catIds
        columns = [g["id"] for c in cats for g in ev._gts[img, c]]
        ious = ev.ious[img, cat]
        for j, did in enumerate(e["dtIds"]):
            row = det_rows[did]
            seen_d.add(did)
            matched = int(e["dtMatches"][t, j])
            want = "ignored" if e["dtIgnore"][t, j] else ("tp" if matched else "fp")
            assert (row["label"], row["gt_id"]) == (want, matched or -1), did
            assert row["score"] == e["dtScores"][j] and row["image_id"] == img
            if p.useCats:
                assert row["category_id"] == cat
            if matched and len(ious):
                assert row["iou"] == ious[j, columns.index(matched)], did
                checked_iou += 1
            elif not matched:
                assert math.isnan(row["iou"])
        for j, gid in enumerate(e["gtIds"]):
            row = gt_rows[gid]
            seen_g.add(gid)
            det = int(e["gtMatches"][t, j])
            want = "ignored" if e["gtIgnore"][j] else ("matched" if det else "missed")
            assert (row["label"], row["det_id"]) == (want, det or -1), gid
            if det and len(ious):
                assert row["iou"] == det_rows[det]["iou"] or det_rows[det]["gt_id"] != gid
    # what evalImgs leaves out: beyond the maxDets cut, or outside the ids evaluated
    img_ids, cat_ids = set(p.imgIds), set(p.catIds)
    for i, d in enumerate(dets):
        if i + 1 in seen_d:
            continue
        inside = d["image_id"] in img_ids and d["category_id"] in cat_ids
        assert det_rows[i + 1]["label"] == ("cut" if inside else "not_evaluated"), i + 1
        assert det_rows[i + 1]["gt_id"] == -1
    for ann in gt["annotations"]:
        if ann["id"] not in seen_g:
            assert gt_rows[ann["id"]]["label"] == "not_evaluated"
    assert len(det_rows) == len(dets) and len(gt_rows) == len(gt["annotations"])
    return checked_iou


def _check(gt, dets, iou_type="bbox", evaluated=None, **params):
    """For each maxDets, IoU threshold and area range: matches equal evalImgs."""
    kw = {}
    names = {"imgIds": "img_ids", "catIds": "cat_ids", "useCats": "use_cats"}
    for key, value in params.items():
        kw[names[key]] = bool(value) if key == "useCats" else value
    result = prcore.evaluate(gt, dets, params=prcore.Params(iou_type=iou_type, **kw))
    labels, checked_iou = set(), 0
    for max_det in result.params.max_dets:
        ev = run_coco(COCO, COCOeval, gt, dets, iou_type=iou_type, summarize=False,
                      maxDets=[max_det], **params)  # fmt: skip
        for t, iou in [(0, 0.5), (5, 0.75)]:
            for a, area in enumerate(result.params.area_rng_lbl):
                m = result.matches(iou=iou, area=area, max_dets=max_det)
                checked_iou += assert_same_as_eval_imgs(m, ev, t, a, gt, dets)
                labels |= set(m.detections.label.tolist()) | set(m.ground_truths.label.tolist())
    if params.get("useCats", 1) or iou_type != "keypoints":  # computeOks: none with useCats=0
        assert checked_iou > 0
    return labels


@pytest.mark.parametrize("seed", [0, 1])
def test_boxes_with_crowds(seed):
    gt, dets = generate(seed, n_img=40, n_cat=5)
    crowds = [a for a in gt["annotations"] if a["iscrowd"]]
    assert crowds
    # a detection covering each crowd, so that crowds absorb detections
    dets += [{"image_id": a["image_id"], "category_id": a["category_id"],
              "bbox": a["bbox"], "score": 0.5} for a in crowds]  # fmt: skip
    labels = _check(gt, dets)
    assert labels >= {"tp", "fp", "ignored", "cut", "matched", "missed"}


def test_subsets_and_no_cats():
    gt, dets = generate(3, n_img=30, n_cat=5)
    img_ids = sorted(im["id"] for im in gt["images"])[::2]
    cat_ids = sorted(c["id"] for c in gt["categories"])[1:4]
    labels = _check(gt, dets, imgIds=img_ids, catIds=cat_ids)
    assert "not_evaluated" in labels
    _check(gt, dets, useCats=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_masks(seed):
    gt, dets = segm_data(seed, n_img=8)
    assert any(a["iscrowd"] for a in gt["annotations"])
    labels = _check(gt, dets, iou_type="segm")
    assert labels >= {"tp", "fp", "matched", "missed", "ignored"}


def test_keypoints():
    gt, dets = keypoint_data(0, n_img=12)
    labels = _check(gt, dets, iou_type="keypoints")
    assert labels >= {"tp", "fp", "matched", "missed", "ignored"}
    # computeOks reads the empty (image, -1) cell: with useCats=0 nothing matches
    labels = _check(gt, dets, iou_type="keypoints", useCats=0)
    assert "tp" not in labels and "fp" in labels


# ---------------------------------------------------------------- command line


@pytest.fixture()
def files(tmp_path):
    gt, dets = small()
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    return str(tmp_path / "gt.json"), str(tmp_path / "dt.json")


def test_cli_writes_csv_and_json(files, small_result, tmp_path, capsys):
    out_csv, out_json = tmp_path / "m.csv", tmp_path / "m.json"
    argv = ["matches", *files, "--csv", str(out_csv), "--json", str(out_json)]
    assert main(argv) == 0
    m = small_result.matches()
    assert out_csv.read_text() == m.to_csv()
    assert json.loads(out_json.read_text()) == json.loads(m.to_json())
    text = capsys.readouterr().out.splitlines()
    assert text == [
        "Matches at IoU=0.5, area=all, maxDets=100 (bbox)",
        "detections: tp 3, fp 3, ignored 2, cut 0, not_evaluated 0",
        "ground truths: matched 3, missed 0, ignored 1, not_evaluated 0",
    ]


def test_cli_flags(files, small_result, tmp_path, capsys):
    out = tmp_path / "m.json"
    argv = ["matches", *files, "--iou", "0.7", "--area", "small", "--max-dets", "1"]
    assert main([*argv, "--json", str(out)]) == 0
    want = prcore.evaluate(*small(), params=prcore.Params(max_dets=[1]))
    assert json.loads(out.read_text()) == json.loads(want.matches(0.7, "small").to_json())
    assert "IoU=0.7, area=small, maxDets=1" in capsys.readouterr().out
    assert main(["matches", *files, "--cat-ids", "1", "--json", str(out)]) == 0
    labels = [d["label"] for d in json.loads(out.read_text())["detections"]]
    assert labels[4:] == ["not_evaluated"] * 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--iou", "1.5"], "--iou must be in [0, 1]"),
        (["--iou", "x"], "invalid float value"),
        (["--area", "huge"], "--area 'huge' is not among the area ranges"),
        (["--max-dets", "0"], "--max-dets"),
        (["--csv", "nowhere/m.csv"], "does not exist"),
        (["--iou-type", "segm"], "segmentation"),
    ],
)
def test_cli_errors_write_nothing(files, tmp_path, capsys, extra, message):
    before = sorted(p.name for p in tmp_path.iterdir())
    out = ["--json", str(tmp_path / "m.json")]
    extra = [str(tmp_path / x) if x.startswith("nowhere") else x for x in extra]
    assert main(["matches", *files, *extra, *out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_label_vocabulary():
    assert DETECTION_LABELS == ("tp", "fp", "ignored", "cut", "not_evaluated")
    assert GROUND_TRUTH_LABELS == ("matched", "missed", "ignored", "not_evaluated")


@pytest.mark.parametrize(
    "flags",
    [["--iou-thrs", "0.5,2"], ["--max-dets", "1,x"], ["--area-rng", "small=10:5"],
     ["--iou", "1.5"], ["--area", "huge"], ["--csv", "nowhere/m.csv"]],
)  # fmt: skip
def test_cli_refuses_before_reading(flags, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("evaluated despite a bad flag")

    monkeypatch.setattr(prcore, "evaluate", never)
    assert main(["matches", "missing_gt.json", "missing_dt.json", *flags]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.out == ""


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(datasets(), st.sampled_from([1, 2, 100]), st.booleans())
def test_random_datasets(data, max_det, use_cats):
    """Small random datasets (equal IoUs, crowds, area bounds, ties): evalImgs, object
    for object."""
    gt, dets = data
    assume(dets)  # pycocotools' loadRes fails on an empty list
    result = prcore.evaluate(gt, dets, params=prcore.Params(max_dets=[max_det], use_cats=use_cats))
    ev = run_coco(COCO, COCOeval, gt, dets, iou_type="bbox", summarize=False,
                  maxDets=[max_det], useCats=int(use_cats))  # fmt: skip
    for t, iou in [(0, 0.5), (5, 0.75)]:
        for a, area in enumerate(result.params.area_rng_lbl):
            assert_same_as_eval_imgs(result.matches(iou, area), ev, t, a, gt, dets)
