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
def scatter_by_key(items, key, cursor, out):
    """Stable grouping: ``items`` into ``out`` by ``key[item]``.

    ``cursor[g]`` starts as group ``g``'s offset and is advanced (scratch).
    Like every kernel here it allocates nothing: array allocation would make
    numba import its array implementation (and more) on every cache load.
    """
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
def cell_keys(
    rec_img, rec_cat, img_pos, cat_pos, n_img, n_cat, use_cats, img, cat, fine,
    img_counts, cat_counts, fine_counts,
):  # fmt: skip
    """Dense selected image, category and cell key of every record, with group sizes.

    ``img[i]``/``cat[i]``: the record's position in the selected image and
    category ids, or -1 for both when either is not selected (COCOeval's
    ``imgIds``/``catIds`` subsets). ``fine[i]``: its (category, image) cell,
    or (image, category) when ``use_cats`` is off, as ``_prepare`` groups.
    Adds the selected records to the per-image, per-category and per-fine-key
    counts (zeros on entry) and returns how many there are.
    """
    n_selected = 0
    for i in range(rec_img.shape[0]):
        a = img_pos[rec_img[i]]
        c = cat_pos[rec_cat[i]]
        if a < 0 or c < 0:
            img[i] = -1
            cat[i] = -1
            fine[i] = -1
            continue
        img[i] = a
        cat[i] = c
        f = c * n_img + a if use_cats else a * n_cat + c
        fine[i] = f
        img_counts[a] += 1
        cat_counts[c] += 1
        fine_counts[f] += 1
        n_selected += 1
    return n_selected


@jit
def scatter_selected(key, cursor, out):
    """Stable grouping of the positions ``i`` with ``key[i] >= 0`` into ``out`` by key.

    ``cursor[g]`` starts as group ``g``'s offset (scratch).
    """
    for i in range(key.shape[0]):
        g = key[i]
        if g >= 0:
            out[cursor[g]] = i
            cursor[g] += 1


@jit
def place_in_cells(
    acc_items,
    cell,
    kept_offsets,
    max_det,
    score,
    cell_index,
    acc_index,
    acc_rank,
    acc_score,
    acc_cell,
    seen,
):
    """Cell order and the maxDets cut, from the accumulation order, in one pass.

    ``acc_items`` lists the selected detections in accumulation order and
    ``cell[item]`` is each one's cell. Inside a cell, cell order is the
    accumulation order (descending score, then file position), so a running
    count per cell is each detection's rank there: ranks from ``max_det`` on
    are cut (``computeIoU``), the rest go to ``cell_index[kept_offsets[c] +
    rank]``. The kept ones are also listed in accumulation order with their
    rank, score and position in cell order (``acc_*``). ``seen``: zeros, one
    per cell (scratch).
    """
    k = 0
    for i in range(acc_items.shape[0]):
        item = acc_items[i]
        c = cell[item]
        r = seen[c]
        seen[c] = r + 1
        if r >= max_det:
            continue
        j = kept_offsets[c] + r
        cell_index[j] = item
        acc_index[k] = item
        acc_rank[k] = r
        acc_cell[k] = j
        k += 1
    # A separate pass: independent reads, whose cache misses the CPU overlaps.
    for k in range(acc_index.shape[0]):
        acc_score[k] = score[acc_index[k]]
