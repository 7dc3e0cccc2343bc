"""Similarity kernels, one per kind: the pluggable half of matching.

Each fills a cell's ``[D, G]`` similarity matrix (detections in score order,
ground truths in the cell's order), row-major, into a flat buffer that the one
greedy matcher (:mod:`prcore._kernels.match`) reads. Adding a kind means adding
a kernel here with the same cell layout.
"""

from __future__ import annotations

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
    det_offsets, det_index, bbox, gt_offsets, gt_box, gt_crowd, sim_offsets, sim, cell_box, c_lo, c_hi
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
