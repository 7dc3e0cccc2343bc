"""Per-object results: every detection and ground truth, labelled by the matching.

At one IoU threshold, area range and maxDets, these are pycocotools'
``evalImgs`` read object by object (``evaluateImg`` in cocoeval.py):

Detections, one row per result in file order (``id`` is pycocotools' id, the
position in the results file + 1):

- ``tp``: matched a ground truth that is not ignored;
- ``fp``: matched nothing, and its area lies inside the range;
- ``ignored``: matched an ignored ground truth (a crowd; for keypoints one
  without keypoints; one outside the area range), or matched nothing and lies
  outside the range (``dtIgnore``);
- ``cut``: beyond the per-image maxDets cut of its (image, category) cell,
  so not in ``evalImgs`` and never counted;
- ``not_evaluated``: its image or category is outside ``params.img_ids`` /
  ``cat_ids``.

Ground truths, one row per annotation in file order:

- ``matched`` / ``missed``: not ignored, with / without a detection;
- ``ignored``: a crowd (keypoints: or without keypoints), or outside the area
  range (``gtIgnore``); ``det_id`` is still the detection it absorbed, the
  last one in score order for a crowd (``gtMatches``);
- ``not_evaluated``: its image or category is outside the evaluated ids.

``gt_id``/``det_id`` is -1 and ``iou`` NaN where there is no match; ``iou`` is
the pair's similarity (IoU, mask IoU or OKS).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from prcore.result import EvaluationResult

DETECTION_LABELS = ("tp", "fp", "ignored", "cut", "not_evaluated")
GROUND_TRUTH_LABELS = ("matched", "missed", "ignored", "not_evaluated")


@dataclass(frozen=True, eq=False)
class DetectionOutcomes:
    """One row per detection, in results-file order; every array read-only.

    Attributes
    ----------
    id : int64 (N,)
        pycocotools' detection id (position in the results file + 1).
    image_id, category_id : int64 (N,)
    score : float64 (N,)
    label : str (N,)
        One of ``DETECTION_LABELS``.
    gt_id : int64 (N,)
        Annotation id of the matched ground truth, -1 for none.
    iou : float64 (N,)
        Similarity with it, NaN for none.
    """

    id: np.ndarray
    image_id: np.ndarray
    category_id: np.ndarray
    score: np.ndarray
    label: np.ndarray
    gt_id: np.ndarray
    iou: np.ndarray


@dataclass(frozen=True, eq=False)
class GroundTruthOutcomes:
    """One row per annotation, in the ground truth's file order; every array read-only.

    Attributes
    ----------
    id : int64 (G,)
        Annotation id.
    image_id, category_id : int64 (G,)
    area : float64 (G,)
        The ``area`` field, which the area range reads.
    iscrowd : bool (G,)
    label : str (G,)
        One of ``GROUND_TRUTH_LABELS``.
    det_id : int64 (G,)
        Id of the detection that matched it, -1 for none.
    iou : float64 (G,)
        Similarity with it, NaN for none.
    """

    id: np.ndarray
    image_id: np.ndarray
    category_id: np.ndarray
    area: np.ndarray
    iscrowd: np.ndarray
    label: np.ndarray
    det_id: np.ndarray
    iou: np.ndarray


_DET_FIELDS = ("id", "image_id", "category_id", "score", "label", "gt_id", "iou")
_GT_FIELDS = ("id", "image_id", "category_id", "area", "iscrowd", "label", "det_id", "iou")
CSV_COLUMNS = ("kind", "id", "image_id", "category_id", "score", "area", "iscrowd", "label",
               "matched_id", "iou")  # fmt: skip


def _records(columns, names: tuple[str, ...]) -> list[dict]:
    values = [getattr(columns, n).tolist() for n in names]
    out = []
    for row in zip(*values):
        record = dict(zip(names, row))
        if math.isnan(record["iou"]):
            record["iou"] = None
        out.append(record)
    return out


@dataclass(frozen=True, eq=False)
class ObjectMatches:
    """Per-object outcomes at one IoU threshold, area range and maxDets.

    Built by :meth:`prcore.result.EvaluationResult.matches`; see
    :mod:`prcore.objects` for the labels.
    """

    iou: float
    area: str
    max_dets: int
    iou_type: str
    detections: DetectionOutcomes
    ground_truths: GroundTruthOutcomes

    def counts(self) -> dict[str, dict[str, int]]:
        """How many detections and ground truths carry each label."""
        return {
            "detections": {
                k: int(np.count_nonzero(self.detections.label == k)) for k in DETECTION_LABELS
            },
            "ground_truths": {
                k: int(np.count_nonzero(self.ground_truths.label == k)) for k in GROUND_TRUTH_LABELS
            },
        }

    def to_records(self) -> dict[str, list[dict]]:
        """``{"detections": [...], "ground_truths": [...]}``, a dict per object (NaN: None)."""
        return {
            "detections": _records(self.detections, _DET_FIELDS),
            "ground_truths": _records(self.ground_truths, _GT_FIELDS),
        }

    def to_dict(self) -> dict:
        return {
            "iou": self.iou,
            "area": self.area,
            "max_dets": self.max_dets,
            "iou_type": self.iou_type,
            **self.to_records(),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent) + "\n"

    def to_csv(self) -> str:
        """One table, detections then ground truths, told apart by ``kind``.

        Columns ``CSV_COLUMNS``: ``score`` is empty for ground truths,
        ``area`` and ``iscrowd`` for detections; ``matched_id`` is the matched
        ground truth's id for a detection, the matching detection's id for a
        ground truth (empty for none), ``iou`` empty for none.
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)

        def cell(x):
            return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(x)

        d = self.detections
        for row in zip(*(getattr(d, n).tolist() for n in _DET_FIELDS)):
            i, img, cat, score, label, gt_id, iou = row
            writer.writerow(["detection", i, img, cat, repr(score), "", "", label,
                             gt_id if gt_id >= 0 else "", cell(iou)])  # fmt: skip
        g = self.ground_truths
        for row in zip(*(getattr(g, n).tolist() for n in _GT_FIELDS)):
            i, img, cat, area, crowd, label, det_id, iou = row
            writer.writerow(["ground_truth", i, img, cat, "", repr(area), int(crowd), label,
                             det_id if det_id >= 0 else "", cell(iou)])  # fmt: skip
        return out.getvalue()


def _frozen(**arrays) -> dict:
    for value in arrays.values():
        value.setflags(write=False)
    return arrays


def object_matches(
    result: EvaluationResult, iou: float = 0.5, area: str = "all", max_dets: int | None = None
) -> ObjectMatches:
    """Label every detection and ground truth; see :meth:`EvaluationResult.matches`."""
    params, _, details = result._match_details(iou, area, max_dets)
    gt, dets = result._ground_truth, result._detections
    lo, hi = params.area_rng[0]
    n_cells = len(details.det_cells) - 1
    n_det, n_ann = len(dets.score), len(gt.ann_id)

    # The ground truths in the cells, cell order: evaluateImg's gtIgnore.
    g_index = details.g_index
    g_area = gt.ann_area[g_index]
    g_ignored = details.g_ignore | (g_area < lo) | (g_area > hi)
    g_count = np.diff(details.g_cells)
    d_count = np.diff(details.det_cells)

    # The detections in the cells (the kept top maxDets), cell order.
    d_index = details.det_index.astype(np.int64)
    d_cell = np.repeat(np.arange(n_cells), d_count)
    d_local = np.arange(len(d_index)) - details.det_cells[d_cell]
    m = details.det_match[0, 0].astype(np.int64)  # position in the cell's ground truths
    hit = m >= 0
    g_pos = np.where(hit, details.g_cells[d_cell] + m, -1)  # position in g_index
    pair = details.sim_offsets[d_cell] + d_local * g_count[d_cell] + m
    d_iou = np.full(len(d_index), np.nan)
    d_iou[hit] = details.sim[pair[hit]]
    d_area = dets.area[d_index]
    d_ignored = (d_area < lo) | (d_area > hi)  # unmatched: outside the range
    d_ignored[hit] = g_ignored[g_pos[hit]]  # matched: as the ground truth

    # Detections: every result in file order.
    det_label = np.full(n_det, "not_evaluated", dtype="<U13")
    selected = np.isin(gt.img_ids[dets.img], params.img_ids) & np.isin(
        gt.cat_ids[dets.cat], params.cat_ids
    )
    det_label[selected] = "cut"
    det_label[d_index] = np.where(d_ignored, "ignored", np.where(hit, "tp", "fp"))
    gt_id = np.full(n_det, -1, np.int64)
    gt_id[d_index[hit]] = gt.ann_id[g_index[g_pos[hit]]]
    det_iou = np.full(n_det, np.nan)
    det_iou[d_index] = d_iou

    # Ground truths: every annotation in file order. A crowd can absorb several
    # detections; evaluateImg's gtMatches keeps the last in score order.
    hits = np.flatnonzero(hit)
    last = len(hits) - 1 - np.unique(g_pos[hits][::-1], return_index=True)[1]
    by_gt = hits[last]
    gt_label = np.full(n_ann, "not_evaluated", dtype="<U13")
    gt_label[g_index] = np.where(g_ignored, "ignored", "missed")
    g_matched = g_index[g_pos[by_gt]]
    gt_label[g_matched[~g_ignored[g_pos[by_gt]]]] = "matched"
    det_id = np.full(n_ann, -1, np.int64)
    det_id[g_matched] = d_index[by_gt] + 1
    ann_iou = np.full(n_ann, np.nan)
    ann_iou[g_matched] = d_iou[by_gt]

    return ObjectMatches(
        iou=float(params.iou_thrs[0]),
        area=params.area_rng_lbl[0],
        max_dets=int(params.max_dets[0]),
        iou_type=params.iou_type,
        detections=DetectionOutcomes(
            **_frozen(
                id=np.arange(1, n_det + 1, dtype=np.int64),
                image_id=gt.img_ids[dets.img].astype(np.int64),
                category_id=gt.cat_ids[dets.cat].astype(np.int64),
                score=np.array(dets.score, np.float64),
                label=det_label,
                gt_id=gt_id,
                iou=det_iou,
            )
        ),
        ground_truths=GroundTruthOutcomes(
            **_frozen(
                id=np.array(gt.ann_id, np.int64),
                image_id=gt.img_ids[gt.ann_img].astype(np.int64),
                category_id=gt.cat_ids[gt.ann_cat].astype(np.int64),
                area=np.array(gt.ann_area, np.float64),
                iscrowd=np.array(gt.ann_crowd, bool),
                label=gt_label,
                det_id=det_id,
                iou=ann_iou,
            )
        ),
    )
