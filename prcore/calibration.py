"""Calibration of detection scores: does a score of 0.8 mean 80% true positives?

Read off the evaluation's own matching at one evaluated IoU threshold: each
detection kept (within maxDets) that pycocotools does not ignore is a true
or a false positive. Scores are binned over [0, 1] in ``B`` equal-width bins
(``[b / B, (b + 1) / B)``, the last one closed); for bin ``b`` with ``n_b``
detections, ``precision_b`` is the fraction of true positives and
``score_b`` the mean score. With ``N = sum n_b``:

- expected calibration error ``ECE = sum_b n_b / N * |precision_b - score_b|``;
- maximum calibration error ``MCE = max_b |precision_b - score_b|`` over
  the bins that hold detections.

A score is read as a probability here, so every score must lie in [0, 1]:
a score outside it (a logit, say) is refused, naming how many there are,
rather than clipped into an end bin where it would bias that bin's mean.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from prcore.errors import PrcoreInputError
from prcore.summary import fmt_num, format_table


@dataclass(frozen=True, eq=False)
class ReliabilityCurve:
    """One class's (or all classes pooled) binned scores against precision.

    Attributes
    ----------
    category_id : int or None
        None for all classes pooled.
    category_name : str
    counts : int64 (B,)
        Non-ignored detections per bin.
    true_positives : int64 (B,)
    mean_score : float64 (B,)
        NaN for an empty bin.
    precision : float64 (B,)
        Fraction of true positives; NaN for an empty bin.
    ece, mce : float
        Expected and maximum calibration error; NaN with no detection.
    """

    category_id: int | None
    category_name: str
    counts: np.ndarray
    true_positives: np.ndarray
    mean_score: np.ndarray
    precision: np.ndarray
    ece: float
    mce: float

    @property
    def n_detections(self) -> int:
        return int(self.counts.sum())

    def to_dict(self) -> dict:
        def nums(a: np.ndarray) -> list:
            return [None if np.isnan(v) else float(v) for v in a.tolist()]

        return {
            "category_id": self.category_id,
            "name": self.category_name,
            "n_detections": self.n_detections,
            "ece": None if np.isnan(self.ece) else self.ece,
            "mce": None if np.isnan(self.mce) else self.mce,
            "counts": self.counts.tolist(),
            "true_positives": self.true_positives.tolist(),
            "mean_score": nums(self.mean_score),
            "precision": nums(self.precision),
        }


def reliability_curve(
    scores: np.ndarray, is_tp: np.ndarray, edges: np.ndarray, category_id, name: str
) -> ReliabilityCurve:
    """Bin ``scores`` (in [0, 1]) by ``edges`` and compare precision with mean score."""
    n_bins = len(edges) - 1
    b = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(b, minlength=n_bins).astype(np.int64)
    tps = np.bincount(b[is_tp], minlength=n_bins).astype(np.int64)
    sums = np.bincount(b, weights=scores, minlength=n_bins)
    full = counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.where(full, sums / counts, np.nan)
        precision = np.where(full, tps / counts, np.nan)
    gap = np.abs(precision[full] - mean_score[full])
    n = int(counts.sum())
    ece = float(np.sum(counts[full] / n * gap)) if n else float("nan")
    mce = float(gap.max()) if n else float("nan")
    for arr in (counts, tps, mean_score, precision):
        arr.setflags(write=False)
    return ReliabilityCurve(category_id, name, counts, tps, mean_score, precision, ece, mce)


@dataclass(frozen=True, eq=False)
class Calibration:
    """Reliability of the scores, pooled and per class (see the module's docstring).

    Attributes
    ----------
    edges : float64 (B + 1,)
        Bin edges over [0, 1].
    pooled : ReliabilityCurve
    per_class : tuple of ReliabilityCurve (K,)
        Empty when the evaluation ignored categories (``use_cats`` off).
    iou : float
    area : str
    max_dets : int
    """

    edges: np.ndarray
    pooled: ReliabilityCurve
    per_class: tuple[ReliabilityCurve, ...]
    iou: float
    area: str
    max_dets: int

    @property
    def ece(self) -> float:
        return self.pooled.ece

    @property
    def mce(self) -> float:
        return self.pooled.mce

    def curve(self, category: int | str | None = None) -> ReliabilityCurve:
        """The pooled curve (None), or one class's by id or name."""
        if category is None:
            return self.pooled
        for c in self.per_class:
            if category == c.category_id or category == c.category_name:
                return c
        if isinstance(category, str):
            for c in self.per_class:
                if category.strip().lstrip("-").isdigit() and int(category) == c.category_id:
                    return c
        known = ", ".join(c.category_name for c in self.per_class[:20])
        raise PrcoreInputError(
            f"unknown category {category!r}; known: {known or 'none (use_cats off)'}",
            field="category",
        )

    def to_dict(self) -> dict:
        return {
            "iou": self.iou,
            "area": self.area,
            "max_dets": self.max_dets,
            "bin_edges": self.edges.tolist(),
            "pooled": self.pooled.to_dict(),
            "per_class": [c.to_dict() for c in self.per_class],
        }

    def to_text(self, category: int | str | None = None) -> str:
        """Bins of one curve (pooled by default), then ECE and MCE per class."""
        c = self.curve(category)
        rows = [
            [
                f"[{lo:.2f}, {hi:.2f}{']' if b == len(c.counts) - 1 else ')'}",
                str(int(c.counts[b])),
                fmt_num(c.mean_score[b]),
                fmt_num(c.precision[b]),
            ]
            for b, (lo, hi) in enumerate(zip(self.edges[:-1], self.edges[1:]))
        ]
        head = (
            f"Calibration of {c.category_name} (IoU={self.iou:g}, area={self.area}, "
            f"maxDets={self.max_dets}): ECE {fmt_num(c.ece)}, MCE {fmt_num(c.mce)}, "
            f"{c.n_detections} detections"
        )
        text = head + "\n" + format_table(["score bin", "dets", "mean score", "precision"], rows)
        if category is None and self.per_class:
            per = format_table(
                ["class", "dets", "ECE", "MCE"],
                [
                    [x.category_name, str(x.n_detections), fmt_num(x.ece), fmt_num(x.mce)]
                    for x in self.per_class
                ],
            )
            text += "\n\n" + per
        return text


def calibration(
    result, iou: float = 0.5, bins: int = 10, area: str = "all", max_dets: int | None = None
) -> Calibration:
    """Reliability of ``result``'s scores at one evaluated IoU threshold.

    Parameters
    ----------
    result : EvaluationResult
    iou : float
        One of ``params.iou_thrs`` (to within 1e-9).
    bins : int
        Number of equal-width score bins over [0, 1] (at least 1).
    area : str
        One of ``params.area_rng_lbl``.
    max_dets : int or None
        One of ``params.max_dets`` (None: the largest).

    Raises
    ------
    PrcoreInputError
        For any argument it cannot read, naming it, and for a kept detection
        scoring outside [0, 1].
    """
    integral = isinstance(bins, numbers.Integral) and not isinstance(bins, (bool, np.bool_))
    if not integral or bins < 1:
        raise PrcoreInputError(f"expected a positive integer, got {bins!r}", field="bins")
    t = result._iou_index(iou)
    a = result._area_index(area)
    m = result._max_det_index(max_dets)
    max_det = result.params.max_dets[m]
    tab = result._table
    kept = tab.det_rank < max_det
    states = tab.states(a, t, tab.det_cell)
    live = kept & (states != 2)
    scores = tab.det_score
    outside = live & ((scores < 0) | (scores > 1))
    if outside.any():
        bad = scores[outside]
        raise PrcoreInputError(
            f"calibration reads scores as probabilities, in [0, 1]; {int(outside.sum())} "
            f"detections score outside it (from {bad.min():g} to {bad.max():g})",
            field="score",
        )
    # k / B, correctly rounded: a score of 0.3 opens bin 3 of 10 (linspace's
    # 3 * 0.1 is 0.30000000000000004, which would leave it in bin 2).
    edges = np.arange(int(bins) + 1, dtype=np.float64) / int(bins)
    edges.setflags(write=False)
    is_tp = states == 1
    pooled = reliability_curve(scores[live], is_tp[live], edges, None, "all classes")
    per_class = []
    if result.params.use_cats:
        for k, cid in enumerate(result.params.cat_ids):
            block = slice(tab.block_offsets[k], tab.block_offsets[k + 1])
            sel = live[block]
            per_class.append(
                reliability_curve(
                    scores[block][sel], is_tp[block][sel], edges, cid, result.cat_names[k]
                )
            )
    return Calibration(
        edges=edges,
        pooled=pooled,
        per_class=tuple(per_class),
        iou=float(result.params.iou_thrs[t]),
        area=area,
        max_dets=max_det,
    )
