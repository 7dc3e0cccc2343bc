"""Accumulation of matched detections into COCO's precision/recall arrays."""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit

_EPS = np.spacing(1)


@jit
def accumulate_curves(
    block_offsets, block_order, det_rank, det_score, det_state,
    n_pos, rec_thrs, max_dets, min_score, precision, recall, scores,
):
    """Fill ``precision[T,R,K,A,M]``, ``recall[T,K,A,M]``, ``scores[T,R,K,A,M]``.

    Block ``k`` (a category, or everything when ``useCats=0``) holds the
    positions ``block_order[block_offsets[k]:block_offsets[k+1]]`` already in
    ``accumulate``'s order (descending score, ties by image then in-image
    rank). For each maxDet, detections of in-image rank ``>= maxDet`` drop out
    (pycocotools' per-image ``[0:maxDet]`` cut); detections scoring below
    ``min_score`` drop out too (the post-hoc threshold sweep; ``-inf`` keeps all).

    Mirrors ``COCOeval.accumulate`` (cocoeval.py): ignored detections stay in
    the sequence with flat cumulative counts, ``pr = tp / (fp + tp + eps)``,
    the right-to-left precision envelope, ``searchsorted(rc, recThrs, 'left')``
    and zeros past the last recall reached. Arrays must arrive filled with -1;
    a (category, area) with no non-ignored ground truth stays -1.
    """
    n_blocks = block_offsets.shape[0] - 1
    n_thr = det_state.shape[1]
    n_area = det_state.shape[0]
    n_rec = rec_thrs.shape[0]
    n_m = max_dets.shape[0]
    longest = 0
    for k in range(n_blocks):
        longest = max(longest, block_offsets[k + 1] - block_offsets[k])
    pos = np.empty(longest, np.int64)
    rc = np.empty(longest, np.float64)
    pr = np.empty(longest, np.float64)
    for k in range(n_blocks):
        b0 = block_offsets[k]
        b1 = block_offsets[k + 1]
        for a in range(n_area):
            npig = n_pos[k, a]
            if npig == 0:
                continue
            for mi in range(n_m):
                max_det = max_dets[mi]
                n = 0
                for i in range(b0, b1):
                    p = block_order[i]
                    if det_rank[p] < max_det and det_score[p] >= min_score:
                        pos[n] = p
                        n += 1
                for t in range(n_thr):
                    tp = 0.0
                    fp = 0.0
                    for i in range(n):
                        s = det_state[a, t, pos[i]]
                        if s == 1:
                            tp += 1.0
                        elif s == 0:
                            fp += 1.0
                        rc[i] = tp / npig
                        pr[i] = tp / (fp + tp + _EPS)
                    recall[t, k, a, mi] = rc[n - 1] if n > 0 else 0.0
                    for i in range(n - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    for r in range(n_rec):
                        # np.searchsorted(rc, recThrs[r], side='left')
                        thr = rec_thrs[r]
                        lo = 0
                        hi = n
                        while lo < hi:
                            mid = (lo + hi) >> 1
                            if rc[mid] < thr:
                                lo = mid + 1
                            else:
                                hi = mid
                        if lo >= n:
                            # pycocotools' bare try/except stops at the first miss.
                            for rr in range(r, n_rec):
                                precision[t, rr, k, a, mi] = 0.0
                                scores[t, rr, k, a, mi] = 0.0
                            break
                        precision[t, r, k, a, mi] = pr[lo]
                        scores[t, r, k, a, mi] = det_score[pos[lo]]
