"""Similarity kernels, one per kind: the pluggable half of matching.

Each fills a cell's ``[D, G]`` similarity matrix (detections in score order,
ground truths in the cell's order), row-major, into a flat buffer that the one
greedy matcher (:mod:`prcore._kernels.match`) reads. Adding a kind means adding
a kernel here with the same cell layout.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit


@jit
def iou_boxes(dt, gt, crowd, out):
    """Box IoU of every detection with every ground truth, into ``out[D, G]``.

    Mirrors ``bbIou`` in pycocotools' ``common/maskApi.c`` operation for
    operation (so results are bit-identical): boxes are ``[x, y, w, h]``; for a
    crowd ground truth the union is the detection's own area.
    """
    n_dt = dt.shape[0]
    n_gt = gt.shape[0]
    for g in range(n_gt):
        gx = gt[g, 0]
        gy = gt[g, 1]
        gw = gt[g, 2]
        gh = gt[g, 3]
        ga = gw * gh
        is_crowd = crowd[g]
        for d in range(n_dt):
            dx = dt[d, 0]
            dy = dt[d, 1]
            dw = dt[d, 2]
            dh = dt[d, 3]
            da = dw * dh
            out[d, g] = 0.0
            w = min(dw + dx, gw + gx) - max(dx, gx)
            if w <= 0:
                continue
            h = min(dh + dy, gh + gy) - max(dy, gy)
            if h <= 0:
                continue
            inter = w * h
            if is_crowd:
                union = da
            else:
                union = da + ga - inter
            out[d, g] = inter / union


@jit
def box_iou_cells(
    det_offsets,
    det_index,
    bbox,
    gt_offsets,
    gt_box,
    gt_crowd,
    sim_offsets,
    sim,
    cell_box,
    c_lo,
    c_hi,
):
    """Box IoU of cells ``c_lo:c_hi`` into ``sim`` (``COCOeval.computeIoU`` for bbox).

    Cell ``c``'s matrix starts at ``sim_offsets[c] - sim_offsets[c_lo]``.
    Detection ``d`` of the cell is ``bbox[det_index[det_offsets[c] + d]]``,
    gathered into ``cell_box[maxD, 4]`` (scratch) so no full copy is made.
    """
    base = sim_offsets[c_lo]
    for c in range(c_lo, c_hi):
        d0 = det_offsets[c]
        n_d = det_offsets[c + 1] - d0
        g0 = gt_offsets[c]
        n_g = gt_offsets[c + 1] - g0
        if n_d == 0 or n_g == 0:
            continue
        for d in range(n_d):
            row = det_index[d0 + d]
            for j in range(4):
                cell_box[d, j] = bbox[row, j]
        s0 = sim_offsets[c] - base
        out = sim[s0 : s0 + n_d * n_g].reshape((n_d, n_g))
        iou_boxes(cell_box[:n_d], gt_box[g0 : g0 + n_g], gt_crowd[g0 : g0 + n_g], out)


# np.spacing(1): what pycocotools adds to the ground truth's area in computeOks.
_EPS = 2.220446049250313e-16


@jit
def oks_terms(
    det_offsets, det_index, dt_kpt, dt_kpt_offsets, gt_offsets, gt_kpt, gt_kpt_offsets, gt_box,
    gt_area, kpt_vars, var_offsets, n_img, sim_offsets, term_offsets, terms, c_lo, c_hi,
):  # fmt: skip
    """First pass of OKS (``COCOeval.computeOks``): the exponents ``e`` of cells from ``c_lo``.

    pycocotools' OKS of a detection and a ground truth is
    ``np.sum(np.exp(-e)) / len(e)``, where ``e = (dx**2 + dy**2) / vars /
    (area + np.spacing(1)) / 2`` per keypoint, in that operation order, and
    only over the ground truth's visible keypoints (``v > 0``) when it has
    any. Without a visible one, ``dx`` and ``dy`` are the distances of the
    detection's keypoints outside the ground-truth box doubled about its
    centre (``x0 = x - w``, ``x1 = x + 2w``; likewise in y), and every
    keypoint counts. numpy's ``exp`` is not libm's in the last bit (its own
    SIMD code on some CPUs), so this kernel writes ``e`` and the caller takes
    ``np.exp(-e)`` of the whole buffer; :func:`oks_sums` then sums each pair's
    terms in numpy's order.

    Cells are category-major (``c = k * n_img + i``); category ``k``'s
    ``vars = (2 * sigmas)**2`` are ``kpt_vars[var_offsets[k]:var_offsets[k + 1]]``
    (``K`` of them). Detection ``d`` of cell ``c`` is record
    ``det_index[det_offsets[c] + d]``, whose keypoints are
    ``dt_kpt[dt_kpt_offsets[row]:]`` (``3K`` values); ground truth ``g`` is
    ``gt_offsets[c] + g`` with ``3K`` values or none (no visible keypoint).
    Pair ``p`` (row-major ``[D, G]`` in cell order, ``p`` counted from
    ``sim_offsets[c_lo]``) gets terms ``terms[term_offsets[p]:term_offsets[p + 1]]``.
    Stops before the first cell whose terms might not fit (never before
    ``c_lo + 1``: ``terms`` holds at least one cell's) and returns where it
    stopped.
    """
    base = sim_offsets[c_lo]
    cap = terms.shape[0]
    pos = 0
    c = c_lo
    while c < c_hi:
        d0 = det_offsets[c]
        n_d = det_offsets[c + 1] - d0
        g0 = gt_offsets[c]
        n_g = gt_offsets[c + 1] - g0
        k = c // n_img
        v0 = var_offsets[k]
        n_k = var_offsets[k + 1] - v0
        if n_d == 0 or n_g == 0:
            c += 1
            continue
        if c > c_lo and pos + n_d * n_g * n_k > cap:
            break
        p = sim_offsets[c] - base
        for d in range(n_d):
            dk = dt_kpt_offsets[det_index[d0 + d]]
            for g in range(n_g):
                term_offsets[p] = pos
                p += 1
                gk = gt_kpt_offsets[g0 + g]
                n_gk = (gt_kpt_offsets[g0 + g + 1] - gk) // 3
                visible = 0
                for j in range(n_gk):
                    if gt_kpt[gk + 3 * j + 2] > 0:
                        visible += 1
                scale = gt_area[g0 + g] + _EPS
                if visible > 0:
                    for j in range(n_k):
                        if gt_kpt[gk + 3 * j + 2] > 0:
                            dx = dt_kpt[dk + 3 * j] - gt_kpt[gk + 3 * j]
                            dy = dt_kpt[dk + 3 * j + 1] - gt_kpt[gk + 3 * j + 1]
                            terms[pos] = (dx * dx + dy * dy) / kpt_vars[v0 + j] / scale / 2.0
                            pos += 1
                else:
                    bx = gt_box[g0 + g, 0]
                    by = gt_box[g0 + g, 1]
                    bw = gt_box[g0 + g, 2]
                    bh = gt_box[g0 + g, 3]
                    x0 = bx - bw
                    x1 = bx + bw * 2
                    y0 = by - bh
                    y1 = by + bh * 2
                    for j in range(n_k):
                        xd = dt_kpt[dk + 3 * j]
                        yd = dt_kpt[dk + 3 * j + 1]
                        dx = max(0.0, x0 - xd) + max(0.0, xd - x1)
                        dy = max(0.0, y0 - yd) + max(0.0, yd - y1)
                        terms[pos] = (dx * dx + dy * dy) / kpt_vars[v0 + j] / scale / 2.0
                        pos += 1
        term_offsets[p] = pos
        c += 1
    return c


@jit
def _block_sum(a, lo, n):
    """numpy's ``pairwise_sum`` for ``n <= 128`` (numpy/_core/src/umath/loops_utils.h.src):
    sequential below 8 values, else eight interleaved accumulators combined as a tree."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    whole = n - n % 8
    while i < whole:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@jit
def pairwise_sum(a, lo, n):
    """``np.sum(a[lo:lo + n])`` of float64, bit for bit: numpy's pairwise summation,
    halves cut at multiples of 8 above 128 values, added to the reduction's 0.0."""
    if n <= 128:
        return 0.0 + _block_sum(a, lo, n)
    # The recursion, unrolled on an explicit stack (numba's AOT build prefers no
    # self-recursion): a block's total is its left half's plus its right half's.
    total = 0.0
    stack_lo = np.empty(64, np.int64)
    stack_n = np.empty(64, np.int64)
    partial = np.empty(64, np.float64)
    state = np.zeros(64, np.int64)  # 0: to split, 1: left done
    top = 0
    stack_lo[0] = lo
    stack_n[0] = n
    while top >= 0:
        m = stack_n[top]
        if m <= 128 and state[top] == 0:
            value = _block_sum(a, stack_lo[top], m)
            top -= 1
            while top >= 0 and state[top] == 1:  # a right half finished its parent
                value = partial[top] + value
                top -= 1
            if top < 0:
                total = value
                break
            # a left half finished: keep it, do the right half
            partial[top] = value
            state[top] = 1
            half = stack_n[top] // 2
            half -= half % 8
            stack_lo[top + 1] = stack_lo[top] + half
            stack_n[top + 1] = stack_n[top] - half
            state[top + 1] = 0
            top += 1
        else:
            half = m // 2
            half -= half % 8
            stack_lo[top + 1] = stack_lo[top]
            stack_n[top + 1] = half
            state[top + 1] = 0
            top += 1
    return 0.0 + total


@jit
def oks_sums(term_offsets, terms, sim, p_lo, p_hi):
    """Second pass of OKS: ``sim[p] = np.sum(terms[...]) / len`` of pairs ``p_lo:p_hi``, where
    ``terms`` now holds ``np.exp(-e)`` (see :func:`oks_terms`)."""
    for p in range(p_lo, p_hi):
        t0 = term_offsets[p]
        n = term_offsets[p + 1] - t0
        sim[p] = pairwise_sum(terms, t0, n) / n
