"""Hypothesis: random small datasets, prcore equal to pycocotools array for array.

Coordinates are what detectors and annotation tools write: whole pixels, two
decimals, float32 values written as doubles, sub-pixel offsets, boxes from
0 and 1e-6 up to 1e5 pixels wide. Scores and IoUs tie often: a few score values, ground
truths duplicated or shifted by half a box, detections copied from ground truths.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import prcore
from pycocotools_oracle import assert_same, check, oracle

CAT_IDS = [2, 7, 9, 31]
SCORES = [0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0]  # few values: many ties


def f32(v: float) -> float:
    """``v`` rounded to float32, as a detector's output tensor holds it."""
    return float(np.float32(v))


def _floats32(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(f32(lo), f32(hi), width=32)


# Where a box starts: whole pixels, COCO's two decimals, float32 values.
COORD = st.one_of(
    st.integers(0, 60).map(float),
    st.integers(0, 6000).map(lambda v: v / 100),
    _floats32(0, 64),
)
# Width or height: the area-range edges (32, 96), any float32, tiny, huge.
SIZE = st.one_of(
    st.sampled_from([0.0, 1.0, 4.0, 8.0, 16.0, 31.0, 32.0, 33.0, 60.0, 96.0, 100.0]),
    _floats32(0, 128),
    _floats32(1e-6, 1),
    _floats32(1e3, 1e5),  # up to 1e5 x 1e5: an area of 1e10, pycocotools' 'all' bound
)
# How far a detection is from the ground truth it was copied from.
OFFSET = st.one_of(
    st.sampled_from([0.0, 0.0, 1.0, -2.0, 5.0]),
    _floats32(-1, 1),  # sub-pixel
)
SCORE = st.one_of(st.sampled_from(SCORES), _floats32(0, 1))


@st.composite
def boxes(draw) -> list[float]:
    return [draw(COORD), draw(COORD), draw(SIZE), draw(SIZE)]


@st.composite
def datasets(draw):
    n_img = draw(st.integers(1, 6))
    n_cat = draw(st.integers(1, 4))
    cats = CAT_IDS[:n_cat]
    anns, dets = [], []
    for img in range(1, n_img + 1):
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(st.integers(0, 5))
            if kind == 0 and anns:  # a duplicate: equal IoUs with every detection
                box = list(draw(st.sampled_from(anns))["bbox"])
            elif kind == 1 and anns:  # shifted by half a box: near-equal IoUs
                x, y, w, h = draw(st.sampled_from(anns))["bbox"]
                box = [x + w / 2, y, w, h] if draw(st.booleans()) else [x, y + h / 2, w, h]
            else:
                box = draw(boxes())
            w, h = box[2], box[3]
            area = draw(
                st.sampled_from(
                    [w * h, f32(w * h), 32.0**2, 96.0**2, w * h * 0.5, math.nextafter(w * h, 0)]
                )
            )
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img,
                    "category_id": draw(st.sampled_from(cats)),
                    "bbox": box,
                    "area": area,
                    "iscrowd": int(draw(st.integers(0, 9)) == 0),
                }
            )
        for _ in range(draw(st.integers(0, 8))):
            if anns and draw(st.booleans()):
                base = draw(st.sampled_from(anns))
                box = [v + draw(OFFSET) for v in base["bbox"]]
                box[2], box[3] = abs(box[2]), abs(box[3])
                if draw(st.booleans()):  # written from a float32 tensor
                    box = [f32(v) for v in box]
                cat = base["category_id"]
                image = base["image_id"]
            elif dets and draw(st.integers(0, 3)) == 0:  # the same box again
                box = list(dets[-1]["bbox"])
                cat, image = dets[-1]["category_id"], dets[-1]["image_id"]
            else:
                box = draw(boxes())
                cat = draw(st.sampled_from(cats))
                image = img
            dets.append({"image_id": image, "category_id": cat, "bbox": box, "score": draw(SCORE)})
    gt = {
        "images": [{"id": i} for i in range(1, n_img + 1)],
        "annotations": anns,
        "categories": [{"id": c, "name": f"c{c}"} for c in cats],
    }
    return gt, dets


SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _check(gt, dets, **params):
    if not dets:
        return  # pycocotools' loadRes cannot take []; covered by hand in test_oracle_cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(gt, dets, **params)


@SETTINGS
@given(datasets())
def test_default_params(data):
    _check(*data)


@SETTINGS
@given(datasets())
def test_use_cats_off(data):
    _check(*data, useCats=0)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    datasets(),
    st.sampled_from([[1, 2, 3], [1, 10, 100], [2, 4, 5]]),
    st.sampled_from([np.array([0.5, 0.75]), np.linspace(0.3, 0.9, 7)]),
)
def test_custom_max_dets_and_thresholds(data, max_dets, iou_thrs):
    _check(*data, maxDets=max_dets, iouThrs=iou_thrs)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(datasets())
def test_float_coordinates_through_files(data):
    """The same numbers from JSON files: every float read back bit for bit by the scanners."""
    gt, dets = data
    if not dets:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev, stats = oracle(gt, dets)
        with tempfile.TemporaryDirectory() as tmp:
            gt_path, dt_path = Path(tmp, "gt.json"), Path(tmp, "dt.json")
            gt_path.write_text(json.dumps(gt))
            dt_path.write_text(json.dumps(dets))
            assert_same(prcore.evaluate(gt_path, dt_path), ev, stats)
