"""Mask evaluation (``iou_type="segm"``) against pycocotools, array for array.

Ground truth as pycocotools' ``annToRLE`` reads it: polygons (several parts
to one object, duplicate vertices, self-crossing outlines, parts beyond the
image border or sub-pixel small), uncompressed RLE (crowds) and compressed
RLE (holes, odd shapes); results as compressed RLE, as detectron2 writes
them, with and without boxes. The drop-in's ``ious`` and ``evalImgs`` are
compared element for element. Malformed masks are one located error.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_dropin_clients import assert_same_eval_imgs, assert_same_ious
from test_keypoints import assert_result_equals, run_coco

import prcore
from prcore.cli import main
from prcore.coco import COCO as DropInCOCO
from prcore.cocoeval import COCOeval as DropInCOCOeval
from prcore.errors import PrcoreInputError

# pycocotools.mask.decode under numpy 2 warns about __array__'s copy keyword
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _coords(rng, pts: np.ndarray) -> list:
    style = rng.integers(4)
    if style == 0:
        pts = np.round(pts)
    elif style == 1:
        pts = np.round(pts, 2)
    elif style == 2:
        pts = pts.astype(np.float32).astype(np.float64)
    return pts.ravel().tolist()


def _polygon(rng, cx, cy, r) -> list:
    k = int(rng.integers(3, 14))
    kind = rng.integers(5)
    if kind == 0:  # a box, maybe across the border
        x0, y0 = cx - r, cy - rng.uniform(0.3, 1) * r
        pts = np.array([[x0, y0], [x0, cy + r], [cx + r, cy + r], [cx + r, y0]])
    elif kind == 1:  # random points: self-crossing outlines
        pts = np.stack([cx + rng.uniform(-r, r, k), cy + rng.uniform(-r, r, k)], 1)
    elif kind == 2:  # sub-pixel small
        pts = np.stack([cx + rng.uniform(-0.6, 0.6, k), cy + rng.uniform(-0.6, 0.6, k)], 1)
    else:  # star-shaped
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = r * rng.uniform(0.3, 1.0, k)
        pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
    if rng.random() < 0.25:  # repeated vertices
        j = int(rng.integers(len(pts)))
        pts = np.insert(pts, j, pts[j], axis=0)
    return _coords(rng, pts)


def _runs(m: np.ndarray) -> list[int]:
    """Uncompressed RLE counts of a mask (column-major, background first)."""
    flat = m.ravel(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat.size and flat[0] else runs


def _blob(rng, h, w, cx, cy, r) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    d2 = (xx - cx) ** 2 + (yy - cy) ** 2
    m = d2 < r * r
    if rng.random() < 0.5:
        m &= d2 > (r * rng.uniform(0.2, 0.6)) ** 2  # a hole
    if rng.random() < 0.3:
        m |= rng.random((h, w)) < 0.03  # specks
    return np.asfortranarray(m.astype(np.uint8))


def _compressed(m: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(m))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode()}


def _rle_of(seg, h, w):
    if isinstance(seg, list):
        return mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
    if isinstance(seg["counts"], list):
        return mask_utils.frPyObjects(seg, h, w)
    return seg


def segm_data(seed: int, n_img: int = 5, n_cat: int = 2, box: str = "all"):
    """A ground truth with masks of every kind and compressed-RLE results, as dicts.

    ``box``: "all" (every result carries a box, as detectron2 writes them),
    "none" (areas and boxes from the masks), "mixed" (the first result has
    none, so loadRes takes every area from the masks).
    """
    rng = np.random.default_rng(seed)
    images = [
        {"id": 2 * i + 1, "width": int(rng.integers(12, 80)), "height": int(rng.integers(12, 80))}
        for i in range(n_img)
    ]
    cats = [{"id": 3 * c + 1, "name": f"k{c}"} for c in range(n_cat)]
    anns: list[dict] = []
    dets: list[dict] = []
    for img in images:
        h, w = img["height"], img["width"]
        for cat in cats:
            for _ in range(int(rng.integers(0, 4))):
                cx, cy = rng.uniform(-4, w + 4), rng.uniform(-4, h + 4)
                r = rng.uniform(1, 25)
                crowd = int(rng.random() < 0.15)
                kind = rng.random()
                if crowd:
                    seg = {"size": [h, w], "counts": _runs(_blob(rng, h, w, cx, cy, r))}
                elif kind < 0.15:
                    seg = _compressed(_blob(rng, h, w, cx, cy, r))
                else:
                    seg = [_polygon(rng, cx + (p > 0) * rng.uniform(-r, r),
                                    cy + (p > 0) * rng.uniform(-r, r), r)
                           for p in range(int(rng.choice([1, 1, 1, 2, 3])))]  # fmt: skip
                rle = _rle_of(seg, h, w)
                area = float(mask_utils.area(rle))
                if rng.random() < 0.2:
                    area = float(rng.choice([0, 32**2, 96**2, rng.uniform(0, 3000)]))
                anns.append({
                    "id": len(anns) + 1, "image_id": img["id"], "category_id": cat["id"],
                    "segmentation": seg, "area": area, "bbox": mask_utils.toBbox(rle).tolist(),
                    "iscrowd": crowd,
                })  # fmt: skip
                truth = mask_utils.decode(rle)
                for _ in range(int(rng.integers(0, 3))):
                    m = np.roll(truth, tuple(rng.integers(-3, 4, 2)), axis=(0, 1))
                    m = m ^ (rng.random(m.shape) < rng.choice([0, 0.02, 0.1]))
                    if rng.random() < 0.1:
                        m = truth.copy()  # a perfect one
                    dets.append(_result(rng, img["id"], cat["id"], m.astype(np.uint8)))
            for _ in range(int(rng.integers(0, 2))):
                m = (rng.random((h, w)) < rng.choice([0.0, 0.05])).astype(np.uint8)
                dets.append(_result(rng, img["id"], cat["id"], m))
    rng.shuffle(dets)
    for d in dets:
        if box == "all" or (box == "mixed" and rng.random() < 0.5):
            bb = mask_utils.toBbox(d["segmentation"]).tolist()
            if rng.random() < 0.5:  # a detector's box, not the mask's
                bb = [bb[0] - 1.5, bb[1] + 0.25, bb[2] + 3, abs(bb[3] - 1)]
            d["bbox"] = bb
    if box == "mixed" and dets:
        dets[0].pop("bbox", None)
    return {"images": images, "annotations": anns, "categories": cats}, dets


def _result(rng, img, cat, m) -> dict:
    score = float(rng.choice([0.3, 0.5, 0.5, 0.9])) if rng.random() < 0.3 else float(rng.uniform())
    return {"image_id": img, "category_id": cat, "segmentation": _compressed(m), "score": score}


def check_segm(gt, dets, iou_type="segm", views=True, **params):
    """prcore.evaluate and the drop-in equal pycocotools (stats, arrays; the drop-in's
    ious and evalImgs element for element when ``views``)."""
    ref = run_coco(COCO, COCOeval, gt, dets, iou_type=iou_type, **params)
    kw = {"use_cats": bool(params["useCats"])} if "useCats" in params else {}
    result = prcore.evaluate(gt, dets, params=prcore.Params(iou_type=iou_type, **kw))
    assert_result_equals(result, ref)
    ours = run_coco(DropInCOCO, DropInCOCOeval, gt, dets, iou_type=iou_type, **params)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], ref.eval[key], err_msg=key)
    np.testing.assert_allclose(ours.stats, ref.stats, rtol=0, atol=1e-12)
    if views:
        assert_same_ious(ref, ours)
        assert_same_eval_imgs(ref, ours)
    return ref


# ---------------------------------------------------------------- written out


def test_mask_iou_written_out():
    # A 4 x 4 square (16 pixels) and a detection of its left half (8): IoU 0.5; a
    # crowd of the same square: the union is the detection's area, IoU 1.
    gt = {
        "images": [{"id": 1, "height": 10, "width": 10}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 4, 4], "area": 16,
             "iscrowd": 0, "segmentation": [[2, 2, 2, 6, 6, 6, 6, 2]]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [2, 2, 4, 4], "area": 16,
             "iscrowd": 1, "segmentation": {"size": [10, 10],
                                            "counts": [22, 4, 6, 4, 6, 4, 6, 4, 44]}},
        ],
    }  # fmt: skip
    half = np.zeros((10, 10), np.uint8)
    half[2:6, 2:4] = 1
    dets = [{"image_id": 1, "category_id": 1, "segmentation": _compressed(half), "score": 0.9}]
    ev = run_coco(DropInCOCO, DropInCOCOeval, gt, dets, iou_type="segm")
    assert ev.ious[1, 1].tolist() == [[0.5, 1.0]]
    check_segm(gt, dets)


# ---------------------------------------------------------------- against pycocotools


@pytest.mark.parametrize("box", ["all", "none", "mixed"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated(seed, box):
    gt, dets = segm_data(seed, n_img=8, box=box)
    check_segm(gt, dets)
    check_segm(gt, dets, iou_type="bbox", views=False)  # loadRes' boxes and areas


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), box=st.sampled_from(["all", "none", "mixed"]))
def test_random_segm_datasets(seed, box):
    gt, dets = segm_data(seed, n_img=3, box=box)
    check_segm(gt, dets)


def test_no_cats():
    gt, dets = segm_data(5, n_img=6, n_cat=3)
    check_segm(gt, dets, useCats=0)


def test_box_results_are_their_boxes_as_masks():
    """Box results evaluated as masks: loadRes gives each the polygon of its box."""
    gt, dets = segm_data(6, n_img=6, box="all")
    boxes_only = [{k: v for k, v in d.items() if k != "segmentation"} for d in dets]
    check_segm(gt, boxes_only)


def test_polygon_and_uncompressed_results():
    """Under the box rule a result may carry polygons or uncompressed RLE (annToRLE)."""
    gt, dets = segm_data(7, n_img=6, box="all")
    rng = np.random.default_rng(0)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    for d in dets[::3]:
        x, y, w, h = d["bbox"]
        d["segmentation"] = [_polygon(rng, x + w / 2, y + h / 2, max(w, h) / 2 + 1)]
    for d in dets[1::3]:
        hh, ww = sizes[d["image_id"]]
        d["segmentation"] = {
            "size": [hh, ww],
            "counts": _runs(mask_utils.decode(d["segmentation"])),
        }
    check_segm(gt, dets)


def test_files_and_command_line(tmp_path):
    gt, dets = segm_data(8, n_img=10, box="mixed")
    ref = check_segm(gt, dets, views=False)
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    assert_result_equals(prcore.evaluate(gt_path, dt_path, iou_type="segm"), ref)
    arrays = tmp_path / "a.npz"
    with contextlib.redirect_stdout(io.StringIO()):
        argv = ["eval", str(gt_path), str(dt_path), "--iou-type", "segm", "--arrays", str(arrays)]
        assert main(argv) == 0
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(np.load(arrays)[key], ref.eval[key])
    with contextlib.redirect_stdout(io.StringIO()):  # the drop-in reading the files
        coco_gt = DropInCOCO(str(gt_path))
        ev = DropInCOCOeval(coco_gt, coco_gt.loadRes(str(dt_path)), "segm")
        ev.evaluate()
        ev.accumulate()
    np.testing.assert_array_equal(ev.eval["precision"], ref.eval["precision"])


def test_pycocotools_converted_ground_truth():
    """A dataset pycocotools' segm evaluation has been through holds RLE with bytes counts."""
    gt, dets = segm_data(9, n_img=5)
    ref = run_coco(COCO, COCOeval, gt, dets, iou_type="segm")
    converted = ref.cocoGt.dataset
    assert any(isinstance(a["segmentation"]["counts"], bytes) for a in converted["annotations"])
    assert_result_equals(prcore.evaluate(converted, dets, iou_type="segm"), ref)


# ---------------------------------------------------------------- bad input


def _small():
    gt = {
        "images": [{"id": 1, "height": 20, "width": 30}, {"id": 2, "height": 8, "width": 8}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25,
             "iscrowd": 0, "segmentation": [[1, 1, 1, 6, 6, 6, 6, 1]]},
            {"id": 6, "image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25,
             "iscrowd": 1, "segmentation": {"size": [8, 8], "counts": [9, 5, 50]}},
        ],
    }  # fmt: skip
    m = np.zeros((20, 30), np.uint8)
    m[1:6, 1:6] = 1
    dets = [
        {"image_id": 1, "category_id": 1, "segmentation": _compressed(m), "score": 0.5},
        {"image_id": 2, "category_id": 1, "segmentation": _compressed(m[:8, :8]), "score": 0.4},
    ]
    return gt, dets


def test_small_case_is_valid():
    check_segm(*_small())


def _set(path: list, value):
    def change(obj):
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_set(["segmentation"], [[1, 1, 6, 6]]), "2 point(s); it needs 3"),
        (_set(["segmentation"], [[1, 1, 1, 6, 6, 6, 6]]), "odd number of coordinates (7)"),
        (_set(["segmentation"], [[1, 1, 1, 6, 6, 6], [2, 2]]), "1 point(s)"),
        (_set(["segmentation"], [[1, 1, 1, "6", 6, 6]]), "non-number"),
        (_set(["segmentation"], [[1, 1, 1, 6, float("nan"), 6]]), "not a finite number"),
        (_set(["segmentation"], []), "empty list"),
        (_set(["segmentation"], None), "is missing"),
        (_set(["segmentation"], {"size": [20, 31], "counts": "0"}), "'size' is [20, 31], but"),
        (_set(["segmentation"], {"size": [20, 30], "counts": [1, 2]}), "sum to 3, not to"),
        (_set(["segmentation"], {"size": [20, 30], "counts": [599, -1, 2]}), "whole numbers"),
        (_set(["segmentation"], {"size": [20, 30], "counts": "ab~"}), "'~' at position 2"),
        (_set(["segmentation"], {"size": [20, 30], "counts": "0h"}), "ends inside a value"),
        (_set(["segmentation"], {"size": [20, 30], "counts": "05"}), "sum to 5, not to"),
        (_set(["segmentation"], {"size": [20, 30], "counts": 7}), "'counts' must be"),
    ],
    ids=[
        "two_points",
        "odd",
        "short_part",
        "string",
        "nan",
        "empty",
        "null",
        "size",
        "run_sum",
        "negative_run",
        "bad_char",
        "cut_off",
        "string_sum",
        "counts_type",
    ],  # fmt: skip
)
def test_bad_ground_truth_masks(change, message):
    gt, dets = _small()
    change(gt["annotations"][0])
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets, iou_type="segm")
    err = info.value
    assert (err.section, err.index, err.record_id, err.field) == (
        "annotations", 0, 5, "segmentation"), str(err)  # fmt: skip
    assert message in str(err), str(err)
    prcore.evaluate(gt, dets)  # a box evaluation does not read masks


def test_missing_segmentation_and_image_size():
    gt, dets = _small()
    del gt["annotations"][1]["segmentation"]
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets, iou_type="segm")
    assert (info.value.index, info.value.field) == (1, "segmentation")
    assert "is missing" in str(info.value)
    for field in ("height", "width"):
        gt, dets = _small()
        del gt["images"][1][field]
        with pytest.raises(PrcoreInputError) as info:
            prcore.evaluate(gt, dets, iou_type="segm")
        err = info.value
        assert (err.section, err.index, err.record_id, err.field) == ("images", 1, 2, field)
        assert "a segm evaluation needs each image's size" in str(err)
    gt, dets = _small()
    gt["images"][0]["height"] = 0
    with pytest.raises(PrcoreInputError, match="height and width must be >= 1"):
        prcore.evaluate(gt, dets, iou_type="segm")


@pytest.mark.parametrize(
    "change, message",
    [
        (_set(["segmentation", "size"], [8, 9]), "'size' is [8, 9], but the image is [8, 8]"),
        (_set(["segmentation", "counts"], "0:"), "sum to 10, not to height x width = 8 x 8"),
        (_set(["segmentation", "counts"], "0\x7f"), "position 1 is not one of"),
        (_set(["segmentation", "counts"], "0\u00e9"), "not one of the characters"),
        (_set(["segmentation", "size"], "8x8"), "'size' must be [height, width]"),
        (_set(["segmentation"], "0"), "expected polygons"),
    ],
    ids=["size", "sum", "bad_char", "non_ascii", "size_type", "not_a_dict"],
)
def test_bad_result_masks(tmp_path, capsys, change, message):
    gt, dets = _small()
    change(dets[1])
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets, iou_type="segm")
    err = info.value
    assert (err.index, err.record_id, err.field) == (1, 2, "segmentation"), str(err)
    assert message in str(err), str(err)
    # the command line: one line naming the file, exit 2, nothing written
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    out = tmp_path / "r.json"
    code = main(["eval", str(gt_path), str(dt_path), "--iou-type", "segm", "--json", str(out)])
    err_text = capsys.readouterr().err
    assert code == 2 and err_text.count("\n") == 1 and str(dt_path) in err_text
    assert "record 1 (image_id 2): field 'segmentation'" in err_text
    assert not out.exists()


def test_mask_results_need_compressed_rle_for_their_area():
    gt, dets = _small()
    dets[1]["segmentation"] = [[1, 1, 1, 6, 6, 6]]
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, dets)  # no box: loadRes takes the area from the mask
    assert (info.value.index, info.value.field) == (1, "segmentation")
    assert "compressed RLE" in str(info.value)


# ---------------------------------------------------------------- the mask results scanner


def _scan_reference(data: bytes):
    """What the scanner must give for ``data`` if it accepts it, from ``json.loads``:
    ``(image_id, category_id, score, box or None, size, counts)`` per record; None where
    the document is not one the scanner may accept."""
    try:
        records = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if type(records) is not list:
        return None
    out = []
    for r in records:
        if type(r) is not dict or not {"image_id", "category_id", "score", "segmentation"} <= set(
            r
        ):
            return None
        seg, box = r["segmentation"], r.get("bbox")
        if type(seg) is not dict or type(seg.get("counts")) is not str:
            return None
        out.append((r["image_id"], r["category_id"], float(r["score"]),
                    None if "bbox" not in r else [float(v) for v in box],
                    list(seg["size"]), seg["counts"]))  # fmt: skip
    return out


def _scanned(data: bytes):
    from prcore.io.masks_scan import scan_mask_results

    cols = scan_mask_results(data)
    if cols is None:
        return None
    raw = cols.buf.tobytes()
    out = []
    for i in range(len(cols)):
        a, b = cols.span[i].tolist()
        counts = json.loads(b'"' + raw[a:b] + b'"')  # the span as written, escapes and all
        box = cols.bbox[i].tolist() if cols.has_box[i] else None
        out.append((int(cols.image_id[i]), int(cols.category_id[i]), float(cols.score[i]), box,
                    cols.size[i].tolist(), counts))  # fmt: skip
    return out


def _assert_scan(data: bytes) -> None:
    got = _scanned(data)
    if got is None:
        return
    want = _scan_reference(data)
    assert want is not None
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[:2] == w[:2] and g[4:] == w[4:], (g, w)
        # bit for bit, as json.loads gives the numbers
        assert np.float64(g[2]).view(np.uint64) == np.float64(w[2]).view(np.uint64)
        assert (g[3] is None) == (w[3] is None)
        if w[3] is not None:
            np.testing.assert_array_equal(np.array(g[3]).view(np.uint64),
                                          np.array(w[3]).view(np.uint64))  # fmt: skip


@pytest.mark.parametrize("box", ["all", "none", "mixed"])
@pytest.mark.parametrize("indent", [None, 0, 2])
def test_scanner_reads_generated_files(box, indent):
    _, dets = segm_data(30, n_img=6, box=box)
    dets[1]["extra"] = {"nested": [1, {"size": [3, 3]}], "counts": "x"}  # not a mask's
    dets[2]["segmentation"]["note"] = [None, True, "\\u0073ize"]  # other keys in a mask
    data = json.dumps(dets, indent=indent).encode()
    assert _scanned(data) is not None
    assert b"\\\\" in data  # RLE's alphabet holds the backslash: escaped strings
    _assert_scan(data)


@pytest.mark.parametrize(
    "text",
    [
        '[{"image_id": 1, "category_id": 1, "score": 0.5}]',  # no mask
        '[{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [2, 2], '
        '"counts": [4]}}]',  # uncompressed
        '[{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [2, 2]}}]',
        '[{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [2, 2], '
        '"counts": "04", "counts": "04"}}]',  # duplicate
        '[{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"\\u0073ize": '
        '[2, 2], "counts": "04"}}]',  # an escaped key that spells one of its own
        '[{"image_id": 1, "category_id": 1, "score": NaN, "segmentation": {"size": [2, 2], '
        '"counts": "04"}}]',
        '[{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [], "segmentation": '
        '{"size": [2, 2], "counts": "04"}}]',
        '[{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [2.0, 2], '
        '"counts": "04"}}]',
    ],
    ids=[
        "no_mask",
        "uncompressed",
        "no_counts",
        "duplicate",
        "escaped_key",
        "nan",
        "empty_box",
        "float_size",
    ],  # fmt: skip
)
def test_scanner_declines(text):
    assert _scanned(text.encode()) is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), edits=st.data())
def test_scanner_on_mutated_files(seed, edits):
    """Random byte edits: whatever the scanner accepts, json.loads reads identically."""
    _, dets = segm_data(seed % 1000, n_img=1, n_cat=1, box="mixed")
    buf = bytearray(json.dumps(dets[:3]).encode())
    for _ in range(edits.draw(st.integers(1, 4))):
        if not buf:
            break
        i = edits.draw(st.integers(0, len(buf) - 1))
        op = edits.draw(st.integers(0, 2))
        byte = edits.draw(st.sampled_from(b'[]{}",:-+.eE0159 \\tnfu\xc3\xff\x00'))
        if op == 0:
            buf[i] = byte
        elif op == 1:
            del buf[i]
        else:
            buf.insert(i, byte)
    _assert_scan(bytes(buf))


def test_scanner_and_general_path_agree(tmp_path):
    """A file read by the scanner and the same records given as dicts: the same columns."""
    from prcore.io.load import load_detections, load_ground_truth

    gt, dets = segm_data(31, n_img=8, box="mixed")
    path = tmp_path / "dt.json"
    path.write_text(json.dumps(dets))
    for iou_type in ("segm", "bbox"):
        ground_truth = load_ground_truth(gt, iou_type)
        fast = load_detections(path, ground_truth, iou_type)
        slow = load_detections(dets, ground_truth, iou_type)
        for key in ("img", "cat", "bbox", "score", "area"):
            np.testing.assert_array_equal(getattr(fast, key), getattr(slow, key), err_msg=key)
    assert fast.masks is None  # the box evaluation reads none
    ground_truth = load_ground_truth(gt, "segm")
    fast = load_detections(path, ground_truth, "segm").masks
    slow = load_detections(dets, ground_truth, "segm").masks
    assert fast.escaped and not slow.escaped
    np.testing.assert_array_equal(fast.area, slow.area)


@pytest.mark.skipif(
    os.environ.get("PRCORE_SCAN_CHECKED", "") not in ("", "0"), reason="this run is the checked one"
)
@pytest.mark.skipif(bool(os.environ.get("PRCORE_TEST_NATIVE")), reason="the build has no checks")
def test_scanner_with_every_raw_load_checked():
    """The scanner's tests again with ``PRCORE_SCAN_CHECKED=1``: every raw load checks its
    index and raises IndexError rather than read outside the document."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "test_segm.py", "-k", "scanner or files"],
        cwd=Path(__file__).parent,
        env=dict(os.environ, PRCORE_SCAN_CHECKED="1"),
        capture_output=True,
        text=True,
        timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_scanner_cache_follows_the_tokenizer():
    """numba's cache keys a kernel on its own file's text: the scanner's module holds a
    digest of the files its kernel compiles in, so that editing them recompiles it."""
    import hashlib

    kernels = Path(prcore.__file__).parent / "_kernels"
    digest = hashlib.sha256()
    for name in ("json_tokens.py", "scan_constants.py"):
        digest.update((kernels / name).read_bytes())
    line = f'TOKENIZER_DIGEST = "{digest.hexdigest()[:16]}"'
    assert line in (kernels / "masks_scan.py").read_text()


def test_sweep():
    gt, dets = segm_data(32, n_img=10, box="all")
    result = prcore.evaluate(gt, dets, iou_type="segm")
    for row in result.sweep([0.3, 0.6]).rows:
        kept = [d for d in dets if d["score"] >= row.score_threshold]
        ref = run_coco(COCO, COCOeval, gt, kept, iou_type="segm")
        np.testing.assert_allclose(row.stats, ref.stats, rtol=0, atol=1e-12)


def test_a_file_ground_truth_keeps_no_parsed_dict(tmp_path):
    # Masks need the parsed file; the columns (and every result built on them) keep
    # none of it. A caller's own dict is kept: the drop-in COCO reads it back.
    from prcore.io.load import load_ground_truth

    gt, _ = segm_data(1)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    assert load_ground_truth(path, "segm").dataset is None
    assert load_ground_truth(gt, "segm").dataset is gt
