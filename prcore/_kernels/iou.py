"""Per-pair similarity kernels (the pluggable part of matching)."""

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


def iou_boxes_matrix(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """Convenience wrapper returning a new ``[D, G]`` IoU matrix."""
    out = np.zeros((dt.shape[0], gt.shape[0]), np.float64)
    iou_boxes(
        np.ascontiguousarray(dt, np.float64),
        np.ascontiguousarray(gt, np.float64),
        np.ascontiguousarray(crowd, np.bool_),
        out,
    )
    return out
