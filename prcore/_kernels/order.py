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
def counting_sort(keys, offsets, order):
    """Stable order of ``keys`` grouped by key, into ``order``.

    ``offsets`` (length ``n_keys + 1``) must hold the group starts, i.e. the
    cumulative counts of the keys; it is left unchanged.
    """
    n_keys = offsets.shape[0] - 1
    cursor = offsets[:n_keys].copy()
    for i in range(keys.shape[0]):
        k = keys[i]
        order[cursor[k]] = i
        cursor[k] += 1


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
def sort_groups_by_score(order, offsets, score, buf):
    """Within each group, stable sort of ``order`` by descending score.

    Equivalent to ``np.argsort(-score, kind='mergesort')`` per group
    (``COCOeval.computeIoU`` / ``evaluateImg``). ``buf`` is scratch as long
    as the longest group.
    """
    for c in range(offsets.shape[0] - 1):
        lo = offsets[c]
        hi = offsets[c + 1]
        if hi - lo > 1:
            sort_by_score_desc(order[lo:hi], score, buf)


@jit
def radix_sort(keys, items, keys_buf, items_buf, counts):
    """Stable LSD radix sort of ``items`` by unsigned 64-bit ``keys``, ascending, in place.

    ``keys[i]`` belongs to ``items[i]``; both are permuted together. Passes whose
    16-bit digit is the same for every key are skipped (float32-derived scores
    leave the low 29 bits zero). ``counts`` is scratch of length 65536.
    """
    n = keys.shape[0]
    in_buf = False
    mask = np.uint64(0xFFFF)
    for p in range(4):
        shift = np.uint64(16 * p)
        for d in range(65536):
            counts[d] = 0
        for i in range(n):
            k = keys_buf[i] if in_buf else keys[i]
            counts[np.int64((k >> shift) & mask)] += 1
        if n == 0:
            return
        first = keys_buf[0] if in_buf else keys[0]
        if counts[np.int64((first >> shift) & mask)] == n:
            continue
        total = 0
        for d in range(65536):
            c = counts[d]
            counts[d] = total
            total += c
        if in_buf:
            _radix_scatter(keys_buf, items_buf, keys, items, counts, shift, mask)
        else:
            _radix_scatter(keys, items, keys_buf, items_buf, counts, shift, mask)
        in_buf = not in_buf
    if in_buf:
        for i in range(n):
            keys[i] = keys_buf[i]
            items[i] = items_buf[i]


@jit
def _radix_scatter(src_k, src_i, dst_k, dst_i, starts, shift, mask):
    for i in range(src_k.shape[0]):
        k = src_k[i]
        d = np.int64((k >> shift) & mask)
        pos = starts[d]
        dst_k[pos] = k
        dst_i[pos] = src_i[i]
        starts[d] = pos + 1


@jit
def scatter_by_key(items, key, offsets, out):
    """Stable grouping: ``items`` into ``out`` by ``key[item]``, group ``g`` at ``offsets[g]``."""
    cursor = offsets[:-1].copy()
    for i in range(items.shape[0]):
        item = items[i]
        g = key[item]
        out[cursor[g]] = item
        cursor[g] += 1
