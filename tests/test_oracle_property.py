"""Hypothesis: random small datasets, prcore equal to pycocotools array for array."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycocotools_oracle import check

CAT_IDS = [2, 7, 9, 31]
SCORES = [0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0]  # few values: many ties


@st.composite
def datasets(draw):
    n_img = draw(st.integers(1, 6))
    n_cat = draw(st.integers(1, 4))
    cats = CAT_IDS[:n_cat]
    coord = st.integers(0, 60).map(float)
    size = st.sampled_from([0.0, 1.0, 4.0, 8.0, 16.0, 31.0, 32.0, 33.0, 60.0, 96.0, 100.0])
    anns, dets = [], []
    for img in range(1, n_img + 1):
        for _ in range(draw(st.integers(0, 6))):
            x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
            area = draw(st.sampled_from([w * h, 32.0**2, 96.0**2, w * h * 0.5]))
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img,
                    "category_id": draw(st.sampled_from(cats)),
                    "bbox": [x, y, w, h],
                    "area": area,
                    "iscrowd": int(draw(st.integers(0, 9)) == 0),
                }
            )
        for _ in range(draw(st.integers(0, 8))):
            if anns and draw(st.booleans()):
                base = draw(st.sampled_from(anns))
                box = [v + draw(st.sampled_from([0.0, 0.0, 1.0, -2.0, 5.0])) for v in base["bbox"]]
                box[2], box[3] = abs(box[2]), abs(box[3])
                cat = base["category_id"]
                image = base["image_id"]
            else:
                box = [draw(coord), draw(coord), draw(size), draw(size)]
                cat = draw(st.sampled_from(cats))
                image = img
            dets.append(
                {
                    "image_id": image,
                    "category_id": cat,
                    "bbox": box,
                    "score": draw(st.sampled_from(SCORES)),
                }
            )
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
