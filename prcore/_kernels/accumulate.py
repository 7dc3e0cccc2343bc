"""Accumulation of matched detections into COCO's precision/recall arrays."""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit

_EPS = np.spacing(1)


@jit
def accumulate_curves(
    block_offsets,
    det_rank,
    det_score,
    det_cell,
    det_state,
    n_pos,
    rec_thrs,
    max_dets,
    min_score,
    precision,
    recall,
    scores,
    idx,
    cidx,
    tp_at,
    tp_fp,
    tp_pr,
    k_lo,
    k_hi,
):
    """Fill ``precision[T,R,K,A,M]``, ``recall[T,K,A,M]``, ``scores[T,R,K,A,M]``.

    ``det_state`` holds 0 (false positive), 1 (true positive) or 2 (ignored)
    in the matching's cell order, two bits per area range (``match_cells``'
    packing); detection ``i`` (in accumulation order) at area range ``a`` and
    threshold ``t`` is ``det_state[a // 4, t, det_cell[i]] >> 2 * (a % 4) & 3``. A category's cells are one
    range, so each (area, threshold) pass reads inside a small window.

    Block ``k`` (a category, or everything when ``useCats=0``) is the range
    ``block_offsets[k]:block_offsets[k+1]``, already in ``accumulate``'s order
    (descending score, ties by image then in-image rank). For each maxDet,
    detections of in-image rank ``>= maxDet`` drop out (pycocotools' per-image
    ``[0:maxDet]`` cut); so do those scoring below ``min_score`` (the post-hoc
    threshold sweep; ``-inf`` keeps all).

    Mirrors ``COCOeval.accumulate`` (cocoeval.py): ``rc = tp / npig``,
    ``pr = tp / (fp + tp + eps)``, the right-to-left precision envelope,
    ``np.searchsorted(rc, recThrs, side='left')``, and zeros from the first
    recall threshold not reached (its bare ``try/except``). Only blocks
    ``k_lo:k_hi`` are filled, so that threads can share the work; ``idx``, ``cidx``,
    ``tp_at``, ``tp_fp`` (int64) and ``tp_pr`` (float64) are scratch as long as the
    longest block, one set per thread. Arrays must arrive
    filled with -1; a (category, area) with no non-ignored ground truth stays -1.

    Only true positives move ``rc`` and raise ``pr``, so the envelope at any
    position equals the envelope at the next true positive: the kernel keeps
    ``pr`` at true positives only (from the false positives counted before
    each), which gives the same numbers from one branch-free pass.
    """
    n_area = n_pos.shape[1]
    n_thr = det_state.shape[1]
    n_rec = rec_thrs.shape[0]
    n_m = max_dets.shape[0]
    for k in range(k_lo, k_hi):
        b0 = block_offsets[k]
        b1 = block_offsets[k + 1]
        top_rank = -1
        for i in range(b0, b1):
            if det_score[i] >= min_score and det_rank[i] > top_rank:
                top_rank = det_rank[i]
        done = -1  # a maxDet slot already holding the uncut result
        for mi in range(n_m - 1, -1, -1):
            max_det = max_dets[mi]
            if top_rank < max_det and done >= 0:
                # No detection is cut at this maxDet either: same numbers.
                for a in range(n_area):
                    for t in range(n_thr):
                        recall[t, k, a, mi] = recall[t, k, a, done]
                        for r in range(n_rec):
                            precision[t, r, k, a, mi] = precision[t, r, k, a, done]
                            scores[t, r, k, a, mi] = scores[t, r, k, a, done]
                continue
            if top_rank < max_det:
                done = mi
            n = 0
            for i in range(b0, b1):
                if det_rank[i] < max_det and det_score[i] >= min_score:
                    idx[n] = i
                    cidx[n] = det_cell[i]
                    n += 1
            for a in range(n_area):
                npig = n_pos[k, a]
                if npig == 0:
                    continue
                shift = 2 * (a & 3)
                for t in range(n_thr):
                    state = det_state[a >> 2, t]
                    # Branch-free pass: remember each true positive's position
                    # and the false positives before it; pr only at TPs.
                    fp_count = 0
                    n_tp = 0
                    for i in range(n):
                        s = (state[cidx[i]] >> shift) & 3
                        tp_at[n_tp] = i
                        tp_fp[n_tp] = fp_count
                        n_tp += s == 1
                        fp_count += s == 0
                    tp = float(n_tp)
                    recall[t, k, a, mi] = tp / npig if n > 0 else 0.0
                    for j in range(n_tp):
                        tp_j = j + 1.0
                        tp_pr[j] = tp_j / (tp_fp[j] + tp_j + _EPS)
                    for j in range(n_tp - 2, -1, -1):
                        if tp_pr[j + 1] > tp_pr[j]:
                            tp_pr[j] = tp_pr[j + 1]
                    rc0 = 0.0
                    if n > 0 and ((state[cidx[0]] >> shift) & 3) == 1:
                        rc0 = 1.0 / npig
                    for r in range(n_rec):
                        thr = rec_thrs[r]
                        if n > 0 and rc0 >= thr:
                            # searchsorted gives position 0
                            precision[t, r, k, a, mi] = tp_pr[0] if n_tp > 0 else 0.0
                            scores[t, r, k, a, mi] = det_score[idx[0]]
                            continue
                        # first true positive whose recall (j + 1) / npig reaches thr
                        lo = 0
                        hi = n_tp
                        while lo < hi:
                            mid = (lo + hi) >> 1
                            if (mid + 1.0) / npig < thr:
                                lo = mid + 1
                            else:
                                hi = mid
                        if lo >= n_tp:
                            for rr in range(r, n_rec):
                                precision[t, rr, k, a, mi] = 0.0
                                scores[t, rr, k, a, mi] = 0.0
                            break
                        precision[t, r, k, a, mi] = tp_pr[lo]
                        scores[t, r, k, a, mi] = det_score[idx[tp_at[lo]]]
