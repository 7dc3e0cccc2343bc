"""Greedy matching of detections to ground truth, every cell at once.

Detection states, in cell order: ``FP = 0``, ``TP = 1``, ``IGNORED = 2`` —
exactly the ``tps``/``fps``/``dtIg`` that ``COCOeval.accumulate`` derives from
``evaluateImg``'s output. Two bits each, four area ranges to a byte: area
range ``a`` at threshold ``t`` of detection ``d`` is bits ``2 * (a % 4)`` and
up of ``det_state[a // 4, t, d]`` (each (group, threshold) row contiguous, as
the accumulation reads it). COCO's 4 ranges and 10 thresholds cost 10 bytes
per detection instead of 40.
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
    det_offsets,
    det_index,
    bbox,
    gt_offsets,
    gt_box,
    gt_area,
    gt_crowd,
    gt_id,
    iou_thrs,
    area_rng,
    det_state,
    cell_box,
    cell_area,
    ious,
    best_iou,
    gt_order,
    gt_ig,
    gt_taken,
    matched,
    c_lo,
    c_hi,
):
    """Match every (image, category) cell; fill ``det_state[(A + 3) // 4, T, D]`` (zeros on entry).

    Cell ``c`` holds detections ``det_offsets[c]:det_offsets[c+1]`` (sorted by
    descending score, cut to ``maxDets[-1]``; detection ``d``'s box is
    ``bbox[det_index[d]]``, gathered per cell so no full copy is made) and
    ground truths
    ``gt_offsets[c]:gt_offsets[c+1]`` (in pycocotools' cell order).

    Mirrors ``COCOeval.evaluateImg`` (cocoeval.py): ground truths sorted with
    ignored ones last (stable), the greedy loop over thresholds and detections,
    crowd ground truths matchable many times, a match to a regular ground truth
    never replaced by an ignored one, ``min(t, 1 - 1e-10)`` as the starting
    IoU, and unmatched detections outside the area range ignored. A match to
    an annotation with id 0 counts as unmatched, as ``dtm == 0`` does there.

    Only cells ``c_lo:c_hi`` are matched, so that threads can share the work.
    Scratch (one set per thread): ``cell_box[maxD, 4]``, ``cell_area[maxD]``
    (``w * h``, as ``loadRes`` computes it), ``ious[maxD, maxG]``, ``best_iou[maxD]``,
    ``gt_order[maxG]``, ``gt_ig[A, maxG]``, ``gt_taken[maxG]``,
    ``matched[A, T, maxD]``, for the largest cell sizes.
    Two shortcuts leave the result unchanged: a detection whose best IoU is
    below the threshold cannot match, and area ranges that ignore the same
    ground truths produce the same matches.
    """
    n_thr = iou_thrs.shape[0]
    n_area = area_rng.shape[0]
    for c in range(c_lo, c_hi):
        d0 = det_offsets[c]
        d1 = det_offsets[c + 1]
        n_d = d1 - d0
        if n_d == 0:
            continue
        for d in range(n_d):
            row = det_index[d0 + d]
            for j in range(4):
                cell_box[d, j] = bbox[row, j]
            cell_area[d] = bbox[row, 2] * bbox[row, 3]
        g0 = gt_offsets[c]
        g1 = gt_offsets[c + 1]
        n_g = g1 - g0
        if n_g == 0:
            # Nothing to match: false positives, or ignored outside the area range.
            for a in range(n_area):
                for d in range(n_d):
                    da = cell_area[d]
                    st = IGNORED if (da < area_rng[a, 0] or da > area_rng[a, 1]) else FP
                    bits = np.uint8(st << (2 * (a & 3)))
                    for t in range(n_thr):
                        det_state[a >> 2, t, d0 + d] |= bits
            continue
        iou_boxes(cell_box[:n_d], gt_box[g0:g1], gt_crowd[g0:g1], ious)
        for d in range(n_d):
            b = 0.0
            for g in range(n_g):
                if ious[d, g] > b:
                    b = ious[d, g]
            best_iou[d] = b
        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            for g in range(n_g):
                ar = gt_area[g0 + g]
                gt_ig[a, g] = gt_crowd[g0 + g] or ar < lo or ar > hi
            # Area ranges that ignore the same ground truths match identically.
            same = -1
            for a2 in range(a):
                equal = True
                for g in range(n_g):
                    if gt_ig[a2, g] != gt_ig[a, g]:
                        equal = False
                        break
                if equal:
                    same = a2
                    break
            if same >= 0:
                for t in range(n_thr):
                    for d in range(n_d):
                        matched[a, t, d] = matched[same, t, d]
            else:
                # gt '_ignore' sorted last, stably (evaluateImg's gtind).
                k = 0
                for g in range(n_g):
                    if not gt_ig[a, g]:
                        gt_order[k] = g
                        k += 1
                for g in range(n_g):
                    if gt_ig[a, g]:
                        gt_order[k] = g
                        k += 1
                for t in range(n_thr):
                    thr = min(iou_thrs[t], 1 - 1e-10)
                    for g in range(n_g):
                        gt_taken[g] = False
                    for d in range(n_d):
                        m = -1
                        if best_iou[d] >= thr:
                            best = thr
                            for gi in range(n_g):
                                g = gt_order[gi]
                                if gt_taken[g] and not gt_crowd[g0 + g]:
                                    continue
                                if m > -1 and not gt_ig[a, m] and gt_ig[a, g]:
                                    break
                                if ious[d, g] < best:
                                    continue
                                best = ious[d, g]
                                m = g
                            if m > -1:
                                gt_taken[m] = True
                        matched[a, t, d] = m
            for t in range(n_thr):
                for d in range(n_d):
                    da = cell_area[d]
                    outside = da < lo or da > hi
                    m = matched[a, t, d]
                    if m == -1:
                        st = IGNORED if outside else FP
                    elif gt_ig[a, m]:
                        st = IGNORED
                    elif gt_id[g0 + m] == 0:
                        st = IGNORED if outside else FP
                    else:
                        st = TP
                    det_state[a >> 2, t, d0 + d] |= np.uint8(st << (2 * (a & 3)))
