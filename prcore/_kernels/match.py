"""The one greedy matcher of detections to ground truth, for every kind of similarity.

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

from prcore._kernels.jit import jit

FP = 0
TP = 1
IGNORED = 2


@jit
def match_cells(
    det_offsets,
    det_index,
    det_area,
    gt_offsets,
    gt_area,
    gt_ignore,
    gt_crowd,
    gt_id,
    sim_offsets,
    sim,
    iou_thrs,
    area_rng,
    det_state,
    det_match,
    best_sim,
    gt_order,
    gt_ig,
    gt_taken,
    matched,
    c_lo,
    c_hi,
):
    """Match cells ``c_lo:c_hi``; OR their states into ``det_state[(A + 3) // 4, T, D]``.

    Cell ``c`` holds detections ``det_offsets[c]:det_offsets[c+1]`` (sorted by
    descending score, cut to ``maxDets[-1]``; detection ``d``'s area is
    ``det_area[det_index[d]]``) and ground truths ``gt_offsets[c]:gt_offsets[c+1]``
    (in pycocotools' cell order). Their similarities are the row-major
    ``[D, G]`` matrix at ``sim[sim_offsets[c] - sim_offsets[c_lo]:]``, from any
    kernel of :mod:`prcore._kernels.similarity`.

    Mirrors ``COCOeval.evaluateImg`` (cocoeval.py): a ground truth is ignored
    when ``gt_ignore`` (crowd; for keypoints also no visible keypoint) or its
    area is outside the range; ignored ones sorted last (stable); the greedy
    loop over thresholds and detections; crowd ground truths matchable many
    times; a match to a regular ground truth never replaced by an ignored one;
    ``min(t, 1 - 1e-10)`` as the starting similarity; unmatched detections
    outside the area range ignored. A match to an annotation with id 0 counts
    as unmatched, as ``dtm == 0`` does there.

    When ``det_match`` is ``[A, T, D]`` (not empty), each detection's matched
    ground truth (position in the cell, -1 if none) is written there too.

    Scratch (one set per thread), for the largest cell sizes: ``best_sim[maxD]``,
    ``gt_order[maxG]``, ``gt_ig[A, maxG]``, ``gt_taken[maxG]``, ``matched[A, T, maxD]``.
    Two shortcuts leave the result unchanged: a detection whose best
    similarity is below the threshold cannot match, and area ranges that
    ignore the same ground truths produce the same matches.
    """
    n_thr = iou_thrs.shape[0]
    n_area = area_rng.shape[0]
    record = det_match.shape[2] > 0
    base = sim_offsets[c_lo]
    for c in range(c_lo, c_hi):
        d0 = det_offsets[c]
        n_d = det_offsets[c + 1] - d0
        if n_d == 0:
            continue
        g0 = gt_offsets[c]
        n_g = gt_offsets[c + 1] - g0
        s0 = sim_offsets[c] - base
        for d in range(n_d):
            b = 0.0
            for g in range(n_g):
                if sim[s0 + d * n_g + g] > b:
                    b = sim[s0 + d * n_g + g]
            best_sim[d] = b
        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            for g in range(n_g):
                ar = gt_area[g0 + g]
                gt_ig[a, g] = gt_ignore[g0 + g] or ar < lo or ar > hi
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
                        if best_sim[d] >= thr:
                            best = thr
                            row = s0 + d * n_g
                            for gi in range(n_g):
                                g = gt_order[gi]
                                if gt_taken[g] and not gt_crowd[g0 + g]:
                                    continue
                                if m > -1 and not gt_ig[a, m] and gt_ig[a, g]:
                                    break
                                if sim[row + g] < best:
                                    continue
                                best = sim[row + g]
                                m = g
                            if m > -1:
                                gt_taken[m] = True
                        matched[a, t, d] = m
            for t in range(n_thr):
                for d in range(n_d):
                    da = det_area[det_index[d0 + d]]
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
                    if record:
                        det_match[a, t, d0 + d] = m
