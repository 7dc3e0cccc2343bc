"""Raw (non-interpolated) precision-recall curves and threshold selection.

Curves follow scikit-learn's ``precision_recall_curve`` convention:
``thresholds`` increase, ``precision`` and ``recall`` have one more element
(the final ``precision=1, recall=0`` point with no threshold), and every
distinct score is one operating point (tied scores enter together).

They come from the same matching as COCO's arrays, but are read directly off
the sorted detections: COCO's 101-point arrays use the precision *envelope*
(the best precision at any higher recall), which overstates the precision a
score threshold actually gives. Thresholds are therefore chosen here, never
from the interpolated arrays.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from prcore.errors import PrcoreInputError
from prcore.summary import fmt_num, format_table


def checked_number(
    name: str, value: object, lo: float | None = None, hi: float | None = None
) -> float:
    """``value`` as a float when it is a finite real number (in ``[lo, hi]`` when given).

    Raises
    ------
    PrcoreInputError
        Naming the argument ``name``, for a string, a bool, ``None``, NaN, an
        infinity or a number out of range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise PrcoreInputError(f"expected a number, got {value!r}", field=name)
    number = float(value)
    if not math.isfinite(number):
        raise PrcoreInputError(f"expected a finite number, got {value!r}", field=name)
    if lo is not None and number < lo or hi is not None and number > hi:
        bounds = f"in [{lo:g}, {hi:g}]" if lo is not None and hi is not None else ""
        bounds = bounds or (f">= {lo:g}" if lo is not None else f"<= {hi:g}")
        raise PrcoreInputError(f"expected a number {bounds}, got {value!r}", field=name)
    return number


def checked_integer(name: str, value: object, lo: int) -> int:
    """``value`` when it is an integer >= ``lo`` (not a bool); PrcoreInputError otherwise."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if not ok or int(value) < lo:
        raise PrcoreInputError(f"expected an integer >= {lo}, got {value!r}", field=name)
    return int(value)


@dataclass(frozen=True, eq=False)
class PRCurve:
    """One raw precision-recall curve.

    Attributes
    ----------
    precision, recall : float64 (n + 1,)
        At each threshold (score >= threshold kept), then the end point (1, 0).
        ``recall`` is NaN when ``n_gt`` is 0.
    thresholds : float64 (n,)
        Distinct detection scores, increasing.
    tp, fp : int64 (n,)
        True / false positives kept at each threshold (ignored detections —
        matched to crowd regions or outside the area range — count as neither).
    n_gt : int
        Non-ignored ground truths (the recall denominator).
    """

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_gt: int
    category_id: int | None = None
    category_name: str = "all"
    iou: float = 0.5
    area: str = "all"
    max_dets: int = 100
    meta: dict = field(default_factory=dict, repr=False)

    @property
    def f1(self) -> np.ndarray:
        """F1 at each threshold, (n,)."""
        p = self.precision[:-1]
        r = self.recall[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        return f

    @property
    def lowest_score(self) -> float | None:
        return float(self.thresholds[0]) if len(self.thresholds) else None

    @property
    def max_recall(self) -> float:
        return float(self.recall[0]) if len(self.thresholds) else 0.0

    @property
    def truncated(self) -> bool:
        """True when recall stops short of 1 at a positive lowest score.

        The results file holds no detection below that score (detectron2 drops
        those under 0.05 by default), so higher recalls cannot be read off.
        """
        low = self.lowest_score
        return low is not None and low > 0 and self.max_recall < 1.0

    def truncation_note(self) -> str | None:
        if not self.truncated:
            return None
        return (
            f"{self.category_name}: the curve ends at score {self.lowest_score:.4g} with recall "
            f"{self.max_recall:.3f}; no detection scores lower, so higher recall is not reachable "
            "from these results"
        )

    def as_columns(self) -> dict[str, np.ndarray]:
        """One row per threshold: threshold, precision, recall, f1, tp, fp."""
        return {
            "threshold": self.thresholds,
            "precision": self.precision[:-1],
            "recall": self.recall[:-1],
            "f1": self.f1,
            "tp": self.tp,
            "fp": self.fp,
        }

    def to_csv(self) -> str:
        """Operating points from the highest threshold down, one per line."""
        cols = {k: v.tolist()[::-1] for k, v in self.as_columns().items()}
        lines = ["threshold,precision,recall,f1,tp,fp"]
        for row in zip(*(cols[k] for k in ("threshold", "precision", "recall", "f1", "tp", "fp"))):
            lines.append(",".join(repr(v) for v in row))
        return "\n".join(lines) + "\n"


def curve_from_sequence(scores: np.ndarray, states: np.ndarray, n_gt: int, **meta) -> PRCurve:
    """Raw curve from detections in descending-score order and their states.

    ``states``: 0 false positive, 1 true positive, 2 ignored (dropped here).
    """
    keep = states != 2
    s = scores[keep]
    is_tp = states[keep] == 1
    if len(s) == 0:
        empty_i = np.zeros(0, np.int64)
        return PRCurve(np.ones(1), np.zeros(1), np.zeros(0), empty_i, empty_i, int(n_gt), **meta)
    tps = np.cumsum(is_tp, dtype=np.int64)
    fps = np.cumsum(~is_tp, dtype=np.int64)
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = tps[last_of_tie]
    fps = fps[last_of_tie]
    thr = s[last_of_tie]
    precision = tps / (tps + fps)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = tps / n_gt if n_gt > 0 else np.full(len(tps), np.nan)
    return PRCurve(
        precision=np.r_[precision[::-1], 1.0],
        recall=np.r_[recall[::-1], 0.0],
        thresholds=thr[::-1].copy(),
        tp=tps[::-1].copy(),
        fp=fps[::-1].copy(),
        n_gt=int(n_gt),
        **meta,
    )


# ---------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class ThresholdPick:
    """The score threshold one criterion picks, and what it actually gives."""

    category_id: int | None
    category_name: str
    threshold: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    tp: int
    fp: int
    n_gt: int
    note: str | None = None


def checked_flag(name: str, value: object) -> bool:
    """``value`` as a bool when it is one (or the integer 0 or 1); PrcoreInputError otherwise."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, numbers.Integral) and int(value) in (0, 1)
    ):
        return bool(value)
    raise PrcoreInputError(f"expected true or false, got {value!r}", field=name)


def describe_criterion(
    min_precision: float | None = None, min_recall: float | None = None, best_f1: bool = False
) -> str:
    """The label of a threshold criterion, e.g. ``"precision >= 0.9"``, once it is valid.

    Raises
    ------
    PrcoreInputError
        Unless exactly one of ``min_precision`` and ``min_recall`` (each a
        number in [0, 1]) or ``best_f1=True`` is given.
    """
    best_f1 = checked_flag("best_f1", best_f1)
    given = [
        name
        for name, value in (("min_precision", min_precision), ("min_recall", min_recall))
        if value is not None
    ] + (["best_f1"] if best_f1 else [])
    if len(given) != 1:
        raise PrcoreInputError(
            "give exactly one of min_precision, min_recall, best_f1=True"
            + (f"; got {', '.join(given)}" if given else "; got none")
        )
    if min_precision is not None:
        return f"precision >= {checked_number('min_precision', min_precision, 0.0, 1.0):g}"
    if min_recall is not None:
        return f"recall >= {checked_number('min_recall', min_recall, 0.0, 1.0):g}"
    return "best F1"


def pick_threshold(
    curve: PRCurve,
    *,
    min_precision: float | None = None,
    min_recall: float | None = None,
    best_f1: bool = False,
) -> ThresholdPick:
    """Apply exactly one criterion to a raw curve.

    - ``min_precision``: the lowest threshold (highest recall) whose precision
      is at least the target;
    - ``min_recall``: among thresholds reaching the recall target, the one
      with the best precision (the highest such threshold on ties);
    - ``best_f1``: the threshold of maximal F1 (the highest on ties).

    Targets lie in [0, 1]; anything else raises
    :class:`~prcore.errors.PrcoreInputError` (see :func:`describe_criterion`).
    """
    describe_criterion(min_precision, min_recall, best_f1)
    n = len(curve.thresholds)
    p = curve.precision[:n]
    r = curve.recall[:n]
    idx = None
    note = None
    if n == 0:
        note = "no detections"
    elif curve.n_gt == 0:
        note = "no ground truth"
    elif min_precision is not None:
        ok = np.flatnonzero(p >= min_precision)
        if len(ok):
            best_r = r[ok].max()
            idx = int(ok[r[ok] == best_r].max())
        else:
            note = f"precision {min_precision:g} is never reached (best {p.max():.3f})"
    elif min_recall is not None:
        ok = np.flatnonzero(r >= min_recall)
        if len(ok):
            best_p = p[ok].max()
            idx = int(ok[p[ok] == best_p].max())
        else:
            note = f"recall {min_recall:g} is never reached (max {r.max():.3f})"
            if curve.truncated:
                note += f"; the results stop at score {curve.lowest_score:.4g}"
    else:
        f1 = curve.f1
        best = f1.max()
        idx = int(np.flatnonzero(f1 == best).max())
    if idx is None:
        return ThresholdPick(
            curve.category_id, curve.category_name, None, None, None, None, 0, 0, curve.n_gt, note
        )
    f1_at = float(curve.f1[idx])
    return ThresholdPick(
        curve.category_id,
        curve.category_name,
        float(curve.thresholds[idx]),
        float(p[idx]),
        float(r[idx]),
        f1_at,
        int(curve.tp[idx]),
        int(curve.fp[idx]),
        curve.n_gt,
        note,
    )


@dataclass(frozen=True)
class ThresholdReport:
    """Per-class picks and one shared threshold (from all classes pooled)."""

    criterion: str
    iou: float
    area: str
    max_dets: int
    shared: ThresholdPick
    per_class: tuple[ThresholdPick, ...] = ()

    def to_text(self) -> str:
        head = (
            f"Score thresholds for {self.criterion} "
            f"(IoU={self.iou:g}, area={self.area}, maxDets={self.max_dets}; raw curves)"
        )
        rows = []
        for pick in (*self.per_class, self.shared):
            name = pick.category_name if pick is not self.shared else "ALL (shared)"
            rows.append(
                [
                    name,
                    "-" if pick.threshold is None else f"{pick.threshold:.4f}",
                    fmt_num(pick.precision),
                    fmt_num(pick.recall),
                    fmt_num(pick.f1),
                    str(pick.tp),
                    str(pick.fp),
                    str(pick.n_gt),
                    pick.note or "",
                ]
            )
        table = format_table(
            ["class", "threshold", "precision", "recall", "F1", "TP", "FP", "GT", "note"], rows
        )
        return head + "\n" + table

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {
            "criterion": self.criterion,
            "iou": self.iou,
            "area": self.area,
            "max_dets": self.max_dets,
            "shared": asdict(self.shared),
            "per_class": [asdict(p) for p in self.per_class],
        }


def pick_at_score(curve: PRCurve, score: float) -> ThresholdPick:
    """The operating point of a raw curve when detections scoring at least ``score`` are kept.

    The point read is the curve's at its lowest threshold that is ``>= score``
    (the same detections are kept); ``threshold`` is ``score`` as given. When no
    detection scores that high nothing is kept: no precision, recall 0.

    Raises
    ------
    PrcoreInputError
        When ``score`` is not a finite number.
    """
    score = checked_number("score", score)
    i = int(np.searchsorted(curve.thresholds, score, side="left"))
    if i == len(curve.thresholds):
        recall = 0.0 if curve.n_gt > 0 else None
        note = "no detections" if not len(curve.thresholds) else f"no detection scores >= {score:g}"
        return ThresholdPick(
            curve.category_id, curve.category_name, score, None, recall, None, 0, 0, curve.n_gt,
            note,
        )  # fmt: skip
    recall = float(curve.recall[i])
    return ThresholdPick(
        curve.category_id,
        curve.category_name,
        score,
        float(curve.precision[i]),
        None if np.isnan(recall) else recall,
        float(curve.f1[i]),
        int(curve.tp[i]),
        int(curve.fp[i]),
        curve.n_gt,
        None if curve.n_gt else "no ground truth",
    )
