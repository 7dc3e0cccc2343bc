"""Which similarity a kind of evaluation matches on: the pluggable half of matching.

Each kind gives a function that fills the similarity matrices of a range of
cells (see :mod:`prcore._kernels.similarity`); the greedy matcher
(:mod:`prcore.engine.match`) is the same for every kind. Adding ``segm`` or
``keypoints`` means adding columns in :mod:`prcore.io.load` and an entry here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from prcore._kernels import box_iou_cells
from prcore.errors import PrcoreInputError
from prcore.io.load import Detections, GroundTruth

# fill(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, c_hi, max_d)
CellSimilarity = Callable[..., None]


def cell_similarity(iou_type: str, gt: GroundTruth, dets: Detections, g_sel) -> CellSimilarity:
    """The similarity of ``iou_type`` between ``dets`` and the selected ground truths."""
    if iou_type == "bbox":
        return _box_iou(dets, np.ascontiguousarray(gt.ann_bbox[g_sel]), gt.ann_crowd[g_sel])
    raise PrcoreInputError(f"iou_type {iou_type!r} is not supported yet (only 'bbox')")


def _box_iou(dets: Detections, gt_box: np.ndarray, gt_crowd: np.ndarray) -> CellSimilarity:
    gt_crowd = np.ascontiguousarray(gt_crowd)

    def fill(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, c_hi, max_d):
        box_iou_cells(
            det_cells, det_index, dets.bbox, g_cells, gt_box, gt_crowd, sim_offsets, sim,
            np.empty((max_d, 4), np.float64), c_lo, c_hi,
        )  # fmt: skip

    return fill
