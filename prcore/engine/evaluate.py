"""One evaluation, step by step: load, select, match, accumulate.

Mirrors ``COCOeval``'s ``evaluate()`` and ``accumulate()``; the immutable
result and its views are built above this layer (:mod:`prcore.result`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from prcore.engine.accumulate import accumulate
from prcore.engine.match import MatchTable, match
from prcore.engine.parallel import in_background
from prcore.errors import PrcoreInputError, PrcoreWarning
from prcore.io.load import (
    Detections,
    GroundTruth,
    load_detections,
    load_ground_truth,
    read_results,
)
from prcore.params import Params


@dataclass(frozen=True, eq=False)
class Evaluation:
    """What one evaluation computed: the inputs' columns, the match table, the arrays."""

    params: Params
    ground_truth: GroundTruth
    detections: Detections
    table: MatchTable
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    n_detections: int


def evaluate(
    gt: Any, dt: Any, iou_type: str | None = None, params: Params | None = None
) -> Evaluation:
    """Evaluate detections against ground truth, exactly as pycocotools does.

    Parameters
    ----------
    gt : path or dict or GroundTruth
        COCO instances JSON (``images``, ``annotations``, ``categories``).
    dt : path or list of dict or Detections
        COCO results (``[{image_id, category_id, bbox, score}, ...]``; mask
        results carry ``segmentation``, keypoint results ``keypoints``; boxes
        and areas as ``COCO.loadRes`` gives them, see
        :func:`prcore.io.load.results_rule`).
    iou_type : {"bbox", "segm", "keypoints"}, optional
        ``params.iou_type`` when omitted, else "bbox"; must agree with ``params``.
    params : Params, optional
        pycocotools' defaults for ``iou_type`` when omitted.
    """
    params = _params_of(params, iou_type)
    # the results file needs no ground truth to be read: it is read meanwhile
    with in_background(read_results, dt, params.iou_type) as read_dt:
        ground_truth = load_ground_truth(gt, params.iou_type)
        dt = read_dt()
    detections = load_detections(dt, ground_truth, params.iou_type)
    params = resolve_params(params, ground_truth, iou_type)
    table = match(ground_truth, detections, params)
    precision, recall, scores = accumulate(table, params)
    _warn_categories_without_gt(ground_truth, detections, table, params)
    return Evaluation(
        params=params,
        ground_truth=ground_truth,
        detections=detections,
        table=table,
        precision=precision,
        recall=recall,
        scores=scores,
        n_detections=len(detections),
    )


def _params_of(params: Params | None, iou_type: str | None) -> Params:
    if params is None:
        params = Params(iou_type=iou_type or "bbox")
    elif iou_type is not None and params.iou_type != iou_type:
        raise PrcoreInputError(
            f"iou_type {iou_type!r} conflicts with params.iou_type {params.iou_type!r}; "
            "give one of them, or the same in both"
        )
    if params.iou_type not in _SUPPORTED:
        raise PrcoreInputError(
            f"iou_type {params.iou_type!r} is not supported yet (only {', '.join(_SUPPORTED)})"
        )
    return params


_SUPPORTED = ("bbox", "segm", "keypoints")


def resolve_params(params: Params | None, gt: GroundTruth, iou_type: str | None) -> Params:
    """Parameters with ``img_ids``/``cat_ids`` filled from the ground truth."""
    params = _params_of(params, iou_type)
    img_ids = params.img_ids if params.img_ids is not None else gt.img_ids.tolist()
    cat_ids = params.cat_ids if params.cat_ids is not None else gt.cat_ids.tolist()
    return params.with_ids(img_ids, cat_ids)


def _warn_categories_without_gt(gt, dets, table: MatchTable, params: Params) -> None:
    lonely = np.flatnonzero((table.n_dt > 0) & (table.n_gt == 0))
    # crowd-only categories have n_gt 0 too; warn only where no annotation exists at all.
    if not len(lonely):
        return
    has_any = np.zeros(len(gt.cat_ids), bool)
    has_any[gt.ann_cat] = True
    cat_pos_ids = np.asarray(params.cat_ids, np.int64)
    ids = [
        int(cat_pos_ids[k])
        for k in lonely
        if not has_any[np.searchsorted(gt.cat_ids, cat_pos_ids[k])]
    ]
    if ids:
        n = int(table.n_dt[lonely].sum())
        warnings.warn(
            f"{dets.source}: {n} detection(s) of categories with no ground truth "
            f"(ids {', '.join(map(str, ids[:10]))}{'...' if len(ids) > 10 else ''}); "
            "pycocotools scores those categories as -1 (absent) and leaves them out of the means",
            PrcoreWarning,
            stacklevel=3,
        )
