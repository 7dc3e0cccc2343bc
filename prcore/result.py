"""The immutable evaluation result and the views computed from it."""

from __future__ import annotations

import dataclasses
import json
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from prcore import __version__
from prcore.curves import (
    PRCurve,
    ThresholdReport,
    checked_flag,
    checked_number,
    curve_from_sequence,
    describe_criterion,
    pick_threshold,
)
from prcore.engine import Evaluation, MatchTable, accumulate
from prcore.engine.match import MatchDetails, match
from prcore.errors import PrcoreInputError
from prcore.params import Params
from prcore.summary import (
    STAT_NAMES,
    ClassRow,
    fmt_num,
    format_table,
    stat_names,
    summary_lines,
    summary_stats,
)

if TYPE_CHECKING:
    from prcore.calibration import Calibration
    from prcore.confusion import ConfusionMatrix
    from prcore.error_breakdown import ErrorBreakdown
    from prcore.io.load import Detections, GroundTruth
    from prcore.objects import ObjectMatches
    from prcore.operating import OperatingPointReport, ScoreThresholds
    from prcore.report import EvaluationReport


@dataclass(frozen=True)
class SweepRow:
    """COCO stats with the detections scoring below ``score_threshold`` dropped."""

    score_threshold: float
    n_detections: int
    stats: list[float]


@dataclass(frozen=True)
class SweepResult:
    """COCO stats after dropping detections below each score threshold."""

    rows: tuple[SweepRow, ...]
    stat_names: tuple[str, ...] = STAT_NAMES  # the iou type's: 10 for keypoints

    def to_text(self) -> str:
        headers = ["score >=", "dets", *self.stat_names]
        body = [
            [f"{r.score_threshold:g}", str(r.n_detections), *(fmt_num(v) for v in r.stats)]
            for r in self.rows
        ]
        return format_table(headers, body)


def _mean_valid(x: np.ndarray) -> float | None:
    v = x[x > -1]
    return float(np.mean(v)) if v.size else None


def check_score_thresholds(values: Iterable[float]) -> tuple[float, ...]:
    """Score thresholds for :meth:`EvaluationResult.sweep`, validated.

    Parameters
    ----------
    values : iterable of float
        One or more finite numbers (scores need not lie in [0, 1]).

    Returns
    -------
    tuple of float

    Raises
    ------
    PrcoreInputError
        For a string, a bare number, an empty sequence, or an item that is not a
        finite real number (naming its position).
    """
    if isinstance(values, (str, bytes)):
        raise PrcoreInputError(
            f"expected a list of numbers, got {values!r}", field="score_thresholds"
        )
    try:
        items = list(values)
    except TypeError:
        raise PrcoreInputError(
            f"expected a list of numbers, got {values!r}", field="score_thresholds"
        ) from None
    if not items:
        raise PrcoreInputError("expected at least one threshold", field="score_thresholds")
    return tuple(checked_number(f"score_thresholds[{i}]", v) for i, v in enumerate(items))


def _read_only(table: MatchTable) -> MatchTable:
    for f in dataclasses.fields(table):
        value = getattr(table, f.name)
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return table


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Evaluation of one set of detections; every method is a pure view.

    Built by :func:`prcore.evaluate`; every array is read-only. A view raises
    :class:`~prcore.errors.PrcoreInputError` (a ``ValueError``) naming any
    argument it cannot read.

    Attributes
    ----------
    stats : float64 (12,)
        pycocotools' ``COCOeval.stats``, same order (see ``STAT_NAMES``).
    precision : float64 (T, R, K, A, M)
        ``COCOeval.eval['precision']``; -1 where a category has no ground truth.
    recall : float64 (T, K, A, M)
    scores : float64 (T, R, K, A, M)
    params : Params
        The parameters used, ids filled in.
    cat_names : tuple of str (K,)
        The name of each category of ``params.cat_ids``.
    n_detections : int
        Detections in the results, before any cut.
    """

    stats: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    params: Params
    cat_names: tuple[str, ...]
    n_detections: int
    # The engine's packed match table, which the curves and the sweep read. Private:
    # its layout (two-bit states, cell order) is the engine's to change.
    _table: MatchTable = field(repr=False)
    # The inputs' columns, kept for the per-object analysis views, which re-match
    # with details (:meth:`_match_details`); the fast path never keeps those.
    _ground_truth: GroundTruth | None = field(default=None, repr=False)
    _detections: Detections | None = field(default=None, repr=False)

    @classmethod
    def build(cls, evaluation: Evaluation) -> EvaluationResult:
        """The result of an :class:`~prcore.engine.Evaluation`, its arrays made read-only."""
        params, ground_truth = evaluation.params, evaluation.ground_truth
        precision, recall, scores = evaluation.precision, evaluation.recall, evaluation.scores
        names = dict(zip(ground_truth.cat_ids.tolist(), ground_truth.cat_names))
        cat_names = tuple(names.get(c, str(c)) for c in params.cat_ids)
        for arr in (precision, recall, scores):
            arr.setflags(write=False)
        stats = summary_stats(precision, recall, params)
        stats.setflags(write=False)
        return cls(
            stats=stats,
            precision=precision,
            recall=recall,
            scores=scores,
            params=params,
            cat_names=cat_names,
            n_detections=evaluation.n_detections,
            _table=_read_only(evaluation.table),
            _ground_truth=ground_truth,
            _detections=evaluation.detections,
        )

    # ------------------------------------------------------------ summary views

    def summary(self) -> str:
        """pycocotools' 12 summary lines."""
        return "\n".join(summary_lines(self.stats, self.params))

    def stats_dict(self) -> dict[str, float]:
        return dict(zip(stat_names(self.params), self.stats.tolist()))

    def _area_index(self, area: str) -> int:
        labels = self.params.area_rng_lbl
        if not isinstance(area, str) or area not in labels:
            raise PrcoreInputError(
                f"unknown area range {area!r}; known: {', '.join(labels)}", field="area"
            )
        return labels.index(area)

    def _iou_index(self, iou: float) -> int:
        value = checked_number("iou", iou)
        thr = self.params.iou_thrs_array()
        hit = np.flatnonzero(np.abs(thr - value) <= 1e-9)
        if not len(hit):
            raise PrcoreInputError(
                f"IoU threshold {value:g} is not among the evaluated ones "
                f"({', '.join(f'{t:g}' for t in thr)})",
                field="iou",
            )
        return int(hit[0])

    def _max_det_index(self, max_dets: int | None) -> int:
        if max_dets is None:
            return len(self.params.max_dets) - 1
        # bool is an int (True == 1) and 100.0 == 100: neither is a maxDets value.
        integral = isinstance(max_dets, numbers.Integral) and not isinstance(
            max_dets, (bool, np.bool_)
        )
        if not integral or max_dets not in self.params.max_dets:
            raise PrcoreInputError(
                f"{max_dets!r} is not among the evaluated maxDets "
                f"({', '.join(map(str, self.params.max_dets))})",
                field="max_dets",
            )
        return self.params.max_dets.index(int(max_dets))

    def _category_position(self, category: int | str) -> int:
        """Position in ``params.cat_ids`` of a category id or name (a digit string is an id)."""
        if not self.params.use_cats:
            raise PrcoreInputError(
                "per-category views need use_cats=True; use category=None for all pooled",
                field="category",
            )
        if isinstance(category, str):
            if category in self.cat_names:
                return self.cat_names.index(category)
            try:
                cid = int(category)
            except ValueError:
                names = self.cat_names
                shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
                raise PrcoreInputError(
                    f"unknown category {category!r}; known names: {shown}", field="category"
                ) from None
        elif isinstance(category, numbers.Integral) and not isinstance(category, (bool, np.bool_)):
            cid = int(category)
        else:
            raise PrcoreInputError(
                f"expected a category id (int) or name (str), got {category!r}", field="category"
            )
        if cid not in self.params.cat_ids:
            ids = self.params.cat_ids
            shown = ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else "")
            raise PrcoreInputError(
                f"unknown category id {cid}; known ids: {shown}", field="category"
            )
        return self.params.cat_ids.index(cid)

    def per_class(self) -> list[ClassRow]:
        """AP (IoU .50:.95), AP50, AP75 and recall per category (area all, largest maxDets)."""
        if not self.params.use_cats:
            return []
        a = self._area_index("all") if "all" in self.params.area_rng_lbl else 0
        m = len(self.params.max_dets) - 1
        thr = self.params.iou_thrs_array()
        t50 = np.flatnonzero(thr == 0.5)
        t75 = np.flatnonzero(thr == 0.75)
        rows = []
        for k, cid in enumerate(self.params.cat_ids):
            p = self.precision[:, :, k, a, m]
            rows.append(
                ClassRow(
                    category_id=cid,
                    name=self.cat_names[k],
                    ap=_mean_valid(p),
                    ap50=_mean_valid(p[t50]) if len(t50) else None,
                    ap75=_mean_valid(p[t75]) if len(t75) else None,
                    recall=_mean_valid(self.recall[:, k, a, m]),
                    n_gt=int(self._table.n_gt[k]),
                    n_dt=int(self._table.n_dt[k]),
                )
            )
        return rows

    def per_class_table(self) -> str:
        rows = [
            [
                r.name,
                fmt_num(r.ap),
                fmt_num(r.ap50),
                fmt_num(r.ap75),
                fmt_num(r.recall),
                str(r.n_gt),
                str(r.n_dt),
            ]
            for r in self.per_class()
        ]
        return format_table(["class", "AP", "AP50", "AP75", "AR", "GT", "dets"], rows)

    def _match_params(
        self, iou: float, area: str, max_dets: int | None, use_cats: bool | None
    ) -> Params:
        """The one-threshold, one-range, one-maxDets parameters :meth:`_match_details`
        matches with (its arguments checked as it documents)."""
        value = checked_number("iou", iou)
        if not 0.0 <= value <= 1.0:
            raise PrcoreInputError(f"IoU threshold must be in [0, 1], got {value:g}", field="iou")
        a = self._area_index(area)
        m = self._max_det_index(max_dets)
        p = self.params
        params = p.replace(
            iou_thrs=(value,),
            area_rng=(p.area_rng[a],),
            area_rng_lbl=(p.area_rng_lbl[a],),
            max_dets=(p.max_dets[m],),
            use_cats=p.use_cats if use_cats is None else bool(use_cats),
        )
        return params

    def _match_details(
        self,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
        use_cats: bool | None = None,
    ) -> tuple[Params, MatchTable, MatchDetails]:
        """Match again at one IoU threshold, area range and maxDets, keeping details.

        ``iou`` may be any number in [0, 1], evaluated or not; ``area`` one of
        ``params.area_rng_lbl``; ``max_dets`` one of ``params.max_dets`` (None:
        the largest); ``use_cats`` None keeps the evaluation's. Matching at one
        threshold gives the same matches as that threshold of a full run
        (``evaluateImg`` treats thresholds independently), so these are
        pycocotools' ``evalImgs`` for those parameters.

        Returns the one-threshold, one-range, one-maxDets parameters, the
        match table and the :class:`~prcore.engine.match.MatchDetails`.
        """
        params = self._match_params(iou, area, max_dets, use_cats)
        if self._ground_truth is None or self._detections is None:
            raise PrcoreInputError("this result was built without its inputs; re-evaluate")
        table, details = match(self._ground_truth, self._detections, params, details=True)
        return params, table, details

    # ------------------------------------------------------------ curves

    def curve(
        self,
        category: int | str | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
    ) -> PRCurve:
        """Raw precision-recall curve of one category, or of all categories pooled.

        Parameters
        ----------
        category : int or str or None
            A category id or name; ``None`` pools every category (the only
            choice when ``params.use_cats`` is off).
        iou : float
            One of ``params.iou_thrs`` (to within 1e-9).
        area : str
            One of ``params.area_rng_lbl``.
        max_dets : int or None
            One of ``params.max_dets``; ``None`` is the largest.

        Returns
        -------
        PRCurve

        Raises
        ------
        PrcoreInputError
            For any argument the result cannot read, naming it.
        """
        t = self._iou_index(iou)
        a = self._area_index(area)
        m = self._max_det_index(max_dets)
        max_det = self.params.max_dets[m]
        tab = self._table
        if category is None:
            pos = np.flatnonzero(tab.det_rank < max_det)
            order = np.argsort(-tab.det_score[pos], kind="mergesort")
            pos = pos[order]
            n_gt = int(tab.n_pos[:, a].sum())
            cid, name = None, "all"
        else:
            k = self._category_position(category)
            b0, b1 = tab.block_offsets[k], tab.block_offsets[k + 1]
            pos = b0 + np.flatnonzero(tab.det_rank[b0:b1] < max_det)
            n_gt = int(tab.n_pos[k, a])
            cid, name = self.params.cat_ids[k], self.cat_names[k]
        return curve_from_sequence(
            tab.det_score[pos],
            tab.states(a, t, tab.det_cell[pos]),
            n_gt,
            category_id=cid,
            category_name=name,
            iou=float(self.params.iou_thrs[t]),
            area=area,
            max_dets=max_det,
        )

    def curves(
        self, iou: float = 0.5, area: str = "all", max_dets: int | None = None
    ) -> list[PRCurve]:
        """Raw curves of every category, in ``params.cat_ids`` order (see :meth:`curve`)."""
        if not self.params.use_cats:
            raise PrcoreInputError(
                "per-category curves need use_cats=True; use curve(None) for all pooled"
            )
        return [self.curve(c, iou, area, max_dets) for c in self.params.cat_ids]

    def select_thresholds(
        self,
        min_precision: float | None = None,
        min_recall: float | None = None,
        best_f1: bool = False,
        per_class: bool = True,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
    ) -> ThresholdReport:
        """Score thresholds meeting one criterion, per class and shared.

        Give exactly one of ``min_precision`` and ``min_recall`` (each in
        [0, 1]) or ``best_f1=True``; see :func:`~prcore.curves.pick_threshold`.
        The shared threshold comes from all categories pooled; ``per_class``
        adds one per category (when ``params.use_cats``).

        Raises
        ------
        PrcoreInputError
            For no criterion or several, a target outside [0, 1], or any
            argument :meth:`curve` cannot read.
        """
        label = describe_criterion(min_precision, min_recall, best_f1)
        per_class = checked_flag("per_class", per_class)
        crit = dict(min_precision=min_precision, min_recall=min_recall, best_f1=best_f1)
        pooled = self.curve(None, iou, area, max_dets)
        shared = pick_threshold(pooled, **crit)
        picks = ()
        if per_class and self.params.use_cats:
            picks = tuple(pick_threshold(c, **crit) for c in self.curves(iou, area, max_dets))
        return ThresholdReport(label, float(pooled.iou), area, pooled.max_dets, shared, picks)

    def at_threshold(
        self,
        score: float | Mapping[int | str, float | None] | ScoreThresholds,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
        per_class: bool = True,
        default: float | None = None,
    ) -> OperatingPointReport:
        """TP, FP, FN, precision, recall and F1 at score thresholds, per class and pooled.

        Detections scoring at least the threshold are kept, over the whole
        dataset, with pycocotools' matching (see :mod:`prcore.operating`).

        Parameters
        ----------
        score : float, mapping or ScoreThresholds
            One threshold for every class; or class (id or name; a digit
            string that is not a name is an id) -> threshold, where None
            means none; or what :func:`prcore.operating.read_thresholds`
            read (its ``shared`` threshold is the default). A class given
            no threshold is reported without counts and left out of the
            pooled row.
        iou : float
            Any IoU threshold in [0, 1]; one not evaluated is matched again.
        area : str
            One of ``params.area_rng_lbl``.
        max_dets : int or None
            One of ``params.max_dets``; None is the largest.
        per_class : bool
            Include a row per class (when ``params.use_cats``).
        default : float or None
            Threshold of the classes a mapping leaves out.

        Returns
        -------
        OperatingPointReport

        Raises
        ------
        PrcoreInputError
            Naming the argument (or mapping key) it cannot read: an unknown
            class, a class given twice, a threshold that is not a finite number.
        """
        from prcore.operating import operating_points

        return operating_points(self, score, iou, area, max_dets, per_class, default)

    def matches(
        self, iou: float = 0.5, area: str = "all", max_dets: int | None = None
    ) -> ObjectMatches:
        """Every detection and ground truth labelled by pycocotools' matching.

        At one IoU threshold (any in [0, 1]), area range and maxDets (None:
        the largest): each detection TP, FP, ignored, cut (beyond the
        per-image maxDets) or not evaluated, with the ground truth it matched
        and their IoU; each ground truth matched, missed, ignored or not
        evaluated, with its detection. See :mod:`prcore.objects`.
        """
        from prcore.objects import object_matches

        return object_matches(self, iou, area, max_dets)

    def truncation(self, iou: float = 0.5) -> str | None:
        """A note when the results stop at a score cut-off (e.g. detectron2's 0.05)."""
        self._iou_index(iou)
        scores = self._table.det_score
        if not len(scores):
            return None
        low = float(scores.min())
        if low <= 0:
            return None
        pooled = self.curve(None, iou)
        return (
            f"note: no detection scores below {low:.4g}; every curve is truncated there "
            f"(all classes reach recall {pooled.max_recall:.3f} at IoU={iou:g}). Export "
            "detections with a lower score threshold to see the rest of the curve."
        )

    # ------------------------------------------------------------ analysis

    def confusion(
        self, iou: float = 0.5, score: float = 0.5, area: str = "all", max_dets: int | None = None
    ) -> ConfusionMatrix:
        """Confusion matrix of classes at one IoU and score threshold, background last.

        See :mod:`prcore.confusion` for the matching rule (pycocotools' per
        category, then class-agnostic for what is left).
        """
        from prcore.confusion import confusion_matrix

        return confusion_matrix(self, iou, score, area, max_dets)

    def error_breakdown(
        self,
        iou: float = 0.5,
        background_iou: float = 0.1,
        area: str = "all",
        max_dets: int | None = None,
    ) -> ErrorBreakdown:
        """TIDE's six error types, their counts and the AP fixing each would gain.

        See :mod:`prcore.error_breakdown` for the definitions.
        """
        from prcore.error_breakdown import error_breakdown

        return error_breakdown(self, iou, background_iou, area, max_dets)

    def calibration(
        self, iou: float = 0.5, bins: int = 10, area: str = "all", max_dets: int | None = None
    ) -> Calibration:
        """Reliability of the scores (binned precision against mean score, ECE, MCE).

        See :mod:`prcore.calibration`; ``iou`` must be one of ``params.iou_thrs``.
        """
        from prcore.calibration import calibration

        return calibration(self, iou, bins, area, max_dets)

    # ------------------------------------------------------------ sweep

    def sweep(self, score_thresholds: Iterable[float]) -> SweepResult:
        """COCO stats after dropping detections scoring below each threshold.

        Exact without re-matching: greedy matching takes detections in score
        order, so dropping the lowest-scoring ones leaves every other match
        unchanged; only accumulation is repeated.

        Parameters
        ----------
        score_thresholds : iterable of float
            Finite numbers; each row keeps the detections scoring at least its
            threshold (see :func:`check_score_thresholds`).

        Returns
        -------
        SweepResult
            One row per threshold, in the order given.
        """
        thresholds = check_score_thresholds(score_thresholds)
        table = self._table
        rows = []
        for thr in thresholds:
            precision, recall, _ = accumulate(table, self.params, min_score=thr)
            stats = summary_stats(precision, recall, self.params)
            kept = int(np.count_nonzero(table.det_score >= thr))
            rows.append(SweepRow(score_threshold=thr, n_detections=kept, stats=stats.tolist()))
        return SweepResult(tuple(rows), stat_names(self.params))

    # ------------------------------------------------------------ serialisation

    def report(self) -> EvaluationReport:
        """The ``--json`` document as a pydantic model (pydantic is imported here)."""
        from prcore.report import EvaluationReport

        return EvaluationReport(
            prcore_version=__version__,
            iou_type=self.params.iou_type,
            stat_names=list(stat_names(self.params)),
            stats=self.stats.tolist(),
            per_class=self.per_class(),
            params=self.params,
            n_images=len(self.params.img_ids),
            n_detections=self.n_detections,
        )

    def to_dict(self) -> dict:
        return self.report().model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def arrays(self) -> dict[str, np.ndarray]:
        """``precision``, ``recall``, ``scores`` in COCOeval's layout."""
        return {"precision": self.precision, "recall": self.recall, "scores": self.scores}
