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
from prcore.coco import COCO as DropInCOCO
from prcore.cocoeval import COCOeval as DropInCOCOeval


def _run(coco_cls, eval_cls, gt: dict, dets: list, params: dict, summarize: bool):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco_cls()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dets))
        ev = eval_cls(coco_gt, coco_dt, "bbox")
        for key, value in params.items():
            setattr(ev.params, key, copy.deepcopy(value))
        ev.evaluate()
        ev.accumulate()
        if summarize:
            ev.summarize()
    return ev


def run_pycocotools(gt: dict, dets: list, summarize: bool = True, **params) -> COCOeval:
    """COCOeval after evaluate/accumulate(/summarize); ``params`` set on ``.params``."""
    return _run(COCO, COCOeval, gt, dets, params, summarize)


def run_drop_in(gt: dict, dets: list, **params) -> DropInCOCOeval:
    """prcore's drop-in ``COCOeval``, driven exactly as :func:`run_pycocotools` drives pycocotools'."""
    return _run(DropInCOCO, DropInCOCOeval, gt, dets, params, True)


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


class _LastRepeated(list):
    """``maxDets`` read past its end gives its last value: prcore's documented summary
    (prcore/summary.py ``_stat_specs``) where pycocotools' ``_summarizeDets`` indexes
    ``maxDets[2]`` and raises IndexError on one or two values."""

    def __getitem__(self, i):
        if isinstance(i, int) and i >= len(self):
            i = len(self) - 1
        return super().__getitem__(i)


def documented_stats(ev: COCOeval) -> np.ndarray:
    """The stats prcore documents where pycocotools' ``summarize()`` crashes on fewer than
    three maxDets: pycocotools' own ``summarize``, with ``maxDets[1]`` and ``maxDets[2]``
    read as the largest value. ``ev`` has run ``accumulate()``."""
    saved = ev.params.maxDets
    ev.params.maxDets = _LastRepeated(saved)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ev.summarize()
    finally:
        ev.params.maxDets = saved
    return np.asarray(ev.stats)


def oracle(gt: dict, dets: list, **params) -> tuple[COCOeval, np.ndarray]:
    """pycocotools' COCOeval and the stats prcore must give.

    Those are pycocotools' own, except where its ``summarize()`` raises IndexError because
    ``maxDets`` has fewer than three values: then :func:`documented_stats`, and the arrays
    are still compared element for element. Any other crash is raised.
    """
    ev = run_pycocotools(gt, dets, summarize=False, **params)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ev.summarize()
    except IndexError:
        if len(ev.params.maxDets) >= 3:
            raise
        return ev, documented_stats(ev)
    return ev, np.asarray(ev.stats)


def assert_same(result, ev: COCOeval, stats: np.ndarray | None = None) -> None:
    """Stats to 1e-12; precision, recall and scores element for element.

    ``stats`` replaces ``ev.stats`` where pycocotools' summarize() could not give them.
    """
    want = ev.stats if stats is None else stats
    np.testing.assert_allclose(result.stats, want, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.precision, ev.eval["precision"])
    np.testing.assert_array_equal(result.recall, ev.eval["recall"])
    np.testing.assert_array_equal(result.scores, ev.eval["scores"])


class _Evaluated:
    """A drop-in COCOeval seen through the result's attribute names."""

    def __init__(self, ev: DropInCOCOeval) -> None:
        self.stats = ev.stats
        self.precision = ev.eval["precision"]
        self.recall = ev.eval["recall"]
        self.scores = ev.eval["scores"]


def check(gt: dict, dets: list, drop_in: bool = False, prcore_kw: dict | None = None, **params):
    """prcore equals pycocotools on this input (dicts in, no files).

    ``params`` are pycocotools' names, set on both. ``prcore_kw`` overrides some of them
    for prcore only (prcore's documented reading of a value pycocotools reads otherwise).
    ``drop_in`` also runs ``prcore.cocoeval.COCOeval`` the same way.
    """
    ev, stats = oracle(gt, dets, **params)
    ours = {**params, **(prcore_kw or {})}
    result = prcore.evaluate(gt, dets, params=prcore_params(**ours) if ours else None)
    assert_same(result, ev, stats)
    if drop_in:
        assert_same(_Evaluated(run_drop_in(gt, dets, **ours)), ev, stats)
    return ev
