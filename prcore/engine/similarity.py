"""Which similarity a kind of evaluation matches on: the pluggable half of matching.

Each kind gives a function that fills the similarity matrices of a range of
cells (see :mod:`prcore._kernels.similarity`), and says which ground truths
the matcher ignores (``COCOeval._prepare``); the greedy matcher
(:mod:`prcore.engine.match`) is the same for every kind. Adding a kind means
adding columns in :mod:`prcore.io.load` and an entry here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from prcore import _kernels
from prcore._kernels import box_iou_cells, oks_sums, oks_terms
from prcore.errors import PrcoreInputError
from prcore.io.load import Detections, GroundTruth
from prcore.params import COCO_PERSON_SIGMAS, Params

# fill(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, c_hi, max_d)
CellSimilarity = Callable[..., None]


def cell_similarity(params: Params, gt: GroundTruth, dets: Detections, g_sel) -> CellSimilarity:
    """The similarity of ``params.iou_type`` between ``dets`` and the selected ground truths.

    ``g_sel`` are the selected annotations in cell order; cells are
    category-major (``c = k * len(params.img_ids) + i``).
    """
    if params.iou_type == "bbox":
        return _box_iou(dets, np.ascontiguousarray(gt.ann_bbox[g_sel]), gt.ann_crowd[g_sel])
    if params.iou_type == "keypoints":
        return _oks(params, gt, dets, g_sel)
    if params.iou_type == "segm":
        return _mask_iou(gt, dets, g_sel)
    raise PrcoreInputError(f"iou_type {params.iou_type!r} is not supported")


def gt_ignore(params: Params, gt: GroundTruth, g_sel) -> np.ndarray:
    """The ``ignore`` flag ``COCOeval._prepare`` gives the selected ground truths (bool).

    ``iscrowd`` (a given ``ignore`` field is overwritten); for keypoints also
    ``num_keypoints == 0``.
    """
    ignore = gt.ann_crowd[g_sel]
    if params.iou_type == "keypoints":
        count = _keypoint_columns(gt)[1][g_sel]
        absent = np.isnan(count)
        if absent.any():
            raise _gt_error(gt, g_sel[np.argmax(absent)], "num_keypoints", "is missing")
        ignore = ignore | (count == 0)
    return np.ascontiguousarray(ignore)


def _box_iou(dets: Detections, gt_box: np.ndarray, gt_crowd: np.ndarray) -> CellSimilarity:
    gt_crowd = np.ascontiguousarray(gt_crowd)

    def fill(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, c_hi, max_d):
        box_iou_cells(
            det_cells, det_index, dets.bbox, g_cells, gt_box, gt_crowd, sim_offsets, sim,
            np.empty((max_d, 4), np.float64), c_lo, c_hi,
        )  # fmt: skip

    return fill


# ---------------------------------------------------------------- masks


def _mask_iou(gt: GroundTruth, dets: Detections, g_sel) -> CellSimilarity:
    """Mask IoU, ``COCOeval.computeIoU`` for segm (``maskUtils.iou`` of the RLEs).

    The results' masks stay compressed strings: the kernel decodes each
    detection that meets ground truth once, into a scratch of one mask's runs,
    and compares it with its cell's ground truths, so no column of every mask
    (nor of a chunk's) is ever held.
    """
    if gt.masks is None:
        raise PrcoreInputError(
            "the ground truth was loaded without masks; load it with iou_type='segm'",
            file=gt.source,
        )
    if dets.masks is None:
        raise PrcoreInputError("the detections were loaded without masks", file=dets.source)
    # the cells reach the ground truth's masks through g_index: no copy in cell order
    g_index = np.ascontiguousarray(g_sel, np.int64)
    g_counts, g_offsets, g_box = gt.masks.counts, gt.masks.offsets, gt.masks.bbox
    g_crowd = np.ascontiguousarray(gt.ann_crowd[g_sel])
    encoded = dets.masks
    longest = int((encoded.ends - encoded.starts).max()) if len(encoded.starts) else 0

    def fill(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, c_hi, max_d):
        _kernels.mask_iou_cells(
            det_cells, det_index, encoded.buf, encoded.starts, encoded.ends, encoded.h, encoded.w,
            encoded.escaped, g_cells, g_index, g_counts, g_offsets, g_box, g_crowd, sim_offsets,
            sim, c_lo, c_hi, np.empty(max(longest, 1), np.uint32),
        )  # fmt: skip

    return fill


# ---------------------------------------------------------------- keypoints

# OKS terms held at once per thread (8 MB), or one cell's when it needs more.
_TERMS = 1 << 20


def _oks(params: Params, gt: GroundTruth, dets: Detections, g_sel) -> CellSimilarity:
    """Object keypoint similarity, ``COCOeval.computeOks`` (see :func:`oks_terms`)."""
    if not params.use_cats:
        # computeOks reads the cell (image, -1) when useCats is off, which holds
        # nothing, and evaluateImg matches nothing on its empty result.
        def nothing(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, c_hi, max_d):
            sim[: sim_offsets[c_hi] - sim_offsets[c_lo]] = -1.0

        return nothing

    gt_kpt, _ = _keypoint_columns(gt)
    if dets.keypoints is None:
        raise PrcoreInputError("the detections were loaded without keypoints", file=dets.source)
    kpt_vars, var_offsets = _vars(params)
    n_img = len(params.img_ids)
    sigma_counts = np.diff(var_offsets)
    _check_ground_truth(params, gt, gt_kpt, g_sel, sigma_counts)
    _check_detections(params, gt, dets, sigma_counts)

    g_values, g_offsets = gt_kpt.take(g_sel)  # in cell order
    g_box = np.ascontiguousarray(gt.ann_bbox[g_sel])
    g_area = np.ascontiguousarray(gt.ann_area[g_sel])
    d_values, d_offsets = dets.keypoints.values, dets.keypoints.offsets
    k_max = int(sigma_counts.max()) if len(sigma_counts) else 1

    def fill(det_cells, det_index, g_cells, sim_offsets, sim, c_lo, c_hi, max_d):
        base = sim_offsets[c_lo]
        term_offsets = np.empty(int(sim_offsets[c_hi] - base) + 1, np.int64)
        max_g = int(np.diff(g_cells[c_lo : c_hi + 1]).max()) if c_hi > c_lo else 0
        terms = np.empty(max(_TERMS, max_d * max_g * k_max), np.float64)
        c = c_lo
        while c < c_hi:
            term_offsets[0] = 0
            end = oks_terms(
                det_cells, det_index, d_values, d_offsets, g_cells, g_values, g_offsets, g_box,
                g_area, kpt_vars, var_offsets, n_img, sim_offsets, term_offsets, terms, c, c_hi,
            )  # fmt: skip
            s0, s1 = int(sim_offsets[c] - base), int(sim_offsets[end] - base)
            used = terms[: term_offsets[s1 - s0]]
            np.negative(used, out=used)
            np.exp(used, out=used)  # numpy's exp, as computeOks takes it
            oks_sums(term_offsets, terms, sim[s0:s1], 0, s1 - s0)
            c = end

    return fill


def _keypoint_columns(gt: GroundTruth):
    if gt.keypoints is None or gt.num_keypoints is None:
        raise PrcoreInputError(
            "the ground truth was loaded without keypoints; load it with iou_type='keypoints'",
            file=gt.source,
        )
    return gt.keypoints, gt.num_keypoints


def _vars(params: Params) -> tuple[np.ndarray, np.ndarray]:
    """computeOks' ``vars = (sigmas * 2)**2`` of each category (``params.cat_ids`` order),
    one after the other, and their offsets."""
    per_cat = [(np.asarray(params.sigmas_for(c), np.float64) * 2) ** 2 for c in params.cat_ids]
    offsets = np.zeros(len(per_cat) + 1, np.int64)
    np.cumsum([len(v) for v in per_cat], out=offsets[1:])
    values = np.concatenate(per_cat) if per_cat else np.zeros(0, np.float64)
    return np.ascontiguousarray(values), offsets


def _count_message(params: Params, cat_id: int, name: str, n: int, k: int) -> str:
    given = tuple(params.sigmas_for(cat_id)) != COCO_PERSON_SIGMAS
    whose = "its OKS sigmas" if given else "no OKS sigmas are given for it (COCO's person sigmas"
    tail = ")" if not given else ""
    return (
        f"category {cat_id} ({name!r}) has {_n(n, 'keypoint')} here, but {whose} are {k}{tail}; "
        f"give {_n(n, 'sigma')} for it: Params(kpt_oks_sigmas={{{cat_id}: [...]}}) or "
        f"--kpt-sigmas {cat_id}=S1,S2,..."
    )


def _n(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _gt_error(gt: GroundTruth, index, field: str, message: str) -> PrcoreInputError:
    index = int(index)
    return PrcoreInputError(
        message,
        file=gt.source,
        section="annotations",
        index=index,
        record_id=int(gt.ann_id[index]),
        field=field,
    )


def _check_ground_truth(params: Params, gt: GroundTruth, kpt, g_sel, sigma_counts) -> None:
    """Each selected ground truth lists its category's number of keypoints, or none."""
    missing = kpt.missing[g_sel]
    if missing.any():
        raise _gt_error(gt, g_sel[np.argmax(missing)], "keypoints", "is missing")
    cat_pos = np.searchsorted(np.asarray(params.cat_ids, np.int64), gt.cat_ids[gt.ann_cat[g_sel]])
    counts = kpt.counts()[g_sel]
    bad = (counts != sigma_counts[cat_pos]) & (counts != 0)
    if bad.any():
        i = int(np.argmax(bad))
        k = int(cat_pos[i])
        cat_id = params.cat_ids[k]
        name = gt.cat_names[gt.category_index(cat_id)]
        message = _count_message(params, cat_id, name, int(counts[i]), int(sigma_counts[k]))
        raise _gt_error(gt, g_sel[i], "keypoints", message)


def _check_detections(params: Params, gt: GroundTruth, dets: Detections, sigma_counts) -> None:
    """Each detection of a selected image and category lists its category's keypoints."""
    cat_ids = np.asarray(params.cat_ids, np.int64)
    det_cat = gt.cat_ids[dets.cat]
    cat_pos = np.minimum(np.searchsorted(cat_ids, det_cat), max(len(cat_ids) - 1, 0))
    selected = np.isin(gt.img_ids[dets.img], np.asarray(params.img_ids, np.int64))
    selected &= len(cat_ids) > 0
    selected[selected] = cat_ids[cat_pos[selected]] == det_cat[selected]
    bad = selected.copy()
    bad[selected] = dets.keypoints.counts()[selected] != sigma_counts[cat_pos[selected]]
    if bad.any():
        i = int(np.argmax(bad))
        k = int(cat_pos[i])
        cat_id = params.cat_ids[k]
        name = gt.cat_names[gt.category_index(cat_id)]
        n = int(dets.keypoints.counts()[i])
        raise PrcoreInputError(
            _count_message(params, cat_id, name, n, int(sigma_counts[k])),
            file=dets.source,
            index=i,
            record_id=int(gt.img_ids[dets.img[i]]),
            field="keypoints",
            id_name="image_id",
        )
