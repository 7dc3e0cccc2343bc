"""Matched detections -> COCO's ``precision``, ``recall`` and ``scores`` arrays."""

from __future__ import annotations

import numpy as np

from prcore._kernels import accumulate_curves
from prcore.engine.match import MatchTable
from prcore.engine.parallel import run_split
from prcore.params import Params


def accumulate(table: MatchTable, params: Params, min_score: float = -np.inf):
    """``precision``, ``recall``, ``scores`` arrays in COCOeval's layout."""
    n_blocks = table.block_offsets.shape[0] - 1
    shape = (
        len(params.iou_thrs),
        len(params.rec_thrs),
        n_blocks,
        len(params.area_rng),
        len(params.max_dets),
    )
    precision = np.full(shape, -1.0)  # not -np.ones: that makes a second array
    scores = np.full(shape, -1.0)
    recall = np.full((shape[0], shape[2], shape[3], shape[4]), -1.0)
    longest = max(int(np.diff(table.block_offsets).max()) if n_blocks else 0, 1)
    run_split(
        accumulate_curves,
        table.block_offsets,
        (
            table.block_offsets,
            table.det_rank,
            table.det_score,
            table.det_cell,
            table.det_state,
            table.n_pos,
            params.rec_thrs_array(),
            params.max_dets_array(),
            float(min_score),
            precision,
            recall,
            scores,
        ),
        lambda: (
            np.empty(longest, np.int64),
            np.empty(longest, np.int64),
            np.empty(longest + 1, np.int64),
            np.empty(longest + 1, np.int64),
            np.empty(longest, np.float64),
        ),
    )
    return precision, recall, scores
