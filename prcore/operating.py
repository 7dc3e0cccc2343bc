"""Operating points: what a score threshold gives, per class and pooled, and
score thresholds as a file.

A score threshold keeps the detections scoring at least it (as the raw curves
and the sweep do). At that cut, over the whole dataset and with pycocotools'
matching at one IoU threshold, area range and maxDets, every kept detection is
a true positive, a false positive, or ignored (matched to a crowd or to a
ground truth outside the area range, or unmatched and itself outside it; the
per-image maxDets cut comes first): ignored ones count as neither, exactly as
in ``COCOeval.accumulate``. A false negative is a non-ignored ground truth of
the area range that no kept detection matched: ``FN = n_gt - TP``.

Undefined ratios are NaN, never 0: precision with no detection kept
(``TP + FP = 0``), recall with no ground truth (``n_gt = 0``), and F1, written
``2 TP / (2 TP + FP + FN)`` (the harmonic mean of precision and recall wherever
both exist, 0 where there is something to find or something kept but no true
positive), only when there is neither detection kept nor ground truth.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from prcore.curves import ThresholdReport, checked_flag, checked_number
from prcore.errors import PrcoreInputError
from prcore.summary import fmt_num, format_table

if TYPE_CHECKING:
    from prcore.result import EvaluationResult

# The thresholds file: its format marker and version, written and checked.
THRESHOLDS_FORMAT = "prcore score thresholds"
THRESHOLDS_VERSION = 1
_THRESHOLDS_KEYS = (
    "format",
    "version",
    "criterion",
    "iou",
    "area",
    "max_dets",
    "shared",
    "per_class",
)


@dataclass(frozen=True)
class OperatingPoint:
    """Counts and ratios at one score threshold, for one class or pooled.

    ``threshold`` is None for a class given no threshold: it is skipped
    (every count 0, every ratio NaN; ``n_gt`` still its ground truth) and left
    out of the pooled row. ``ignored`` counts the kept detections that are
    neither true nor false positives.
    """

    category_id: int | None
    category_name: str
    threshold: float | None
    tp: int
    fp: int
    fn: int
    ignored: int
    n_gt: int
    precision: float
    recall: float
    f1: float
    note: str | None = None


def _point(cid, name, threshold, tp: int, fp: int, ignored: int, n_gt: int, note=None):
    if threshold is None and cid is not None:  # a class skipped
        return OperatingPoint(cid, name, None, 0, 0, 0, 0, int(n_gt), *[math.nan] * 3, note)
    fn = n_gt - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp) if tp + fp else math.nan
        recall = tp / n_gt if n_gt else math.nan
        f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else math.nan
    return OperatingPoint(
        cid, name, threshold, int(tp), int(fp), int(fn), int(ignored), int(n_gt),
        float(precision), float(recall), float(f1), note,
    )  # fmt: skip


@dataclass(frozen=True)
class OperatingPointReport:
    """Operating points per class and pooled, at one IoU, area range and maxDets.

    ``pooled`` sums the classes' counts, each class cut at its own threshold;
    with one shared threshold that is the pooled curve's point at it.
    ``per_class`` is empty when asked for the pooled row only, or with
    ``use_cats`` off.
    """

    iou: float
    area: str
    max_dets: int
    pooled: OperatingPoint
    per_class: tuple[OperatingPoint, ...] = ()
    source: str | None = None

    def to_text(self) -> str:
        """A header line, then one table row per class and the pooled row last."""
        head = f"Operating points (IoU={self.iou:g}, area={self.area}, maxDets={self.max_dets}"
        head += f"; thresholds from {self.source})" if self.source else ")"
        rows = []
        for point in (*self.per_class, self.pooled):
            name = "ALL (pooled)" if point is self.pooled else point.category_name
            rows.append(
                [
                    name,
                    "-" if point.threshold is None else f"{point.threshold:.4f}",
                    str(point.tp),
                    str(point.fp),
                    str(point.fn),
                    fmt_num(point.precision),
                    fmt_num(point.recall),
                    fmt_num(point.f1),
                    str(point.n_gt),
                    str(point.ignored),
                    point.note or "",
                ]
            )
        headers = ["class", "threshold", "TP", "FP", "FN", "precision", "recall", "F1", "GT",
                   "ignored", "note"]  # fmt: skip
        return head + "\n" + format_table(headers, rows)

    def to_dict(self) -> dict:
        """JSON-ready: NaN ratios become None."""

        def clean(point: OperatingPoint) -> dict:
            d = asdict(point)
            for key in ("precision", "recall", "f1"):
                if math.isnan(d[key]):
                    d[key] = None
            return d

        return {
            "iou": self.iou,
            "area": self.area,
            "max_dets": self.max_dets,
            "source": self.source,
            "pooled": clean(self.pooled),
            "per_class": [clean(p) for p in self.per_class],
        }


# ---------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class ScoreThresholds:
    """Score thresholds per class and one shared, as a thresholds file holds them.

    Attributes
    ----------
    per_class : tuple of (str, float or None)
        Class key (its name; its id as a string where names repeat) and
        threshold; None where the criterion was never met on the data the
        thresholds came from.
    shared : float or None
        The threshold for every class not in ``per_class``.
    criterion, iou, area, max_dets
        How they were chosen; information only (not applied when read back).
    source : str or None
        The file they were read from, for messages and reports.
    """

    per_class: tuple[tuple[str, float | None], ...] = ()
    shared: float | None = None
    criterion: str | None = None
    iou: float | None = None
    area: str | None = None
    max_dets: int | None = None
    source: str | None = None

    @classmethod
    def from_report(cls, report: ThresholdReport) -> ScoreThresholds:
        """The thresholds a :class:`~prcore.curves.ThresholdReport` picked, keyed by name."""
        names = [p.category_name for p in report.per_class]
        repeated = {n for n in names if names.count(n) > 1}
        per_class = tuple(
            (str(p.category_id) if p.category_name in repeated else p.category_name, p.threshold)
            for p in report.per_class
        )
        return cls(
            per_class=per_class,
            shared=report.shared.threshold,
            criterion=report.criterion,
            iou=report.iou,
            area=report.area,
            max_dets=report.max_dets,
        )

    def to_dict(self) -> dict:
        return {
            "format": THRESHOLDS_FORMAT,
            "version": THRESHOLDS_VERSION,
            "criterion": self.criterion,
            "iou": self.iou,
            "area": self.area,
            "max_dets": self.max_dets,
            "shared": self.shared,
            "per_class": dict(self.per_class),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent) + "\n"


def thresholds_from_dict(data: object, file: str | None = None) -> ScoreThresholds:
    """A thresholds file's content (parsed JSON), validated.

    Raises
    ------
    PrcoreInputError
        Naming ``file`` and the key: not an object, an unknown key, a wrong
        format marker or version, a threshold that is not a finite number or
        null, or neither ``shared`` nor ``per_class``.
    """

    def bad(message: str, key: str | None = None) -> PrcoreInputError:
        return PrcoreInputError(message, file=file, field=key)

    def threshold(key: str, value: object) -> float | None:
        if value is None:
            return None
        try:
            return checked_number(key, value)
        except PrcoreInputError as exc:
            raise bad(exc.expected, key) from None

    if not isinstance(data, dict):
        raise bad(f"expected a JSON object of score thresholds, got {type(data).__name__}")
    unknown = [k for k in data if k not in _THRESHOLDS_KEYS]
    if unknown:
        raise bad(f"unknown key; expected some of {', '.join(_THRESHOLDS_KEYS)}", unknown[0])
    if "format" in data and data["format"] != THRESHOLDS_FORMAT:
        raise bad(f"expected {THRESHOLDS_FORMAT!r}, got {data['format']!r}", "format")
    if "version" in data and data["version"] != THRESHOLDS_VERSION:
        raise bad(f"expected {THRESHOLDS_VERSION}, got {data['version']!r}", "version")
    if "shared" not in data and "per_class" not in data:
        raise bad("expected a 'shared' threshold or a 'per_class' object, found neither")
    per_class = data.get("per_class", {})
    if per_class is None:
        per_class = {}
    if not isinstance(per_class, dict):
        raise bad(
            f"expected an object of class name -> threshold, got {type(per_class).__name__}",
            "per_class",
        )
    pairs = tuple((k, threshold(f"per_class.{k}", v)) for k, v in per_class.items())
    criterion = data.get("criterion")
    if criterion is not None and not isinstance(criterion, str):
        raise bad(f"expected a string, got {criterion!r}", "criterion")
    area = data.get("area")
    if area is not None and not isinstance(area, str):
        raise bad(f"expected a string, got {area!r}", "area")
    max_dets = data.get("max_dets")
    integral = isinstance(max_dets, numbers.Integral) and not isinstance(max_dets, bool)
    if max_dets is not None and not integral:
        raise bad(f"expected an integer, got {max_dets!r}", "max_dets")
    iou = data.get("iou")
    return ScoreThresholds(
        per_class=pairs,
        shared=threshold("shared", data.get("shared")),
        criterion=criterion,
        iou=None if iou is None else threshold("iou", iou),
        area=area,
        max_dets=max_dets,
        source=file,
    )


def read_thresholds(path: str | os.PathLike) -> ScoreThresholds:
    """Read a thresholds file (see :meth:`ScoreThresholds.to_dict` and the README).

    Raises
    ------
    PrcoreInputError
        Naming the file (and the key) when it cannot be read, is not JSON, or
        is not a thresholds file.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise PrcoreInputError(f"cannot read file: {exc.strerror}", file=name) from None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PrcoreInputError(f"not valid JSON: {exc}", file=name) from None
    return thresholds_from_dict(data, file=name)


# ---------------------------------------------------------------- operating points


def _class_thresholds(
    result: EvaluationResult, score, default: float | None
) -> tuple[np.ndarray, dict[int, str]]:
    """One threshold per category of ``params.cat_ids`` (NaN: none), and notes."""
    n_cat = len(result.params.cat_ids) if result.params.use_cats else 1
    file, field = None, "score[{!r}]"
    if isinstance(score, ScoreThresholds):
        file, field = score.source, "per_class.{}"
        default = score.shared if default is None else default
        score = dict(score.per_class) if result.params.use_cats else default
        if score is None:
            raise PrcoreInputError(
                "with use_cats off only a shared threshold applies, and there is none",
                field="score",
            )
    fallback = math.nan if default is None else checked_number("default", default)
    if not isinstance(score, Mapping):
        return np.full(n_cat, checked_number("score", score)), {}
    if not result.params.use_cats:
        raise PrcoreInputError(
            "per-class thresholds need use_cats=True; give one number", field="score"
        )
    thr = np.full(n_cat, math.nan)
    given = np.zeros(n_cat, bool)
    notes = {}
    for key, value in score.items():
        where = dict(file=file, field=field.format(key))
        try:
            k = result._category_position(key)
        except PrcoreInputError as exc:
            raise PrcoreInputError(exc.expected, **where) from None
        if given[k]:
            raise PrcoreInputError(
                f"category {result.cat_names[k]!r} is given twice (by name and by id)", **where
            )
        given[k] = True
        if value is None:
            notes[k] = "no threshold given"
        else:
            try:
                thr[k] = checked_number(where["field"], value)
            except PrcoreInputError as exc:
                raise PrcoreInputError(exc.expected, **where) from None
    missing = ~given
    thr[missing] = fallback
    if default is None:
        notes.update({int(k): "not among the thresholds" for k in np.flatnonzero(missing)})
    return thr, notes


def operating_points(
    result: EvaluationResult,
    score,
    iou: float = 0.5,
    area: str = "all",
    max_dets: int | None = None,
    per_class: bool = True,
    default: float | None = None,
    source: str | None = None,
) -> OperatingPointReport:
    """TP, FP, FN, precision, recall and F1 at score thresholds; see
    :meth:`prcore.result.EvaluationResult.at_threshold`."""
    per_class = checked_flag("per_class", per_class)
    if isinstance(score, ScoreThresholds) and source is None:
        source = score.source
    thr, notes = _class_thresholds(result, score, default)
    params = result.params
    evaluated = np.abs(params.iou_thrs_array() - checked_number("iou", iou)) <= 1e-9
    if evaluated.any():
        tab, t = result._table, int(np.flatnonzero(evaluated)[0])
        a = result._area_index(area)
        max_det = params.max_dets[result._max_det_index(max_dets)]
        iou_value = float(params.iou_thrs[t])
    else:  # not evaluated: match again at that IoU alone (same matches, see _match_details)
        one, tab, _ = result._match_details(iou, area, max_dets)
        t, a, max_det, iou_value = 0, 0, one.max_dets[0], float(one.iou_thrs[0])
    n_blocks = len(tab.block_offsets) - 1
    block = np.repeat(np.arange(n_blocks), np.diff(tab.block_offsets))
    kept = (tab.det_rank < max_det) & (tab.det_score >= np.where(np.isnan(thr), np.inf, thr)[block])
    states = tab.states(a, t, tab.det_cell[kept])
    # FP, TP, ignored (states 0, 1, 2) per block
    counts = np.bincount(states.astype(np.int64) * n_blocks + block[kept], minlength=3 * n_blocks)
    counts = counts.reshape(3, n_blocks)
    n_pos = tab.n_pos[:, a]
    has = ~np.isnan(thr)
    rows = []
    if params.use_cats:
        for k in range(n_blocks):
            rows.append(
                _point(
                    params.cat_ids[k],
                    result.cat_names[k],
                    float(thr[k]) if has[k] else None,
                    counts[1, k],
                    counts[0, k],
                    counts[2, k],
                    n_pos[k],
                    notes.get(k),
                )  # fmt: skip
            )
    shared = float(thr[0]) if n_blocks and np.all(thr == thr[0]) else None
    left_out = int(np.count_nonzero(~has))
    pooled = _point(
        None,
        "all",
        shared,
        counts[1, has].sum(), counts[0, has].sum(), counts[2, has].sum(), n_pos[has].sum(),
        f"per-class thresholds; {left_out} class(es) without one left out" if left_out else
        (None if shared is not None or not n_blocks else "per-class thresholds"),
    )  # fmt: skip
    return OperatingPointReport(
        iou=iou_value,
        area=area,
        max_dets=int(max_det),
        pooled=pooled,
        per_class=tuple(rows) if per_class else (),
        source=source,
    )
