"""pycocotools as the oracle: run it quietly and compare prcore with it.

Test support only; prcore itself never imports pycocotools.
"""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import prcore


def run_pycocotools(gt: dict, dets: list, **params) -> COCOeval:
    """COCOeval after evaluate/accumulate/summarize; ``params`` set on ``.params``."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dets))
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        for key, value in params.items():
            setattr(ev.params, key, value)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


_NAMES = {
    "imgIds": "img_ids",
    "catIds": "cat_ids",
    "iouThrs": "iou_thrs",
    "recThrs": "rec_thrs",
    "maxDets": "max_dets",
    "areaRng": "area_rng",
    "areaRngLbl": "area_rng_lbl",
    "useCats": "use_cats",
}


def prcore_params(**params) -> prcore.Params:
    """pycocotools-named parameters as a :class:`prcore.Params`."""
    kw = {}
    for key, value in params.items():
        if key == "areaRng":
            value = [tuple(r) for r in value]
        elif key == "useCats":
            value = bool(value)
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        kw[_NAMES[key]] = value
    return prcore.Params(**kw)


def assert_same(result, ev: COCOeval) -> None:
    """Stats to 1e-12; precision, recall and scores element for element."""
    np.testing.assert_allclose(result.stats, ev.stats, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.precision, ev.eval["precision"])
    np.testing.assert_array_equal(result.recall, ev.eval["recall"])
    np.testing.assert_array_equal(result.scores, ev.eval["scores"])


def check(gt: dict, dets: list, **params) -> None:
    """prcore equals pycocotools on this input (dicts in, no files)."""
    ev = run_pycocotools(gt, dets, **params)
    result = prcore.evaluate(gt, dets, params=prcore_params(**params) if params else None)
    assert_same(result, ev)
