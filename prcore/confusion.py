"""The confusion matrix of a detector at one IoU threshold and one score threshold.

Rows are the ground truth's class, columns the predicted class; the last row
and column are "background". Detection has no one-to-one pairing of
predictions and objects, so the matrix depends on a matching rule; ours is:

1. pycocotools' own per-category matching at that IoU (``evaluateImg``), of
   the detections scoring at least the score threshold. A true positive is
   counted on the diagonal, so the diagonal is the true positives that
   operating point gives (greedy matching goes by score, so dropping the
   detections below the threshold changes no match above it).
2. In each image, the detections left over (false positives scoring at least
   the threshold) and the ground truths left over (not ignored, not taken in
   step 1) are matched class-agnostically by the same greedy rule: detections
   in descending score each take the unmatched ground truth of highest IoU,
   if it is at least the threshold. A pair counts at (its ground truth's
   class, the detection's class).
3. A leftover detection still unmatched counts in the background row; a
   leftover ground truth still unmatched in the background column.

Ignored detections (those pycocotools ignores: matched to a crowd or, for an
area range, outside it) and ignored ground truths (crowds, outside the area
range) are not counted; detections beyond maxDets per image and category
are not either. For keypoints, OKS exists only within a category (its
sigmas), so step 2 pairs nothing: confusions between classes show up as one
background entry in each margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prcore.curves import checked_number
from prcore.errors import PrcoreInputError
from prcore.match_outcomes import MatchOutcomes, outcomes_for
from prcore.summary import format_table

#: pycocotools' ``evaluateImg`` matches at ``min(t, 1 - 1e-10)``.
_LARGEST_THRESHOLD = 1 - 1e-10


@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Counts of (ground-truth class, predicted class) pairs, background last.

    Attributes
    ----------
    counts : int64 (K + 1, K + 1)
        ``counts[i, j]``: objects of class ``labels[i]`` detected as
        ``labels[j]``; row ``K`` holds unmatched detections (background
        detected as a class), column ``K`` missed objects. ``counts[K, K]`` is 0.
    labels : tuple of str (K + 1,)
        The category names, then ``"background"``.
    category_ids : tuple of int (K,)
    iou : float
    score_threshold : float
        Detections scoring below it are dropped.
    area : str
    max_dets : int
    """

    counts: np.ndarray
    labels: tuple[str, ...]
    category_ids: tuple[int, ...]
    iou: float
    score_threshold: float
    area: str
    max_dets: int

    def normalized(self, over: str = "true") -> np.ndarray:
        """The counts divided by their row sums (``over="true"``: each ground-truth
        class sums to 1) or column sums (``"pred"``); 0 where the sum is 0.

        Returns
        -------
        float64 (K + 1, K + 1)
        """
        if over not in ("true", "pred"):
            raise PrcoreInputError(f"expected 'true' or 'pred', got {over!r}", field="over")
        axis = 1 if over == "true" else 0
        sums = self.counts.sum(axis=axis, keepdims=True).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(sums > 0, self.counts / sums, 0.0)
        return out

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels),
            "category_ids": list(self.category_ids),
            "rows": "ground truth class",
            "columns": "predicted class",
            "counts": self.counts.tolist(),
            "iou": self.iou,
            "score_threshold": self.score_threshold,
            "area": self.area,
            "max_dets": self.max_dets,
        }

    def to_text(self, normalize: str | None = None) -> str:
        """An aligned table: rows ground truth, columns prediction (counts, or
        fractions with ``normalize`` ``"true"`` / ``"pred"``)."""
        values = self._values(normalize)
        headers = ["true \\ pred", *self.labels]
        rows = [[label, *cells] for label, cells in zip(self.labels, values)]
        head = (
            f"Confusion matrix (IoU={self.iou:g}, score >= {self.score_threshold:g}, "
            f"area={self.area}, maxDets={self.max_dets})"
        )
        return head + "\n" + format_table(headers, rows)

    def to_csv(self, normalize: str | None = None) -> str:
        """The matrix as CSV: a header of predicted labels, one row per true label."""

        def quote(text: str) -> str:
            return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text

        values = self._values(normalize)
        lines = [",".join(["true\\pred", *map(quote, self.labels)])]
        lines += [",".join([quote(lb), *cells]) for lb, cells in zip(self.labels, values)]
        return "\n".join(lines) + "\n"

    def _values(self, normalize: str | None) -> list[list[str]]:
        if normalize is None:
            return [[str(v) for v in row] for row in self.counts.tolist()]
        return [[f"{v:.4f}" for v in row] for row in self.normalized(normalize).tolist()]


def confusion_matrix(
    result,
    iou: float = 0.5,
    score: float = 0.5,
    area: str = "all",
    max_dets: int | None = None,
    outcomes: MatchOutcomes | None = None,
) -> ConfusionMatrix:
    """The confusion matrix of ``result`` (see the module's docstring for the rule).

    Parameters
    ----------
    result : EvaluationResult
    iou : float
        Any threshold in [0, 1], evaluated or not.
    score : float
        Detections scoring at least this are counted.
    area : str
        One of ``params.area_rng_lbl``.
    max_dets : int or None
        One of ``params.max_dets`` (None: the largest), per image and category.
    outcomes : MatchOutcomes, optional
        ``match_outcomes(result, iou, area, max_dets)`` when already computed
        (the report shares it with the error breakdown).

    Raises
    ------
    PrcoreInputError
        For any argument it cannot read, naming it.
    """
    thr = checked_number("score", score)
    o = outcomes_for(result, iou, area, max_dets, outcomes)
    k = o.n_categories
    counts = np.zeros((k + 1, k + 1), np.int64)
    live = (o.det_score >= thr) & (o.det_state != 2)
    tp = live & (o.det_state == 1)
    np.add.at(counts, (o.det_cat[tp], o.det_cat[tp]), 1)
    gt_left = ~o.gt_ignore
    gt_left[o.det_gt[tp]] = False
    det_left = live & (o.det_state == 0)

    # Step 2: greedy, class-agnostic, over the leftover pairs that overlap enough.
    t = min(float(o.params.iou_thrs[0]), _LARGEST_THRESHOLD)
    cand = np.flatnonzero(det_left[o.pair_det] & gt_left[o.pair_gt] & (o.pair_sim >= t))
    d, g, s = o.pair_det[cand], o.pair_gt[cand], o.pair_sim[cand]
    # detections by image, descending score, cell order; each one's pairs by IoU
    order = np.lexsort((g, -s, d, -o.det_score[d], o.det_img[d]))
    det_done = np.zeros(len(o.det_score), bool)
    for di, gi in zip(d[order].tolist(), g[order].tolist()):
        if det_done[di] or not gt_left[gi]:
            continue
        det_done[di] = True
        gt_left[gi] = False
        det_left[di] = False
        counts[o.gt_cat[gi], o.det_cat[di]] += 1

    counts[k, :k] += np.bincount(o.det_cat[det_left], minlength=k)
    counts[:k, k] += np.bincount(o.gt_cat[gt_left], minlength=k)
    p = o.params
    names = dict(zip(p.cat_ids, result.cat_names)) if len(result.cat_names) == k else {}
    labels = tuple(names.get(c, str(c)) for c in p.cat_ids) + ("background",)
    counts.setflags(write=False)
    return ConfusionMatrix(
        counts=counts,
        labels=labels,
        category_ids=tuple(p.cat_ids),
        iou=float(p.iou_thrs[0]),
        score_threshold=thr,
        area=p.area_rng_lbl[0],
        max_dets=p.max_dets[0],
    )
