"""Each detection's outcome at one IoU threshold, and every overlap it has in its image.

The per-object analysis views (:mod:`prcore.confusion`,
:mod:`prcore.error_breakdown`) read the same two things: pycocotools' own
per-category matching at one threshold (``evaluateImg``: which detection is a
true positive, which ground truth it took, which detections and ground truths
are ignored), and the similarity of each detection with every ground truth of
its image, whatever their categories. The first is the engine's matching
with details; the second is the kind's similarity kernel run over whole
images (the engine's matching with ``use_cats`` off, whose matches are not
used). Both are gathered here once, as flat arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from prcore.engine.match import MatchDetails, match
from prcore.errors import PrcoreInputError

if TYPE_CHECKING:
    from prcore.params import Params
    from prcore.result import EvaluationResult


@dataclass(frozen=True, eq=False)
class MatchOutcomes:
    """Per-category matching at one IoU threshold, area range and maxDets, with overlaps.

    Detections are those the matching keeps (the top ``maxDets`` of each
    image and category), in the matching's cell order: category, image, then
    descending score. Ground truths are the selected annotations in cell order.

    Attributes
    ----------
    params : Params
        One IoU threshold, one area range, one maxDets; ``use_cats`` on.
    det_index : int64 (D,)
        Position of each detection in the results file.
    det_cat, det_img : int64 (D,)
        Position of its category in ``params.cat_ids``, of its image in ``params.img_ids``.
    det_rank : int64 (D,)
        Rank by score inside its (image, category) cell.
    det_score : float64 (D,)
    det_state : uint8 (D,)
        0 false positive, 1 true positive, 2 ignored (``evaluateImg``'s ``dtIgnore``).
    det_gt : int64 (D,)
        The ground truth (position in the ``gt_`` arrays) it matched, -1 for none.
    gt_index : int64 (G,)
        Position of each ground truth in the annotations.
    gt_cat, gt_img : int64 (G,)
    gt_ignore : bool (G,)
        Ignored at this area range: crowd (keypoints: also no keypoint), or an
        area outside the range (``evaluateImg``'s ``gtIgnore``).
    gt_matched : bool (G,)
        Taken by a true positive.
    pair_det, pair_gt : int64 (P,)
        Every detection and non-ignored ground truth of the same image whose
        similarity is above 0, whatever their categories (keypoints: the
        same category only, OKS being defined by the category's sigmas).
    pair_sim : float64 (P,)
        Their IoU (box or mask) or OKS.
    """

    params: Params
    det_index: np.ndarray
    det_cat: np.ndarray
    det_img: np.ndarray
    det_rank: np.ndarray
    det_score: np.ndarray
    det_state: np.ndarray
    det_gt: np.ndarray
    gt_index: np.ndarray
    gt_cat: np.ndarray
    gt_img: np.ndarray
    gt_ignore: np.ndarray
    gt_matched: np.ndarray
    pair_det: np.ndarray
    pair_gt: np.ndarray
    pair_sim: np.ndarray

    @property
    def n_categories(self) -> int:
        return len(self.params.cat_ids)


def _cell_pairs(details: MatchDetails) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(detection, ground truth, similarity)`` of every entry of every cell's matrix,
    as positions in the cell orders of ``details``."""
    n_cells = len(details.det_cells) - 1
    sizes = np.diff(details.sim_offsets)
    cell = np.repeat(np.arange(n_cells, dtype=np.int64), sizes)
    local = np.arange(len(details.sim), dtype=np.int64) - details.sim_offsets[cell]
    n_g = np.diff(details.g_cells)[cell]
    det = details.det_cells[cell] + local // np.maximum(n_g, 1)
    g = details.g_cells[cell] + local % np.maximum(n_g, 1)
    return det, g, details.sim


def match_outcomes(
    result: EvaluationResult, iou: float, area: str, max_dets: int | None
) -> MatchOutcomes:
    """Match ``result``'s inputs again at ``iou``, per category, with every overlap.

    The matching is pycocotools' per category (``use_cats`` on, whatever the
    evaluation's), so its true positives are those of ``result`` at that
    threshold. See :meth:`~prcore.result.EvaluationResult._match_details` for
    the arguments (and the errors they raise).
    """
    params, table, details = result._match_details(iou, area, max_dets, use_cats=True)
    gt, dets = result._ground_truth, result._detections
    n_img = len(params.img_ids)
    n_det = len(details.det_index)
    det_cell = np.repeat(np.arange(len(details.det_cells) - 1), np.diff(details.det_cells))
    g_cell = np.repeat(np.arange(len(details.g_cells) - 1), np.diff(details.g_cells))
    det_state = np.asarray(table.states(0, 0, np.arange(n_det)), np.uint8)
    lo, hi = params.area_rng[0]
    g_area = gt.ann_area[details.g_index]
    gt_ignore = details.g_ignore | (g_area < lo) | (g_area > hi)

    m = details.det_match[0, 0].astype(np.int64)
    det_gt = np.where(m >= 0, details.g_cells[det_cell] + m, -1)
    gt_matched = np.zeros(len(details.g_index), bool)
    gt_matched[det_gt[det_state == 1]] = True

    pair_det, pair_gt, pair_sim = _cell_pairs(details)
    if params.iou_type != "keypoints":
        # Cross-category overlaps: the same kernel over each whole image.
        whole = params.replace(use_cats=False, max_dets=(max(len(dets), 1),))
        _, every = match(gt, dets, whole, details=True)
        d, g, s = _cell_pairs(every)
        det_of_file = np.full(len(dets), -1, np.int64)
        det_of_file[details.det_index] = np.arange(n_det)
        gt_of_ann = np.full(len(gt.ann_id), -1, np.int64)
        gt_of_ann[details.g_index] = np.arange(len(details.g_index))
        d = det_of_file[every.det_index[d]]
        g = gt_of_ann[every.g_index[g]]
        known = (d >= 0) & (g >= 0)
        d, g, s = d[known], g[known], s[known]
        other = det_cell[d] // n_img != g_cell[g] // n_img  # same-category pairs are above
        pair_det = np.concatenate([pair_det, d[other]])
        pair_gt = np.concatenate([pair_gt, g[other]])
        pair_sim = np.concatenate([pair_sim, s[other]])
    keep = (pair_sim > 0) & ~gt_ignore[pair_gt]
    return MatchOutcomes(
        params=params,
        det_index=details.det_index.astype(np.int64),
        det_cat=det_cell // n_img,
        det_img=det_cell % n_img,
        det_rank=np.arange(n_det) - details.det_cells[det_cell],
        det_score=dets.score[details.det_index],
        det_state=det_state,
        det_gt=det_gt,
        gt_index=details.g_index.astype(np.int64),
        gt_cat=g_cell // n_img,
        gt_img=g_cell % n_img,
        gt_ignore=gt_ignore,
        gt_matched=gt_matched,
        pair_det=pair_det[keep],
        pair_gt=pair_gt[keep],
        pair_sim=pair_sim[keep],
    )


def overlap_order(outcomes: MatchOutcomes) -> np.ndarray:
    """The pairs by detection, then descending similarity, then ground truth: what
    :func:`best_overlap` sorts by, to sort once for several calls."""
    return np.lexsort((outcomes.pair_gt, -outcomes.pair_sim, outcomes.pair_det))


def best_overlap(
    outcomes: MatchOutcomes, among: np.ndarray, order: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each detection's highest similarity among the pairs ``among`` (bool (P,)), and
    which ground truth gives it (ties: the first in cell order); 0 and -1 for none.

    ``order``, when given, is :func:`overlap_order` of ``outcomes``: a pair is one
    (detection, ground truth), so the pairs ``among`` keep that order, and sorting
    them again (the cost of this function on large data) is skipped.
    """
    n = len(outcomes.det_score)
    best = np.zeros(n, np.float64)
    which = np.full(n, -1, np.int64)
    if order is None:
        order = overlap_order(outcomes)
    sel = order[among[order]]
    d, g, s = outcomes.pair_det[sel], outcomes.pair_gt[sel], outcomes.pair_sim[sel]
    first = np.r_[True, d[1:] != d[:-1]] if len(d) else np.zeros(0, bool)
    best[d[first]] = s[first]
    which[d[first]] = g[first]
    return best, which


def outcomes_for(
    result: EvaluationResult,
    iou: float,
    area: str,
    max_dets: int | None,
    outcomes: MatchOutcomes | None = None,
) -> MatchOutcomes:
    """``outcomes`` when given (computed once for several views), else
    :func:`match_outcomes` of ``result`` at ``iou``, ``area``, ``max_dets``."""
    if outcomes is None:
        return match_outcomes(result, iou, area, max_dets)
    wanted = result._match_params(iou, area, max_dets, use_cats=True)
    if outcomes.params != wanted:
        raise PrcoreInputError(
            "outcomes were matched with other parameters than these views ask for",
            field="outcomes",
        )
    return outcomes
