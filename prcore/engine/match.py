"""Group, sort, cut and match: the ``evaluate()`` half of ``COCOeval``.

Records are grouped into (image, category) cells in pycocotools' order
(``_prepare``), each cell's detections sorted by score and cut to the largest
maxDets (``computeIoU``), the similarity of each cell computed by the kind's
kernel (:mod:`prcore.engine.similarity`) and every cell matched by the one
greedy matcher (``evaluateImg``). The result is a :class:`MatchTable`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prcore._kernels import (
    cell_keys,
    descending_score_keys,
    match_cells,
    place_in_cells,
    radix_sort,
    scatter_by_key,
    scatter_selected,
)
from prcore.engine.parallel import run_split
from prcore.engine.similarity import cell_similarity, gt_ignore
from prcore.io.load import INDEX, Detections, GroundTruth
from prcore.params import Params


@dataclass(frozen=True, eq=False)
class MatchTable:
    """Every kept detection's matching outcome, in accumulation order.

    Detections are grouped in blocks (one per category; one in all when
    ``use_cats`` is off) and, inside a block, ordered as ``COCOeval.accumulate``
    orders them: descending score, ties by image then rank in the image.

    Attributes
    ----------
    det_index : int32 (D,)
        Position of the detection in the results file (pycocotools id - 1); its
        image and category are ``Detections.img[det_index]`` / ``.cat[det_index]``
        (indices into ``GroundTruth.img_ids`` / ``cat_ids``).
    det_score : float64 (D,)
    det_rank : int32 (D,)
        Rank by score inside its (image, category) cell (pycocotools' per-image
        maxDets cut keeps ``rank < maxDet``).
    det_cell : int32 (D,)
        Position of the detection in the matching's cell order, for ``det_state``.
    det_state : uint8 ((A + 3) // 4, T, D)
        0 false positive, 1 true positive, 2 ignored, per area range and IoU
        threshold, in the matching's cell order (category-major, so a block's
        states lie in one range), two bits per area range: read them with
        :meth:`states`.
    block_offsets : int64 (K + 1,)
        Block ``k`` is ``block_offsets[k]:block_offsets[k + 1]``.
    n_pos : int64 (K, A)
        Non-ignored ground truths per block and area range.
    n_gt : int64 (C,)
        Ground truths not ignored (crowds; for keypoints also those without
        keypoints) per category (all areas), for tables.
    n_dt : int64 (C,)
        Detections per category within the selected images (before any cut).
    """

    det_index: np.ndarray
    det_score: np.ndarray
    det_rank: np.ndarray
    det_cell: np.ndarray
    det_state: np.ndarray
    block_offsets: np.ndarray
    n_pos: np.ndarray
    n_gt: np.ndarray
    n_dt: np.ndarray

    def states(self, area: int, thr: int, cells: np.ndarray) -> np.ndarray:
        """States (0 FP, 1 TP, 2 ignored) at area range ``area``, threshold ``thr``
        of the detections at positions ``cells`` of the matching's cell order."""
        return (self.det_state[area >> 2, thr, cells] >> (2 * (area & 3))) & 3


def _offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _group(fine: np.ndarray, n_fine: int, coarse: np.ndarray | None, n_coarse: int):
    """Stable grouping by ``fine`` key; offsets of the ``coarse`` groups.

    ``coarse`` (or ``fine`` itself when None) must be non-decreasing in
    ``fine`` order, as the image is inside (image, category) keys.
    """
    fine_offsets = _offsets(np.bincount(fine, minlength=n_fine))
    order = _scatter(np.arange(len(fine), dtype=np.int64), fine, fine_offsets)
    if coarse is None:
        return order, fine_offsets
    return order, _offsets(np.bincount(coarse, minlength=n_coarse))


def _score_sorted(items: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``items`` (indices, sorted in place) stably by descending ``score[item]``."""
    keys = np.empty(len(items), np.uint64)
    descending_score_keys(score, items, keys)
    radix_sort(keys, items, np.empty_like(keys), np.empty_like(items), np.empty(65536, np.int64))
    return items


def _scatter(items: np.ndarray, key: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``items`` grouped stably by ``key[item]``."""
    out = np.empty(len(items), items.dtype)
    scatter_by_key(items, key, offsets[:-1].copy(), out)
    return out


def _positions(table: np.ndarray, wanted: tuple[int, ...]) -> np.ndarray:
    """For each entry of sorted ``table``, its position in ``wanted`` or -1."""
    out = np.full(len(table), -1, np.int64)
    w = np.asarray(wanted, np.int64)
    pos = np.searchsorted(table, w)
    ok = pos < len(table)
    ok[ok] = table[pos[ok]] == w[ok]
    out[pos[ok]] = np.flatnonzero(ok)
    return out


@dataclass(frozen=True, eq=False)
class MatchDetails:
    """Which ground truth each detection matched, for per-object views (``evalImgs``).

    Attributes
    ----------
    det_cells : int64 (C + 1,)
        Cell ``c`` (category-major: ``c = k * I + i``; with ``use_cats`` off, ``c = i``)
        holds detections ``det_cells[c]:det_cells[c + 1]`` of the cell order.
    det_index : int32 (D,)
        Each detection's position in the results file, in cell order.
    g_cells : int64 (C + 1,)
        Cell ``c`` holds ground truths ``g_cells[c]:g_cells[c + 1]`` of ``g_index``.
    g_index : int64 (G,)
        Each selected ground truth's position in the annotations, in cell order.
    g_ignore : bool (G,)
        Its ``ignore`` flag as ``COCOeval._prepare`` sets it (crowd; for
        keypoints also no keypoint), in cell order.
    det_match : int32 (A, T, D)
        The matched ground truth's position in its cell (-1: none), in cell order.
    sim_offsets : int64 (C + 1,), sim : float64 (S,)
        Cell ``c``'s row-major ``[D, G]`` similarity matrix is
        ``sim[sim_offsets[c]:sim_offsets[c + 1]]``.
    """

    det_cells: np.ndarray
    det_index: np.ndarray
    g_cells: np.ndarray
    g_index: np.ndarray
    g_ignore: np.ndarray
    det_match: np.ndarray
    sim_offsets: np.ndarray
    sim: np.ndarray


def match(
    gt: GroundTruth, dets: Detections, params: Params, details: bool = False
) -> MatchTable | tuple[MatchTable, MatchDetails]:
    """Group, sort, cut and match; the ``evaluate()`` half of COCOeval.

    With ``details``, also the per-detection matches and similarities
    (:class:`MatchDetails`), which the fast path never keeps.
    """
    img_pos = _positions(gt.img_ids, params.img_ids)
    cat_pos = _positions(gt.cat_ids, params.cat_ids)
    n_img = len(params.img_ids)
    n_cat = len(params.cat_ids)
    use_cats = params.use_cats
    g_sel, g_cells = _ground_truth_cells(gt, img_pos, cat_pos, n_img, n_cat, use_cats)
    order = _detection_orders(dets, img_pos, cat_pos, n_img, n_cat, use_cats, params.max_dets[-1])
    det_cells, det_index, acc_index, det_rank, det_score, det_cell, n_dt = order
    del order

    area_rng = params.area_rng_array()
    n_thr = len(params.iou_thrs)
    det_match = np.empty((len(area_rng), n_thr, len(det_index)) if details else (0, 0, 0), INDEX)
    sim_offsets = _offsets(np.diff(det_cells) * np.diff(g_cells))
    g_ignore = gt_ignore(params, gt, g_sel)
    det_state = match_all_cells(
        cell_similarity(params, gt, dets, g_sel),
        det_cells,
        det_index,
        dets.area,
        g_cells,
        np.ascontiguousarray(gt.ann_area[g_sel]),
        g_ignore,
        np.ascontiguousarray(gt.ann_crowd[g_sel]),
        np.ascontiguousarray(gt.ann_id[g_sel]),
        sim_offsets,
        params.iou_thrs_array(),
        area_rng,
        det_match,
    )

    if use_cats:
        block_offsets = det_cells[::n_img] if n_img else np.zeros(n_cat + 1, np.int64)
        block_offsets = np.ascontiguousarray(block_offsets)
        n_blocks = n_cat
        g_block = cat_pos[gt.ann_cat[g_sel]]
    else:
        block_offsets = np.array([0, len(acc_index)], np.int64)
        n_blocks = 1
        g_block = np.zeros(len(g_sel), np.int64)
    n_pos = np.zeros((n_blocks, len(area_rng)), np.int64)
    g_ar = gt.ann_area[g_sel]
    for a, (lo, hi) in enumerate(area_rng):
        regular = ~g_ignore & (g_ar >= lo) & (g_ar <= hi)
        n_pos[:, a] = np.bincount(g_block[regular], minlength=n_blocks)
    n_gt = np.bincount(cat_pos[gt.ann_cat[g_sel]][~g_ignore], minlength=n_cat)
    table = MatchTable(
        det_index=acc_index,
        det_score=det_score,
        det_rank=det_rank,
        det_cell=det_cell,
        det_state=det_state,
        block_offsets=block_offsets,
        n_pos=n_pos,
        n_gt=n_gt,
        n_dt=n_dt,
    )
    if not details:
        return table
    sim = np.empty(int(sim_offsets[-1]), np.float64)
    cell_similarity(params, gt, dets, g_sel)(
        det_cells, det_index, g_cells, sim_offsets, sim, 0, len(det_cells) - 1,
        _largest(det_cells),
    )  # fmt: skip
    return table, MatchDetails(
        det_cells=det_cells,
        det_index=det_index,
        g_cells=g_cells,
        g_index=g_sel,
        g_ignore=g_ignore,
        det_match=det_match,
        sim_offsets=sim_offsets,
        sim=sim,
    )


def _ground_truth_cells(gt: GroundTruth, img_pos, cat_pos, n_img: int, n_cat: int, use_cats):
    """The selected annotations grouped into cells: ``(g_sel, g_cells)``.

    File order inside a cell, as ``_prepare`` appends them; with ``useCats=0``
    one cell per image, holding its categories in ``catIds`` order.
    """
    g_img = img_pos[gt.ann_img]
    g_cat = cat_pos[gt.ann_cat]
    g_keep = np.flatnonzero((g_img >= 0) & (g_cat >= 0))
    g_img = g_img[g_keep]
    g_cat = g_cat[g_keep]
    if use_cats:
        n_cells = n_cat * n_img
        g_fine = g_cat * n_img + g_img
    else:
        n_cells = n_img
        g_fine = g_img * n_cat + g_cat
    g_order, g_cells = _group(g_fine, n_img * n_cat, g_img if not use_cats else None, n_cells)
    return g_keep[g_order], g_cells


def _detection_orders(dets: Detections, img_pos, cat_pos, n_img, n_cat, use_cats, max_det):
    """The selected detections in cell order and in accumulation order, cut to ``max_det``.

    Two orders, from one score sort and stable scatters:
      accumulation order (block, -score, image, rank) -- accumulate()'s
      concatenation of images followed by a stable sort on score;
      cell order (image, category, -score, file position) -- evaluateImg's
      per-cell stable sort (for useCats=0, category before file position,
      as its per-image list is built category by category).
    computeIoU keeps only the top ``maxDets[-1]`` of each cell.

    Returns ``det_cells`` (cell offsets), ``det_index`` (cell order), and in
    accumulation order ``acc_index``, ``det_rank``, ``det_score``,
    ``det_cell`` (position in cell order); and ``n_dt`` per category.
    Per-detection temporaries are released as soon as they are used: at COCO
    scale each is several MB and together they set the peak memory.
    """
    n_all = len(dets.score)
    d_img = np.empty(n_all, INDEX)  # dense keys, -1 where an id subset drops the record
    d_cat = np.empty(n_all, INDEX)
    d_fine = np.empty(n_all, np.int64)  # (category, image) pairs may pass 2**31
    img_counts = np.zeros(n_img, np.int64)
    n_dt = np.zeros(n_cat, np.int64)
    fine_counts = np.zeros(n_img * n_cat, np.int64)
    n_sel = cell_keys(
        dets.img, dets.cat, img_pos, cat_pos, n_img, n_cat, use_cats, d_img, d_cat, d_fine,
        img_counts, n_dt, fine_counts,
    )  # fmt: skip
    img_groups = _offsets(img_counts)
    cat_groups = _offsets(n_dt)
    score_all = dets.score
    items = np.empty(n_sel, INDEX)
    if use_cats:
        scatter_selected(d_img, img_groups[:-1].copy(), items)  # (image, file)
        items = _score_sorted(items, score_all)
        acc_items = _scatter(items, d_cat, cat_groups)  # (category, -score, image, file)
        cell, cell_sizes = d_fine, fine_counts
        del d_img, d_cat
    else:
        scatter_selected(d_cat, cat_groups[:-1].copy(), items)  # (category, file)
        items = _scatter(items, d_img, img_groups)  # (image, category, file)
        acc_items = _score_sorted(items, score_all)
        cell, cell_sizes = d_img, img_counts
        del d_cat, d_fine
    del items
    # The per-cell arrays are as long as images x categories (3 MB each at
    # val2017 scale): the sizes' array is cut in place, then reused as
    # place_in_cells' running count.
    np.minimum(cell_sizes, max_det, out=cell_sizes)
    det_cells = _offsets(cell_sizes)
    cell_sizes.fill(0)
    n_kept = int(det_cells[-1])
    det_index = np.empty(n_kept, INDEX)
    acc_index = np.empty(n_kept, INDEX)
    det_rank = np.empty(n_kept, INDEX)
    det_score = np.empty(n_kept, np.float64)
    det_cell = np.empty(n_kept, INDEX)
    place_in_cells(
        acc_items, cell, det_cells, max_det, score_all, det_index, acc_index, det_rank,
        det_score, det_cell, cell_sizes,
    )  # fmt: skip
    return det_cells, det_index, acc_index, det_rank, det_score, det_cell, n_dt


# Similarities are computed and matched in chunks of about this many pairs per
# thread, so that no matrix of every cell is ever held.
_CHUNK_PAIRS = 1 << 18


def _largest(offsets: np.ndarray) -> int:
    return max(int(np.diff(offsets).max()) if len(offsets) > 1 else 0, 1)


def match_all_cells(
    similarity, det_cells, det_index, det_area, g_cells, gt_area, gt_ignore, gt_crowd, gt_id,
    sim_offsets, iou_thrs, area_rng, det_match,
) -> np.ndarray:  # fmt: skip
    """The packed states (see :class:`MatchTable`) of every cell, matched on all cores.

    Each thread takes a range of cells and walks it in chunks: the kind's
    similarity kernel fills the chunk's matrices, then the matcher reads them.
    """
    n_area, n_thr = len(area_rng), len(iou_thrs)
    det_state = np.zeros(((n_area + 3) // 4, n_thr, len(det_index)), np.uint8)
    max_d = _largest(det_cells)
    max_g = _largest(g_cells)

    def work(c_lo: int, c_hi: int) -> None:
        best_sim = np.empty(max_d, np.float64)
        gt_order = np.empty(max_g, np.int64)
        gt_ig = np.empty((n_area, max_g), np.bool_)
        gt_taken = np.empty(max_g, np.bool_)
        matched = np.empty((n_area, n_thr, max_d), np.int64)
        sim = np.empty(0, np.float64)
        while c_lo < c_hi:
            # the next chunk: at least one cell, at most _CHUNK_PAIRS pairs beyond it
            end = np.searchsorted(sim_offsets, sim_offsets[c_lo] + _CHUNK_PAIRS, side="right")
            end = int(min(max(end - 1, c_lo + 1), c_hi))
            n_pairs = int(sim_offsets[end] - sim_offsets[c_lo])
            if len(sim) < n_pairs:
                sim = np.empty(max(n_pairs, _CHUNK_PAIRS), np.float64)
            similarity(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, end, max_d)
            match_cells(
                det_cells, det_index, det_area, g_cells, gt_area, gt_ignore, gt_crowd, gt_id,
                sim_offsets, sim, iou_thrs, area_rng, det_state, det_match, best_sim, gt_order,
                gt_ig, gt_taken, matched, c_lo, end,
            )  # fmt: skip
            c_lo = end

    run_split(work, det_cells, ())
    return det_state
