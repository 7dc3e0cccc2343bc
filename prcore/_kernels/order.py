"""Grouping and ordering kernels: detections into (image, category) cells.

pycocotools groups records with dicts keyed by ``(image_id, category_id)`` and
sorts each cell's detections with ``np.argsort(-scores, kind='mergesort')``;
these kernels reproduce that order with a stable counting sort and stable
per-cell sorts.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit


@jit
def counting_sort(keys, n_keys):
    """Stable order of ``keys`` (ints in ``[0, n_keys)``) and group offsets."""
    n = keys.shape[0]
    offsets = np.zeros(n_keys + 1, np.int64)
    for i in range(n):
        offsets[keys[i] + 1] += 1
    for k in range(n_keys):
        offsets[k + 1] += offsets[k]
    cursor = offsets[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        k = keys[i]
        order[cursor[k]] = i
        cursor[k] += 1
    return order, offsets


@jit
def group_offsets(sorted_coarse, n_coarse):
    """Offsets of runs of a non-decreasing key array."""
    offsets = np.zeros(n_coarse + 1, np.int64)
    for i in range(sorted_coarse.shape[0]):
        offsets[sorted_coarse[i] + 1] += 1
    for k in range(n_coarse):
        offsets[k + 1] += offsets[k]
    return offsets


@jit
def sort_groups_by_score(order, offsets, score):
    """Within each group, stable sort of ``order`` by descending score.

    Equivalent to ``np.argsort(-score, kind='mergesort')`` per group
    (``COCOeval.computeIoU`` / ``evaluateImg``).
    """
    n_groups = offsets.shape[0] - 1
    for c in range(n_groups):
        lo = offsets[c]
        hi = offsets[c + 1]
        n = hi - lo
        if n < 2:
            continue
        if n <= 48:
            for i in range(lo + 1, hi):
                item = order[i]
                s = score[item]
                j = i - 1
                while j >= lo and score[order[j]] < s:
                    order[j + 1] = order[j]
                    j -= 1
                order[j + 1] = item
        else:
            seg = order[lo:hi].copy()
            neg = np.empty(n, np.float64)
            for i in range(n):
                neg[i] = -score[seg[i]]
            perm = np.argsort(neg, kind="mergesort")
            for i in range(n):
                order[lo + i] = seg[perm[i]]


@jit
def rank_in_groups(offsets, n):
    """Position of each sorted element inside its group."""
    rank = np.empty(n, np.int64)
    for c in range(offsets.shape[0] - 1):
        for i in range(offsets[c], offsets[c + 1]):
            rank[i] = i - offsets[c]
    return rank


@jit
def stable_score_order(block_offsets, score):
    """Per block, positions sorted by descending score, ties in input order.

    The order ``COCOeval.accumulate`` gets from concatenating the images'
    detections and ``np.argsort(-dtScores, kind='mergesort')``.
    """
    n = score.shape[0]
    out = np.empty(n, np.int64)
    for b in range(block_offsets.shape[0] - 1):
        lo = block_offsets[b]
        hi = block_offsets[b + 1]
        if hi == lo:
            continue
        neg = np.empty(hi - lo, np.float64)
        for i in range(lo, hi):
            neg[i - lo] = -score[i]
        perm = np.argsort(neg, kind="mergesort")
        for i in range(hi - lo):
            out[lo + i] = lo + perm[i]
    return out


@jit
def gather_rows(src, order):
    """``src[order]`` for a 2-D array (one pass, no temporaries)."""
    n = order.shape[0]
    out = np.empty((n, src.shape[1]), src.dtype)
    for i in range(n):
        p = order[i]
        for j in range(src.shape[1]):
            out[i, j] = src[p, j]
    return out
