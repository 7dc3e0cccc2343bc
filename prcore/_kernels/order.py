"""Grouping and ordering kernels: detections into (image, category) cells.

pycocotools groups records with dicts keyed by ``(image_id, category_id)`` and
sorts each cell's detections with ``np.argsort(-scores, kind='mergesort')``;
these kernels reproduce that order with stable counting sorts and a stable
radix sort on score keys.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit


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


@jit
def descending_score_keys(score, items, out):
    """``out[i]``: a uint64 key of ``score[items[i]]``; ascending keys are descending scores.

    The float's bits with the sign flipped (non-negative) or all bits flipped
    (negative) order like the floats; the complement reverses that. ``-0.0``
    counts as ``0.0``, as in pycocotools' ``np.argsort(-scores)``.
    """
    sign = np.uint64(1) << np.uint64(63)
    for i in range(items.shape[0]):
        bits = np.float64(score[items[i]] + 0.0).view(np.uint64)
        ascending = ~bits if bits & sign else bits | sign
        out[i] = ~ascending


@jit
def ranks_in_groups(offsets, out):
    """``out[j] = j - offsets[g]`` for ``j`` in group ``g``: each item's rank in its group."""
    for g in range(offsets.shape[0] - 1):
        for j in range(offsets[g], offsets[g + 1]):
            out[j] = j - offsets[g]
