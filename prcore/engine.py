"""Orchestration: columns -> kernels -> an immutable result.

The steps mirror ``COCOeval``: select the images and categories of the
parameters, group records into (image, category) cells in pycocotools' order
(``_prepare``), sort and cut each cell's detections (``computeIoU``), match
(``evaluateImg``), accumulate (``accumulate``) and summarise (``summarize``).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from prcore import warmup
from prcore._kernels import (
    accumulate_curves,
    cell_keys,
    dense_index,
    descending_score_keys,
    match_cells,
    place_in_cells,
    radix_sort,
    scatter_by_key,
    scatter_selected,
)
from prcore._kernels.native import bundle
from prcore.errors import PrcoreInputError
from prcore.load import INDEX, Detections, GroundTruth, load_detections, load_ground_truth
from prcore.pages import plain_pages, return_free_memory
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
        Non-crowd ground truths per category (all areas), for tables.
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


_THREADS = max(1, min(os.cpu_count() or 1, 8))
_POOL: ThreadPoolExecutor | None = None


def _run_split(kernel, offsets: np.ndarray, args: tuple, scratch=lambda: ()) -> None:
    """Run ``kernel(*args, *scratch(), lo, hi)`` over item ranges on all cores.

    The kernels release the GIL (``nogil``) and write disjoint slices, so
    threads share the work without ``numba.prange`` (whose compile cost would
    dominate a cold first run). Ranges are cut to balance detections; each
    thread gets its own scratch arrays.
    """
    global _POOL
    n_items = len(offsets) - 1
    total = int(offsets[-1]) if n_items else 0
    if _THREADS == 1 or total < 20000:
        kernel(*args, *scratch(), 0, n_items)
        return
    cuts = np.searchsorted(offsets, np.linspace(0, total, _THREADS + 1)[1:-1])
    bounds = [0, *cuts.tolist(), n_items]
    if _POOL is None:
        _POOL = ThreadPoolExecutor(_THREADS, thread_name_prefix="prcore")
    futures = [
        _POOL.submit(kernel, *args, *scratch(), lo, hi)
        for lo, hi in zip(bounds, bounds[1:])
        if hi > lo
    ]
    for f in futures:
        f.result()


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


def resolve_params(params: Params | None, gt: GroundTruth, iou_type: str) -> Params:
    """Parameters with ``img_ids``/``cat_ids`` filled from the ground truth."""
    if params is None:
        params = Params(iou_type=iou_type)
    elif params.iou_type != iou_type:
        params = params.replace(iou_type=iou_type)
    if params.iou_type != "bbox":
        raise PrcoreInputError(f"iou_type {params.iou_type!r} is not supported yet (only 'bbox')")
    img_ids = params.img_ids if params.img_ids is not None else gt.img_ids.tolist()
    cat_ids = params.cat_ids if params.cat_ids is not None else gt.cat_ids.tolist()
    return params.with_ids(img_ids, cat_ids)


def _positions(table: np.ndarray, wanted: tuple[int, ...]) -> np.ndarray:
    """For each entry of sorted ``table``, its position in ``wanted`` or -1."""
    out = np.full(len(table), -1, np.int64)
    w = np.asarray(wanted, np.int64)
    pos = np.searchsorted(table, w)
    ok = pos < len(table)
    ok[ok] = table[pos[ok]] == w[ok]
    out[pos[ok]] = np.flatnonzero(ok)
    return out


def match(gt: GroundTruth, dets: Detections, params: Params) -> MatchTable:
    """Group, sort, cut and match; the ``evaluate()`` half of COCOeval."""
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
    det_state = _match_all_cells(
        det_cells,
        det_index,
        dets.bbox,
        g_cells,
        np.ascontiguousarray(gt.ann_bbox[g_sel]),
        np.ascontiguousarray(gt.ann_area[g_sel]),
        np.ascontiguousarray(gt.ann_crowd[g_sel]),
        np.ascontiguousarray(gt.ann_id[g_sel]),
        params.iou_thrs_array(),
        area_rng,
    )
    del det_index  # cell order: only the matching needs it

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
    g_cr = gt.ann_crowd[g_sel]
    for a, (lo, hi) in enumerate(area_rng):
        regular = ~g_cr & (g_ar >= lo) & (g_ar <= hi)
        n_pos[:, a] = np.bincount(g_block[regular], minlength=n_blocks)
    n_gt = np.bincount(cat_pos[gt.ann_cat[g_sel]][~g_cr], minlength=n_cat)
    return MatchTable(
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
    return_free_memory()  # the sort's keys and buffers, before the cell arrays
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


def _match_all_cells(
    det_cells, det_index, bbox, g_cells, gt_box, gt_area, gt_crowd, gt_id, iou_thrs, area_rng
) -> np.ndarray:
    """The packed states (see :class:`MatchTable`) of every cell, matched on all cores."""
    warmup.await_late_kernels()
    n_area, n_thr = len(area_rng), len(iou_thrs)
    det_state = np.zeros(((n_area + 3) // 4, n_thr, len(det_index)), np.uint8)
    n_cells = len(det_cells) - 1
    max_d = max(int(np.diff(det_cells).max()) if n_cells else 0, 1)
    max_g = max(int(np.diff(g_cells).max()) if n_cells else 0, 1)

    def scratch():
        return (
            np.empty((max_d, 4), np.float64),
            np.empty(max_d, np.float64),
            np.empty((max_d, max_g), np.float64),
            np.empty(max_d, np.float64),
            np.empty(max_g, np.int64),
            np.empty((n_area, max_g), np.bool_),
            np.empty(max_g, np.bool_),
            np.empty((n_area, n_thr, max_d), np.int64),
        )

    _run_split(
        match_cells,
        det_cells,
        (
            det_cells, det_index, bbox, g_cells, gt_box, gt_area, gt_crowd, gt_id,
            iou_thrs, area_rng, det_state,
        ),
        scratch,
    )  # fmt: skip
    return det_state


def accumulate(table: MatchTable, params: Params, min_score: float = -np.inf):
    """``precision``, ``recall``, ``scores`` arrays in COCOeval's layout."""
    warmup.await_late_kernels()
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
    _run_split(
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
    if bundle() is None:  # evaluate() and the COCOeval facade both come here
        warmup.request_native()  # later processes then start without numba
    return precision, recall, scores


_KERNELS = (
    dense_index,
    scatter_by_key,
    cell_keys,
    scatter_selected,
    descending_score_keys,
    radix_sort,
    place_in_cells,
    match_cells,
    accumulate_curves,
)
_preloading: threading.Thread | None = None


def _preload_kernels() -> None:
    """In a fresh process, load the engine's cached kernels while the files are scanned.

    Not needed when the ahead-of-time build serves them: it loaded in one go.
    """
    global _preloading
    if _preloading is None and bundle() is None and not match_cells.jit.overloads:
        from prcore._kernels.jit import preload

        _preloading = threading.Thread(
            target=preload,
            args=([k.jit for k in _KERNELS],),
            name="prcore-preload",
            daemon=True,
        )
        _preloading.start()


def evaluate(gt: Any, dt: Any, iou_type: str = "bbox", params: Params | None = None):
    """Evaluate detections against ground truth, exactly as pycocotools does.

    Parameters
    ----------
    gt : path or dict or GroundTruth
        COCO instances JSON (``images``, ``annotations``, ``categories``).
    dt : path or list of dict or Detections
        COCO results (``[{image_id, category_id, bbox, score}, ...]``).
    iou_type : {"bbox"}
    params : Params, optional
        pycocotools' defaults when omitted.

    Returns
    -------
    EvaluationResult
    """
    from prcore.result import EvaluationResult

    _preload_kernels()
    if not (match_cells.ready() and accumulate_curves.ready()):
        warmup.compile_late_kernels_aside()  # a cold first run: compile them in parallel
    with plain_pages():
        ground_truth = load_ground_truth(gt)
        detections = load_detections(dt, ground_truth)
        return_free_memory()  # the scan's copies and its second thread's columns
        params = resolve_params(params, ground_truth, iou_type)
        table = match(ground_truth, detections, params)
        return_free_memory()
        precision, recall, scores = accumulate(table, params)
    _warn_categories_without_gt(ground_truth, detections, table, params)
    warmup.start_requested()  # the background build or compile, if this run did without it
    return EvaluationResult.build(
        params=params,
        ground_truth=ground_truth,
        table=table,
        precision=precision,
        recall=recall,
        scores=scores,
        n_detections=len(detections),
    )


def _warn_categories_without_gt(gt, dets, table: MatchTable, params: Params) -> None:
    import warnings

    from prcore.errors import PrcoreWarning

    lonely = np.flatnonzero((table.n_dt > 0) & (table.n_gt == 0))
    # crowd-only categories have n_gt 0 too; warn only where no annotation exists at all.
    if not len(lonely):
        return
    has_any = np.zeros(len(gt.cat_ids), bool)
    has_any[gt.ann_cat] = True
    cat_pos_ids = np.asarray(params.cat_ids, np.int64)
    ids = [
        int(cat_pos_ids[k])
        for k in lonely
        if not has_any[np.searchsorted(gt.cat_ids, cat_pos_ids[k])]
    ]
    if ids:
        n = int(table.n_dt[lonely].sum())
        warnings.warn(
            f"{dets.source}: {n} detection(s) of categories with no ground truth "
            f"(ids {', '.join(map(str, ids[:10]))}{'...' if len(ids) > 10 else ''}); "
            "pycocotools scores those categories as -1 (absent) and leaves them out of the means",
            PrcoreWarning,
            stacklevel=3,
        )


def compile_late_kernels() -> None:
    """Compile ``match_cells`` and ``accumulate_curves`` on tiny input.

    With the argument types :func:`match` and :func:`accumulate` pass, so that
    numba's cache then holds exactly the signatures a real evaluation loads.
    A cold first run has :mod:`prcore.warmup` call this in a helper process
    while it parses the files and compiles the grouping kernels itself.
    """
    one = _offsets(np.ones(1, np.int64))
    box = np.array([[0.0, 0.0, 1.0, 1.0]])
    params = Params().with_ids([1], [1])
    det_state = _match_all_cells(
        one, np.zeros(1, INDEX), box, one, box.copy(), np.ones(1), np.zeros(1, np.bool_),
        np.ones(1, np.int64), params.iou_thrs_array(), params.area_rng_array(),
    )  # fmt: skip
    table = MatchTable(
        det_index=np.zeros(1, INDEX),
        det_score=np.ones(1),
        det_rank=np.zeros(1, INDEX),
        det_cell=np.zeros(1, INDEX),
        det_state=det_state,
        block_offsets=one,
        n_pos=np.ones((1, len(params.area_rng)), np.int64),
        n_gt=np.ones(1, np.int64),
        n_dt=np.ones(1, np.int64),
    )
    accumulate(table, params)
