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
def sort_by_score_desc(items, score, buf):
    """Stable sort of ``items`` in place by descending ``score[item]``.

    Insertion-sorted runs of 32, then bottom-up merges (taking the left run on
    ties), so equal scores keep their order like ``np.argsort(-s, kind='mergesort')``.
    """
    n = items.shape[0]
    run = 32
    for lo in range(0, n, run):
        hi = min(lo + run, n)
        for i in range(lo + 1, hi):
            item = items[i]
            s = score[item]
            j = i - 1
            while j >= lo and score[items[j]] < s:
                items[j + 1] = items[j]
                j -= 1
            items[j + 1] = item
    if n <= run:
        return
    width = run
    in_buf = False  # merge items -> buf, then buf -> items, alternating
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            if in_buf:
                _merge(buf, items, lo, mid, hi, score)
            else:
                _merge(items, buf, lo, mid, hi, score)
        in_buf = not in_buf
        width *= 2
    if in_buf:
        for i in range(n):
            items[i] = buf[i]


@jit
def _merge(src, dst, lo, mid, hi, score):
    """Merge sorted runs ``src[lo:mid]`` and ``src[mid:hi]`` into ``dst`` (left wins ties)."""
    i = lo
    j = mid
    k = lo
    while i < mid and j < hi:
        if score[src[j]] > score[src[i]]:
            dst[k] = src[j]
            j += 1
        else:
            dst[k] = src[i]
            i += 1
        k += 1
    while i < mid:
        dst[k] = src[i]
        i += 1
        k += 1
    while j < hi:
        dst[k] = src[j]
        j += 1
        k += 1


@jit
def sort_groups_by_score(order, offsets, score):
    """Within each group, stable sort of ``order`` by descending score.

    Equivalent to ``np.argsort(-score, kind='mergesort')`` per group
    (``COCOeval.computeIoU`` / ``evaluateImg``).
    """
    longest = 0
    for c in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[c + 1] - offsets[c])
    buf = np.empty(longest, np.int64)
    for c in range(offsets.shape[0] - 1):
        lo = offsets[c]
        hi = offsets[c + 1]
        if hi - lo > 1:
            sort_by_score_desc(order[lo:hi], score, buf)


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
    out = np.arange(n)
    sort_groups_by_score(out, block_offsets, score)
    return out


@jit
def gather_rows(src, order):
    """``src[order]`` for a 2-D array (one pass, no temporaries)."""
    n = order.shape[0]
    out = np.empty((n, src.shape[1]), src.dtype)
    m = src.shape[1]
    for i in range(n):
        p = order[i]
        for j in range(m):
            out[i, j] = src[p, j]
    return out
