"""Greedy matching of detections to ground truth, every cell at once.

Detection states written to ``det_state[a, t, d]``:
``FP = 0``, ``TP = 1``, ``IGNORED = 2`` — exactly the ``tps``/``fps``/``dtIg``
that ``COCOeval.accumulate`` derives from ``evaluateImg``'s output.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.iou import iou_boxes
from prcore._kernels.jit import jit

FP = 0
TP = 1
IGNORED = 2


@jit
def match_cells(
    det_offsets, det_box, det_area,
    gt_offsets, gt_box, gt_area, gt_crowd, gt_id,
    iou_thrs, area_rng, det_state,
):
    """Match every (image, category) cell; fill ``det_state[A, T, D]``.

    Cell ``c`` holds detections ``det_offsets[c]:det_offsets[c+1]`` (sorted by
    descending score, cut to ``maxDets[-1]``) and ground truths
    ``gt_offsets[c]:gt_offsets[c+1]`` (in pycocotools' cell order).

    Mirrors ``COCOeval.evaluateImg`` (cocoeval.py): ground truths sorted with
    ignored ones last (stable), the greedy loop over thresholds and detections,
    crowd ground truths matchable many times, a match to a regular ground truth
    never replaced by an ignored one, ``min(t, 1 - 1e-10)`` as the starting
    IoU, and unmatched detections outside the area range ignored. A match to
    an annotation with id 0 counts as unmatched, as ``dtm == 0`` does there.
    """
    n_cells = det_offsets.shape[0] - 1
    n_thr = iou_thrs.shape[0]
    n_area = area_rng.shape[0]
    max_d = 0
    max_g = 0
    for c in range(n_cells):
        max_d = max(max_d, det_offsets[c + 1] - det_offsets[c])
        max_g = max(max_g, gt_offsets[c + 1] - gt_offsets[c])
    ious = np.zeros((max_d, max(max_g, 1)), np.float64)
    gt_order = np.empty(max(max_g, 1), np.int64)
    gt_ig = np.zeros(max(max_g, 1), np.bool_)
    gt_taken = np.zeros(max(max_g, 1), np.bool_)

    for c in range(n_cells):
        d0 = det_offsets[c]
        d1 = det_offsets[c + 1]
        n_d = d1 - d0
        if n_d == 0:
            continue
        g0 = gt_offsets[c]
        g1 = gt_offsets[c + 1]
        n_g = g1 - g0
        if n_g > 0:
            iou_boxes(det_box[d0:d1], gt_box[g0:g1], gt_crowd[g0:g1], ious)
        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            # gt '_ignore' = iscrowd or area outside [lo, hi]; stable: regular first.
            k = 0
            for g in range(n_g):
                ar = gt_area[g0 + g]
                ig = gt_crowd[g0 + g] or ar < lo or ar > hi
                gt_ig[g] = ig
                if not ig:
                    gt_order[k] = g
                    k += 1
            for g in range(n_g):
                if gt_ig[g]:
                    gt_order[k] = g
                    k += 1
            for t in range(n_thr):
                thr = min(iou_thrs[t], 1 - 1e-10)
                for g in range(n_g):
                    gt_taken[g] = False
                for d in range(n_d):
                    best = thr
                    m = -1
                    for gi in range(n_g):
                        g = gt_order[gi]
                        if gt_taken[g] and not gt_crowd[g0 + g]:
                            continue
                        if m > -1 and not gt_ig[m] and gt_ig[g]:
                            break
                        if ious[d, g] < best:
                            continue
                        best = ious[d, g]
                        m = g
                    da = det_area[d0 + d]
                    outside = da < lo or da > hi
                    if m == -1:
                        det_state[a, t, d0 + d] = IGNORED if outside else FP
                        continue
                    gt_taken[m] = True
                    if gt_ig[m]:
                        det_state[a, t, d0 + d] = IGNORED
                    elif gt_id[g0 + m] == 0:
                        det_state[a, t, d0 + d] = IGNORED if outside else FP
                    else:
                        det_state[a, t, d0 + d] = TP
