"""A self-contained HTML report of an evaluation: tables, thresholds, figures, parameters.

A report is a list of sections, each built by its own function from a
:class:`ReportContext` (the result and the report's options). A section
builder returns a :class:`Section`: a title, an HTML fragment (tables), the
figures to draw (each a function that draws into a matplotlib Figure) and the
numbers it shows, for ``report.json``. Builders are independent of each other;
a new view of the result is one more builder in the list given to
:func:`build_report` (``sections=(*DEFAULT_SECTIONS, my_section)``).

:func:`build_report` computes and draws everything in memory (nothing is
written); :meth:`Report.write` then writes ``report.html`` (one page, every
figure embedded as a PNG data URI, inline CSS and a little inline JavaScript
that sorts tables by a click on a header: no external reference at all),
``report.json`` (every number shown) and ``figures/*.png``. matplotlib is
imported only while drawing, never through pyplot: the figures are plain
``matplotlib.figure.Figure`` objects, so no backend is chosen and no global
figure registry is touched.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import math
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from prcore import __version__
from prcore.curves import (
    PRCurve,
    ThresholdReport,
    checked_integer,
    checked_number,
    pick_at_score,
)
from prcore.errors import PrcoreInputError
from prcore.summary import fmt_num, stat_names, summary_lines

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from prcore.match_outcomes import MatchOutcomes
    from prcore.result import EvaluationResult

#: Classes per figure of the per-class curve grid (5 rows of 4): each figure stays
#: readable, and COCO's 80 classes take 4.
CLASSES_PER_FIGURE = 20
#: At most this many classes get a curve panel (COCO's 80 do); with more (LVIS: 1203)
#: those with the most ground truth are drawn and the others listed, since each
#: panel costs tens of milliseconds to draw; the AP bars keep the best and the worst.
MAX_CLASS_CURVES = 80


# ---------------------------------------------------------------- the parts of a report


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a section, drawn on demand.

    Attributes
    ----------
    name : str
        The PNG's file name without ``.png`` (letters, digits, ``_`` and ``-``),
        unique in the report.
    caption : str
    size : (float, float)
        Width and height in inches.
    draw : callable
        ``draw(figure)`` draws into a fresh, empty ``matplotlib.figure.Figure``
        of ``size``.
    """

    name: str
    caption: str
    size: tuple[float, float]
    draw: Callable[[Figure], object] = field(repr=False)


@dataclass(frozen=True)
class Section:
    """What one section builder returns.

    Attributes
    ----------
    key : str
        The section's anchor in the page and its key in ``report.json``
        (letters, digits, ``_`` and ``-``), unique in the report.
    title : str
    html : str
        An HTML fragment, already escaped (see :func:`table_html`).
    figures : tuple of ReportFigure
        Drawn after the fragment, in this order.
    numbers : JSON-ready value
        Every number the section shows; numpy values, dataclasses and tuples are
        converted, NaN and infinities written as null.
    """

    key: str
    title: str
    html: str = ""
    figures: tuple[ReportFigure, ...] = ()
    numbers: Any = None


@dataclass(frozen=True, eq=False)
class ReportContext:
    """The result and the report's options, as every section builder reads them.

    The views that several sections share (the raw curves at ``iou``, the
    threshold picks) are computed once, on first use.

    Attributes
    ----------
    result : EvaluationResult
    iou : float
        The IoU threshold of the curves and thresholds (one of ``params.iou_thrs``).
    area : str
        The area range of the curves and thresholds.
    min_precision : float
        The precision target of the threshold section.
    score_threshold : float or None
        The score the operating points and the confusion matrix are counted at,
        marked on every curve (None: the shared best-F1 threshold).
    classes_per_figure : int
        Classes per figure of the per-class curve grid.
    max_class_curves : int
        Classes drawn in that grid at most (those with the most ground truth).
    """

    result: EvaluationResult
    iou: float
    area: str
    min_precision: float = 0.9
    score_threshold: float | None = None
    classes_per_figure: int = CLASSES_PER_FIGURE
    max_class_curves: int = MAX_CLASS_CURVES

    @cached_property
    def pooled_curve(self) -> PRCurve:
        return self.result.curve(None, self.iou, self.area)

    @cached_property
    def class_curves(self) -> list[PRCurve]:
        """Per category, in ``params.cat_ids`` order (empty without categories)."""
        if not self.result.params.use_cats:
            return []
        return self.result.curves(self.iou, self.area)

    @cached_property
    def outcomes(self) -> MatchOutcomes:
        """The per-category matching with every overlap at ``iou`` and ``area``, which
        the confusion and errors sections both read: computed once."""
        from prcore.match_outcomes import match_outcomes

        return match_outcomes(self.result, self.iou, self.area, None)

    @cached_property
    def best_f1(self) -> ThresholdReport:
        return self.result.select_thresholds(best_f1=True, iou=self.iou, area=self.area)

    @cached_property
    def precision_target(self) -> ThresholdReport:
        return self.result.select_thresholds(
            min_precision=self.min_precision, iou=self.iou, area=self.area
        )

    @property
    def operating_score(self) -> float | None:
        """The one score threshold a section reads counts at (a confusion matrix, an
        operating point): ``score_threshold`` when given, else the shared best-F1
        threshold (None when nothing is detected)."""
        if self.score_threshold is not None:
            return self.score_threshold
        return self.best_f1.shared.threshold

    @property
    def mark_labels(self) -> dict[str, str]:
        """The operating points marked on the curves: key -> label."""
        marks = {"best_f1": "best F1", "min_precision": f"precision >= {self.min_precision:g}"}
        if self.score_threshold is not None:
            marks["score_threshold"] = f"score >= {self.score_threshold:g}"
        return marks


SectionBuilder = Callable[[ReportContext], "Section | None"]


# ---------------------------------------------------------------- HTML pieces


def _json_ready(value: Any) -> Any:
    """``value`` with numpy types made plain and NaN / infinities made None."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_ready(dataclasses.asdict(value))
    return value


def _cell(value: Any, digits: int) -> tuple[str, str]:
    """A value's text and its sort key (``data-v``); missing values sort last."""
    if value is None or (isinstance(value, float | np.floating) and not math.isfinite(value)):
        return "-", ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)), ""
    if isinstance(value, int | float | np.integer | np.floating):
        text = str(value) if isinstance(value, int | np.integer) else fmt_num(value, digits)
        return text, repr(float(value))
    return str(value), ""


def table_html(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sortable: bool = True,
    digits: int = 3,
    caption: str = "",
) -> str:
    """An HTML table; a click on a header of a sortable one sorts by that column.

    Parameters
    ----------
    headers : sequence of str
    rows : iterable of sequences
        Cells: numbers (shown with ``digits`` decimals, ints as they are, sorted
        as numbers), strings, or None / NaN (shown as ``-``, sorted last).
    sortable : bool
    digits : int
    caption : str

    Returns
    -------
    str
        The escaped fragment.
    """
    out = [f'<table class="{"sortable" if sortable else "plain"}">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr>")
    out.extend(f"<th>{html.escape(h)}</th>" for h in headers)
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for value in row:
            text, key = _cell(value, digits)
            attr = f' data-v="{key}" class="num"' if key else ""
            out.append(f"<td{attr}>{html.escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _pick_cells(pick) -> list[Any]:
    return [pick.threshold, pick.precision, pick.recall, pick.f1, pick.tp, pick.fp]


_PICK_HEADERS = ["threshold", "precision", "recall", "F1", "TP", "FP"]


# ---------------------------------------------------------------- the default sections


def summary_section(ctx: ReportContext) -> Section:
    """pycocotools' summary: the stats, as a table and as its 12 (or 10) lines."""
    result = ctx.result
    names = stat_names(result.params)
    lines = summary_lines(result.stats, result.params)
    table = table_html(
        ["stat", "value", "pycocotools' line"],
        [[n, v, line.rsplit("=", 1)[0].strip()] for n, v, line in zip(names, result.stats, lines)],
        sortable=False,
    )
    note = result.truncation(ctx.iou) if ctx.area == "all" else None
    body = table + (f'<p class="note">{html.escape(note)}</p>' if note else "")
    numbers = {
        "stats": result.stats_dict(),
        "n_images": len(result.params.img_ids),
        "n_detections": result.n_detections,
        "truncation": note,
    }
    return Section("summary", "Summary", body, (), numbers)


def per_class_section(ctx: ReportContext) -> Section | None:
    """The per-class table (AP, AP50, AP75, AR, counts, both threshold picks) and AP bars."""
    from prcore.display import ClassAPDisplay, fit_margins

    result = ctx.result
    if not result.params.use_cats:
        return None
    rows = result.per_class()
    best = ctx.best_f1.per_class
    target = ctx.precision_target.per_class
    p_label = f"P>={ctx.min_precision:g}"
    headers = ["class", "id", "AP", "AP50", "AP75", "AR", "GT", "dets"]
    headers += ["best-F1 thr", "P", "R", "F1", f"{p_label} thr", "R"]
    body_rows = [
        [r.name, r.category_id, r.ap, r.ap50, r.ap75, r.recall, r.n_gt, r.n_dt]
        + [b.threshold, b.precision, b.recall, b.f1, t.threshold, t.recall]
        for r, b, t in zip(rows, best, target)
    ]
    table = table_html(headers, body_rows)
    labels = result.params.area_rng_lbl
    table_area = "all" if "all" in labels else labels[0]  # the area per_class reads
    intro = (
        f"<p>AP (over every evaluated IoU threshold), AP50, AP75 and AR as pycocotools "
        f"(area {html.escape(table_area)}, maxDets {result.params.max_dets[-1]}); thresholds "
        f"read off the raw curves at IoU={ctx.iou:g}, area={html.escape(ctx.area)}. Click a "
        "header to sort.</p>"
    )
    bars = ClassAPDisplay.from_result(result)
    caption = "AP and AP50 per class, sorted by AP"
    n, cap = len(bars.names), max(ctx.max_class_curves, 2)
    if n > cap:  # one bar a class: past the cap, the best and the worst
        keep = list(range(cap - cap // 2)) + list(range(n - cap // 2, n))
        bars = ClassAPDisplay(
            [bars.names[i] for i in keep],
            {m: v[keep] for m, v in bars.values.items()},
            bars.missing,
            bars.title,
        )
        caption += f": the {cap - cap // 2} best and the {cap // 2} worst of {n} classes"
    size = (7.0, 1.2 + 0.26 * max(len(bars.names), 1))

    def draw(fig):
        fit_margins(fig, top=0.7 if bars.missing else 0.45)
        bars.plot(ax=fig.add_subplot())

    figures = (ReportFigure("class_ap", caption, size, draw),)
    numbers = [
        {
            **dataclasses.asdict(r),
            "best_f1": dataclasses.asdict(b),
            "min_precision": dataclasses.asdict(t),
        }
        for r, b, t in zip(rows, best, target)
    ]
    return Section("per_class", "Per class", intro + table, figures, numbers)


def thresholds_section(ctx: ReportContext) -> Section:
    """Shared score thresholds (all classes pooled) for best F1 and the precision target;
    what a given score threshold gives is the operating-points section's."""
    reports = {"best_f1": ctx.best_f1, "min_precision": ctx.precision_target}
    rows = [[rep.criterion, *_pick_cells(rep.shared), rep.shared.note or ""]
            for rep in reports.values()]  # fmt: skip
    numbers: dict[str, Any] = {k: rep.to_dict() for k, rep in reports.items()}
    table = table_html(["criterion", *_PICK_HEADERS, "note"], rows, digits=4, sortable=False)
    intro = (
        f"<p>One score threshold shared by every class, read off the raw curve of all "
        f"classes pooled (IoU={ctx.iou:g}, area={html.escape(ctx.area)}); the per-class picks are in "
        "the per-class table.</p>"
    )
    return Section("thresholds", "Score thresholds", intro + table, (), numbers)


def _operating_source(ctx: ReportContext) -> str:
    """Where the operating score comes from, in words."""
    if ctx.score_threshold is not None:
        return "the score threshold given"
    return f"the shared best-F1 threshold at IoU={ctx.iou:g}, area={ctx.area}"


def _no_operating_score(key: str, title: str) -> Section:
    note = "no detections, so no score threshold to count at"
    return Section(key, title, f'<p class="note">{note}.</p>', (), {"note": note})


_OP_HEADERS = ["class", "threshold", "TP", "FP", "FN", "GT", "ignored", "P", "R", "F1"]


def _op_cells(point, name: str | None = None) -> list[Any]:
    return [name or point.category_name, point.threshold, point.tp, point.fp, point.fn, point.n_gt,
            point.ignored, point.precision, point.recall, point.f1]  # fmt: skip


def operating_points_section(ctx: ReportContext) -> Section:
    """TP, FP, FN, precision, recall and F1 at the operating score, per class and pooled
    (:meth:`~prcore.result.EvaluationResult.at_threshold`)."""
    key, title = "operating_points", "Operating points"
    score = ctx.operating_score
    if score is None:
        return _no_operating_score(key, title)
    report = ctx.result.at_threshold(score, iou=ctx.iou, area=ctx.area)
    source = _operating_source(ctx)
    intro = (
        f"<p>Every detection scoring at least {score:.4g} ({html.escape(source)}) kept, over "
        f"the whole dataset, matched as pycocotools matches (IoU={report.iou:g}, "
        f"area={html.escape(report.area)}, maxDets {report.max_dets}); ignored detections "
        "(crowds, outside the area range) count as neither TP nor FP, and FN = GT - TP.</p>"
    )
    pooled = table_html(
        _OP_HEADERS, [_op_cells(report.pooled, "all classes (pooled)")], digits=4, sortable=False
    )
    body = intro + pooled
    if report.per_class:
        body += table_html(
            _OP_HEADERS,
            [_op_cells(p) for p in report.per_class],
            digits=4,
            caption=f"Each class at score >= {score:.4g}",
        )
    numbers = {**report.to_dict(), "score": score, "source": source}
    return Section(key, title, body, (), numbers)


def confusion_section(ctx: ReportContext) -> Section:
    """The confusion matrix of classes at the operating score, background last."""
    from prcore.confusion import confusion_matrix
    from prcore.display import ConfusionMatrixDisplay

    key, title = "confusion", "Confusion between classes"
    score = ctx.operating_score
    if score is None:
        return _no_operating_score(key, title)
    cm = confusion_matrix(ctx.result, ctx.iou, score, ctx.area, outcomes=ctx.outcomes)
    disp = ConfusionMatrixDisplay(cm, "true")
    n = len(cm.labels)
    many = n > 30  # past that, the cells' numbers would not be legible: colour alone
    # Laid out in inches, the matrix square (imshow's aspect), with no tight_layout:
    # it would draw the 160 labels of 80 classes once more just to measure them.
    cell, font = (0.13, 6.0) if many else (0.45, 10.0)
    side = max(cell * n, 3.5)
    text = max(map(len, cm.labels)) * font * 0.55 / 72  # the longest label's length
    left = 0.55 + text
    bottom = 0.6 + (text if many else 0.72 * text)  # predicted labels at 90 or 45 degrees
    top, right = 0.8, 1.1  # the two-line title; the colour bar and its ticks
    width, height = max(left + side + right, 6.0), bottom + side + top

    def draw(fig):
        ax = fig.add_axes((left / width, bottom / height, side / width, side / height))
        disp.plot(ax=ax, include_values=not many, colorbar=False,
                  xticks_rotation=90 if many else 45)  # fmt: skip
        ax.tick_params(labelsize=font)
        cax = fig.add_axes(((left + side + 0.2) / width, bottom / height, 0.2 / width,
                            side / height))  # fmt: skip
        disp.colorbar_ = fig.colorbar(disp.im_, cax=cax)

    figure = ReportFigure(
        "confusion",
        "Rows: the true class; columns: the predicted class (background last: a missed object "
        "in the last column, a detection of nothing in the last row); each row normalised to "
        "sum to 1. The counts are in report.json.",
        (width, height),
        draw,
    )
    k = n - 1
    off = [(int(cm.counts[i, j]), i, j) for i in range(k) for j in range(k)
           if i != j and cm.counts[i, j]]  # fmt: skip
    off.sort(key=lambda t: (-t[0], t[1], t[2]))
    rows_true = cm.counts.sum(axis=1)
    table = table_html(
        ["true class", "detected as", "count", "of the true class"],
        [[cm.labels[i], cm.labels[j], c, c / rows_true[i]] for c, i, j in off[:20]],
        caption="The most frequent confusions between classes",
    )
    if not off:
        table = "<p>No object of one class was detected as another.</p>"
    intro = (
        f"<p>At IoU={cm.iou:g}, score &gt;= {score:.4g} ({html.escape(_operating_source(ctx))}), "
        f"area={html.escape(cm.area)}, maxDets {cm.max_dets}: pycocotools' matching per class, "
        "then what is left matched across classes by the same greedy rule.</p>"
    )
    if ctx.result.params.iou_type == "keypoints":
        intro += (
            '<p class="note">Keypoints: OKS exists only within a class, so no pair across '
            "classes is made; a confusion shows as a miss and a detection of nothing.</p>"
        )
    numbers = {**cm.to_dict(), "normalized_over_true": cm.normalized("true")}
    return Section(key, title, intro + table, (figure,), numbers)


def errors_section(ctx: ReportContext) -> Section:
    """TIDE's error types: counts and the AP fixing each would gain, overall and per class."""
    from prcore.display import ErrorBreakdownDisplay
    from prcore.error_breakdown import ERROR_TYPES, SHORT_NAMES, error_breakdown

    eb = error_breakdown(ctx.result, ctx.iou, 0.1, ctx.area, outcomes=ctx.outcomes)
    disp = ErrorBreakdownDisplay(eb)
    figure = ReportFigure(
        "errors",
        "AP points gained by fixing each error type alone, and how many errors of each type",
        (7.0, 4.0),
        lambda fig: (disp.plot(ax=fig.add_subplot()), fig.tight_layout()),
    )

    def pts(x: float) -> float:
        return 100 * x

    table = table_html(
        ["type", "", "count", "dAP (points)"],
        [[name, short, int(c), pts(d)]
         for name, short, c, d in zip(ERROR_TYPES, SHORT_NAMES, eb.counts, eb.delta_ap)]
        + [["all false positives", "FalsePos", None, pts(eb.false_positive_delta_ap)],
           ["all false negatives", "FalseNeg", None, pts(eb.false_negative_delta_ap)]],
        sortable=False,
        digits=2,
    )  # fmt: skip
    per_class = table_html(
        ["class", "AP (points)", *SHORT_NAMES, *(f"dAP {s}" for s in SHORT_NAMES)],
        [
            [name, pts(eb.ap_per_class[k]), *eb.counts_per_class[:, k].tolist(),
             *(pts(d) for d in eb.delta_ap_per_class[:, k])]
            for k, name in enumerate(eb.category_names)
        ],
        digits=2,
        caption="Errors per class (detections by their predicted class, Miss by the true "
        "class); AP and dAP in points",
    )  # fmt: skip
    ap = "-" if math.isnan(eb.ap) else f"{100 * eb.ap:.2f}"
    intro = (
        f"<p>TIDE's errors on pycocotools' matching (foreground IoU={eb.iou:g}, background "
        f"IoU={eb.background_iou:g}, area={html.escape(eb.area)}, maxDets {eb.max_dets}): AP "
        f"{ap} points; dAP is the AP (in points, AP x 100) that fixing every error of one type, "
        "and nothing else, would gain.</p>"
    )
    return Section("errors", "Errors (TIDE)", intro + table + per_class, (figure,), eb.to_dict())


def calibration_section(ctx: ReportContext) -> Section:
    """Reliability of the scores: precision per score bin, ECE and MCE per class."""
    from prcore.display import ReliabilityDisplay

    key, title = "calibration", "Score calibration"
    try:
        cal = ctx.result.calibration(ctx.iou, 10, ctx.area)
    except PrcoreInputError as exc:  # scores that are not probabilities (logits, say)
        note = f"not shown: {exc.expected}"
        return Section(key, title, f'<p class="note">{html.escape(note)}.</p>', (), {"note": note})
    disp = ReliabilityDisplay(cal.pooled, cal.edges, cal.iou)
    figure = ReportFigure(
        "calibration",
        "Precision of each score bin against its mean score, every class pooled; on the "
        "diagonal a score is the chance of a true positive",
        (5.0, 5.0),
        lambda fig: (disp.plot(ax=fig.add_subplot()), fig.tight_layout()),
    )
    c = cal.pooled
    bins = table_html(
        ["score bin", "dets", "TP", "mean score", "precision"],
        [
            [f"[{lo:.2f}, {hi:.2f}{']' if b == len(c.counts) - 1 else ')'}", int(c.counts[b]),
             int(c.true_positives[b]), c.mean_score[b], c.precision[b]]
            for b, (lo, hi) in enumerate(zip(cal.edges[:-1], cal.edges[1:]))
        ],
        sortable=False,
        caption=f"All classes pooled: ECE {fmt_num(c.ece)}, MCE {fmt_num(c.mce)}",
    )  # fmt: skip
    body = (
        f"<p>Detections kept (maxDets {cal.max_dets}) and not ignored, at IoU={cal.iou:g}, "
        f"area={html.escape(cal.area)}, binned by score over [0, 1] in {len(c.counts)} bins. "
        "ECE: the mean gap between precision and score, weighted by the bins' detections; "
        "MCE: the largest gap.</p>" + bins
    )
    if cal.per_class:
        body += table_html(
            ["class", "dets", "ECE", "MCE"],
            [[x.category_name, x.n_detections, x.ece, x.mce] for x in cal.per_class],
            caption="Each class",
        )
    return Section(key, title, body, (figure,), cal.to_dict())


def _marks_of(ctx: ReportContext, curve: PRCurve, k: int | None) -> dict:
    """The operating points marked on one curve: the threshold picks, read not recomputed."""
    labels = ctx.mark_labels
    if k is None:
        picks = {"best_f1": ctx.best_f1.shared, "min_precision": ctx.precision_target.shared}
    else:
        picks = {"best_f1": ctx.best_f1.per_class[k],
                 "min_precision": ctx.precision_target.per_class[k]}  # fmt: skip
    if ctx.score_threshold is not None:
        picks["score_threshold"] = pick_at_score(curve, ctx.score_threshold)
    return {labels[key]: pick for key, pick in picks.items()}


def curves_section(ctx: ReportContext) -> Section:
    """All classes pooled: the raw PR curve over its score-recall curve, and precision,
    recall and F1 against the score threshold, the operating points marked."""
    from prcore.display import PrecisionRecallScoreDisplay, ScoreCurveDisplay

    pooled = ctx.pooled_curve
    marks = _marks_of(ctx, pooled, None)
    title = f"all classes pooled, IoU={ctx.iou:g}, area={ctx.area}"
    pr = PrecisionRecallScoreDisplay([pooled], [marks], title=title)
    lines = {label: pick.threshold for label, pick in marks.items() if pick.threshold is not None}
    score = ScoreCurveDisplay(pooled, lines)
    figures = (
        ReportFigure(
            "pooled_pr_score",
            "Raw precision-recall curve (top) and the score threshold reaching each recall "
            "(bottom), every class pooled",
            (6.0, 6.0),
            lambda fig: pr.plot(figure=fig),
        ),
        ReportFigure(
            "pooled_score_curves",
            "Precision, recall and F1 against the score threshold, every class pooled",
            (6.0, 4.0),
            lambda fig: score.plot(ax=fig.add_subplot()),
        ),
    )
    numbers = {
        "iou": ctx.iou,
        "area": ctx.area,
        "n_gt": pooled.n_gt,
        "n_thresholds": len(pooled.thresholds),
        "max_recall": pooled.max_recall,
        "marks": {label: dataclasses.asdict(p) for label, p in marks.items()},
    }
    note = pooled.truncation_note()
    body = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return Section("curves", "Precision-recall, all classes", body, figures, numbers)


def class_curves_section(ctx: ReportContext) -> Section | None:
    """Per-class raw PR curves over their score-recall curves, ``classes_per_figure`` a figure."""
    from prcore.display import PrecisionRecallScoreDisplay

    all_curves = ctx.class_curves
    if not all_curves:
        return None
    drawn = list(range(len(all_curves)))
    if len(drawn) > ctx.max_class_curves:
        # the most ground truth first (stable: ties in category order), then in order
        by_gt = sorted(drawn, key=lambda k: -all_curves[k].n_gt)
        drawn = sorted(by_gt[: ctx.max_class_curves])
    left_out = sorted(set(range(len(all_curves))) - set(drawn))
    curves = [all_curves[k] for k in drawn]
    per = ctx.classes_per_figure
    figures = []
    pages = []
    for start in range(0, len(curves), per):
        chunk = curves[start : start + per]
        marks = [_marks_of(ctx, c, drawn[start + i]) for i, c in enumerate(chunk)]
        disp = PrecisionRecallScoreDisplay(chunk, marks, title=f"IoU={ctx.iou:g}, area={ctx.area}")
        cols = min(len(chunk), 4)
        rows = -(-len(chunk) // cols)
        names = [c.category_name for c in chunk]
        page = len(pages) + 1
        name = "class_pr_score" if len(curves) <= per else f"class_pr_score_{page}"
        figures.append(
            ReportFigure(
                name,
                f"Classes {start + 1}-{start + len(chunk)} of {len(curves)}: " + ", ".join(names),
                (3.4 * cols, 3.4 * rows),
                lambda fig, disp=disp, cols=cols: disp.plot(figure=fig, ncols=cols),
            )
        )
        pages.append({"figure": f"figures/{name}.png", "classes": names})
    intro = (
        f"<p>Each class's raw precision-recall curve (top) over the score threshold that "
        f"reaches each recall (bottom), at IoU={ctx.iou:g}, area={html.escape(ctx.area)}, in the "
        f"categories' order, {per} classes a figure; the marks are the per-class picks "
        "of the per-class table.</p>"
    )
    if left_out:
        names = ", ".join(all_curves[k].category_name for k in left_out)
        intro += (
            f'<p class="note">{len(curves)} of {len(all_curves)} classes drawn (those with '
            f"the most ground truth); not drawn: {html.escape(names)}.</p>"
        )
    numbers = {"figures": pages, "not_drawn": [all_curves[k].category_name for k in left_out]}
    return Section("class_curves", "Precision-recall per class", intro, tuple(figures), numbers)


def coco_curves_section(ctx: ReportContext) -> Section:
    """COCO's 101-point interpolated curves at every IoU threshold, mean over classes."""
    from prcore.display import InterpolatedPRDisplay

    area = ctx.area
    disp = InterpolatedPRDisplay.from_result(ctx.result, None, area=area)
    figures = (
        ReportFigure(
            "coco_interpolated",
            "COCO's interpolated precision at each of its 101 recall thresholds, one line "
            "per IoU threshold: at each point the mean over the classes with ground truth; "
            "each curve's mean is COCO's AP at that IoU",
            (6.5, 5.0),
            lambda fig: disp.plot(ax=fig.add_subplot()),
        ),
    )
    table = table_html(
        ["IoU", "AP"], [[f"{t:.2f}", a] for t, a in zip(disp.iou_thrs, disp.ap)], sortable=False
    )
    numbers = {
        "label": disp.label,
        "iou_thrs": disp.iou_thrs,
        "rec_thrs": disp.rec_thrs,
        "ap": disp.ap,
        "precision": disp.precision,
    }
    intro = (
        "<p>The curves COCO's AP averages (the precision envelope, read at each recall "
        "threshold); the raw curves above show what a score threshold really gives.</p>"
    )
    return Section("coco_curves", "COCO's interpolated curves", intro + table, figures, numbers)


def parameters_section(ctx: ReportContext) -> Section:
    """The evaluation's parameters (to reproduce every number) and the report's options."""
    params = ctx.result.to_dict()["params"]

    def shown(value: Any) -> str:  # long lists in short; report.json has them whole
        if isinstance(value, list) and len(value) > 12:
            return f"{len(value)} values: {json.dumps(value[0])} ... {json.dumps(value[-1])}"
        return json.dumps(value)

    rows = [[k, shown(v)] for k, v in params.items()]
    options = {
        "iou": ctx.iou,
        "area": ctx.area,
        "min_precision": ctx.min_precision,
        "score_threshold": ctx.score_threshold,
        "classes_per_figure": ctx.classes_per_figure,
        "max_class_curves": ctx.max_class_curves,
    }
    rows += [[f"report: {k}", json.dumps(v)] for k, v in options.items()]
    table = table_html(["parameter", "value"], rows, sortable=False)
    return Section("parameters", "Parameters", table, (), {"params": params, "report": options})


DEFAULT_SECTIONS: tuple[SectionBuilder, ...] = (
    summary_section,
    per_class_section,
    thresholds_section,
    operating_points_section,
    curves_section,
    errors_section,
    confusion_section,
    calibration_section,
    class_curves_section,
    coco_curves_section,
    parameters_section,
)


# ---------------------------------------------------------------- progress


class _Progress:
    """A one-line progress bar on a text stream; silent when there is none."""

    def __init__(self, stream: TextIO | None, total: int):
        self.stream, self.total, self.done = stream, max(total, 1), 0

    def step(self, what: str) -> None:
        if self.stream is None:
            return
        width = 24
        filled = width * self.done // self.total
        bar = "#" * filled + "-" * (width - filled)
        line = f"\rprcore report [{bar}] {self.done}/{self.total} {what}"
        self.stream.write(line[:79].ljust(79))
        self.stream.flush()
        self.done += 1


# ---------------------------------------------------------------- building and writing


@dataclass(frozen=True)
class RenderedSection:
    """A section with its figures drawn: ``pngs`` holds one PNG per figure, in order."""

    section: Section
    pngs: tuple[bytes, ...]


_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, eq=False)
class Report:
    """A report built in memory; :meth:`write` puts it on disk."""

    sections: tuple[RenderedSection, ...]
    header: dict[str, Any]

    @property
    def figure_files(self) -> list[str]:
        """The figures' paths inside the report's folder, in page order."""
        return [f"figures/{f.name}.png" for s in self.sections for f in s.section.figures]

    def to_dict(self) -> dict[str, Any]:
        """``report.json``: the header and every section's numbers and figures."""
        return _json_ready(
            {
                **self.header,
                "sections": {
                    s.section.key: {
                        "title": s.section.title,
                        "numbers": s.section.numbers,
                        "figures": [f"figures/{f.name}.png" for f in s.section.figures],
                    }
                    for s in self.sections
                },
            }
        )

    def to_html(self) -> str:
        """``report.html``: one page, nothing outside it."""
        h = self.header
        title = "prcore report"
        nav = "".join(
            f'<a href="#{html.escape(s.section.key)}">{html.escape(s.section.title)}</a>'
            for s in self.sections
        )
        facts = [
            f"prcore {h['prcore_version']}",
            f"iou type {h['iou_type']}",
            f"{h['n_images']} images",
            f"{h['n_detections']} detections",
        ]
        inputs = "".join(
            f"<div><b>{html.escape(k)}</b>: {html.escape(str(v))}</div>"
            for k, v in (h.get("inputs") or {}).items()
        )
        body = []
        for rendered in self.sections:
            s = rendered.section
            body.append(f'<section id="{html.escape(s.key)}"><h2>{html.escape(s.title)}</h2>')
            body.append(s.html)
            for fig, png in zip(s.figures, rendered.pngs):
                data = base64.b64encode(png).decode("ascii")
                alt = html.escape(fig.caption, quote=True)
                body.append(
                    f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
                    f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
                )
            body.append("</section>")
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{_CSS}</style></head><body>"
            f"<header><h1>{title}</h1><p>{html.escape(' · '.join(facts))}</p>{inputs}"
            f"<nav>{nav}</nav></header><main>{''.join(body)}</main>"
            f"<script>{_JS}</script></body></html>\n"
        )

    def write(self, out_dir: str | os.PathLike) -> Path:
        """Write the report into ``out_dir``; return the path of ``report.html``.

        Everything is written first into a fresh folder next to ``out_dir``
        (so on the same file system), with the modes the umask gives. A new
        ``out_dir`` is then that folder, renamed: it appears complete or not at
        all. An existing ``out_dir`` keeps its other files; the report's own
        (``figures/*.png`` of this report, ``report.json``, then ``report.html``)
        are each replaced by a rename. Figures an earlier report wrote under
        other names are left in place.

        Raises
        ------
        PrcoreInputError
            When the folder holding ``out_dir`` does not exist, or ``out_dir``
            is a file; nothing is written then.
        """
        out = Path(os.path.abspath(out_dir))
        check_out_dir(out)
        try:
            self._write(out)
        except OSError as exc:  # a full disk, a folder not ours: one line, as bad input
            reason = exc.strerror or str(exc)
            raise PrcoreInputError(f"cannot write the report to {out_dir}: {reason}") from exc
        return out / "report.html"

    def _write(self, out: Path) -> None:
        staging = _fresh_folder(out.parent, f".{out.name[:100]}.")
        try:
            figures = staging / "figures"
            os.mkdir(figures, 0o777)
            for rendered in self.sections:
                for fig, png in zip(rendered.section.figures, rendered.pngs):
                    (figures / f"{fig.name}.png").write_bytes(png)
            (staging / "report.json").write_text(
                json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
            )
            (staging / "report.html").write_text(self.to_html(), encoding="utf-8")
            try:
                os.rename(staging, out)  # out is new: the whole report at once
            except OSError:
                if not out.is_dir():
                    raise
                _merge_into(staging, out, self.figure_files)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def check_out_dir(out_dir: str | os.PathLike) -> None:
    """Fail when a report cannot go to ``out_dir`` (its parent missing, or it is a file)."""
    out = Path(os.path.abspath(out_dir))
    try:
        exists, is_dir = out.exists(), out.is_dir()
    except OSError as exc:  # e.g. a name too long
        reason = exc.strerror or str(exc)
        raise PrcoreInputError(f"cannot write the report to {out_dir}: {reason}") from exc
    if not out.parent.is_dir():
        raise PrcoreInputError(
            f"cannot write the report to {out_dir}: folder {out.parent} does not exist",
            field="out_dir",
        )
    if exists and not is_dir:
        raise PrcoreInputError(
            f"cannot write the report to {out_dir}: it is a file, not a folder", field="out_dir"
        )


def _fresh_folder(parent: Path, prefix: str) -> Path:
    """A new folder, made with mode 0o777 so that the umask applies (mkdtemp's is 0o700)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}.tmp"
        try:
            os.mkdir(path, 0o777)
            return path
        except FileExistsError:
            continue


def _merge_into(staging: Path, out: Path, figure_files: list[str]) -> None:
    """Move the report's files into an existing folder, report.html last."""
    figures = out / "figures"
    if not figures.is_dir():
        os.mkdir(figures, 0o777)
    for rel in (*figure_files, "report.json", "report.html"):
        os.replace(staging / rel, out / rel)


def render_png(fig_spec: ReportFigure, dpi: int) -> bytes:
    """Draw one figure into a new ``matplotlib.figure.Figure`` (no pyplot) as PNG bytes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=fig_spec.size)
    fig_spec.draw(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _default_iou(result: EvaluationResult) -> float:
    thrs = result.params.iou_thrs
    return 0.5 if any(abs(t - 0.5) <= 1e-9 for t in thrs) else float(thrs[0])


def build_report(
    result: EvaluationResult,
    *,
    sections: Sequence[SectionBuilder] = DEFAULT_SECTIONS,
    iou: float | None = None,
    area: str | None = None,
    min_precision: float = 0.9,
    score_threshold: float | None = None,
    classes_per_figure: int = CLASSES_PER_FIGURE,
    max_class_curves: int = MAX_CLASS_CURVES,
    dpi: int = 80,
    inputs: Mapping[str, str] | None = None,
    progress: bool | TextIO = False,
) -> Report:
    """Build every section and draw every figure, in memory.

    Parameters
    ----------
    result : EvaluationResult
    sections : sequence of callables
        Section builders, in page order: each takes the :class:`ReportContext`
        and returns a :class:`Section` (or None to leave itself out).
    iou : float, optional
        IoU threshold of the raw curves and thresholds (default 0.5 when
        evaluated, else the first of ``params.iou_thrs``).
    area : str, optional
        Area range of the raw curves and thresholds (default "all" when
        evaluated, else the first label).
    min_precision : float
        The precision target whose thresholds are picked and marked.
    score_threshold : float, optional
        The score the operating points and the confusion matrix are counted at,
        marked on every curve (None: the shared best-F1 threshold).
    classes_per_figure : int
        Classes per figure of the per-class curve grid.
    max_class_curves : int
        Classes drawn in that grid at most: with more, those with the most
        ground truth are drawn and the others listed. The AP bars keep as many
        (at least 2): the best half and the worst half.
    dpi : int
        Resolution of the PNGs.
    inputs : mapping of str to str, optional
        What was evaluated (e.g. the files' paths), shown in the header.
    progress : bool or text stream
        A progress bar on ``sys.stderr`` (True) or on the stream given; none
        by default.

    Raises
    ------
    PrcoreInputError
        For an option the result cannot read, or two figures of one name.
    """
    if iou is None:
        iou = _default_iou(result)
    iou = float(result.params.iou_thrs[result._iou_index(iou)])
    labels = result.params.area_rng_lbl
    if area is None:
        area = "all" if "all" in labels else labels[0]
    result._area_index(area)
    ctx = ReportContext(
        result,
        iou,
        area,
        checked_number("min_precision", min_precision, 0.0, 1.0),
        None if score_threshold is None else checked_number("score_threshold", score_threshold),
        checked_integer("classes_per_figure", classes_per_figure, 1),
        checked_integer("max_class_curves", max_class_curves, 0),
    )
    dpi = checked_integer("dpi", dpi, 10)
    stream = (sys.stderr if progress is True else progress) or None
    try:
        rendered = _build(ctx, sections, dpi, stream)
    finally:
        if stream is not None:  # the bar's line ends, whatever happened
            stream.write("\n")
            stream.flush()
    header = {
        "prcore_version": __version__,
        "iou_type": result.params.iou_type,
        "n_images": len(result.params.img_ids),
        "n_detections": result.n_detections,
        "inputs": dict(inputs or {}),
    }
    return Report(tuple(rendered), header)


def _build(
    ctx: ReportContext, sections: Sequence[SectionBuilder], dpi: int, stream: TextIO | None
) -> list[RenderedSection]:
    built = []
    for builder in sections:
        if stream is not None:
            stream.write(
                f"\rprcore report: {getattr(builder, '__name__', 'section')}"[:79].ljust(79)
            )
            stream.flush()
        section = builder(ctx)
        if section is not None:
            built.append(section)
    names = [f.name for s in built for f in s.figures]
    for name in names:
        if not _NAME.match(name) or names.count(name) > 1:
            raise PrcoreInputError(f"bad or repeated figure name {name!r}", field="figures")
    keys = [s.key for s in built]
    for key in keys:
        if not _NAME.match(key) or keys.count(key) > 1:
            raise PrcoreInputError(f"bad or repeated section key {key!r}", field="sections")
    bar = _Progress(stream, len(names))
    rendered = []
    for section in built:
        pngs = []
        for fig in section.figures:
            bar.step(f"figures/{fig.name}.png")
            pngs.append(render_png(fig, dpi))
        rendered.append(RenderedSection(section, tuple(pngs)))
    bar.step("done")
    return rendered


def write_report(result: EvaluationResult, out_dir: str | os.PathLike, **options: Any) -> Path:
    """Build the report of ``result`` (:func:`build_report`, same options) and write it.

    Writes ``out_dir/report.html``, ``out_dir/report.json`` and
    ``out_dir/figures/*.png`` (see :meth:`Report.write` for an existing
    ``out_dir``) and returns the path of ``report.html``. Nothing is written
    when an option is bad or ``out_dir`` cannot be written: the folder is
    checked first, and every figure is drawn before the first file is written.
    """
    check_out_dir(out_dir)
    return build_report(result, **options).write(out_dir)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222}
header{background:#f4f5f7;padding:12px 24px;border-bottom:1px solid #ddd}
header h1{margin:0 0 4px;font-size:20px}
nav a{margin-right:14px;color:#0b5cad;text-decoration:none}
main{padding:0 24px 40px;max-width:1400px}
section{margin-top:28px}
h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{padding:3px 9px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
table.plain td{white-space:normal;max-width:60em}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none;background:#fafafa}
table.sortable th:hover{background:#eef3fa}
th.asc::after{content:" \\25B2"} th.desc::after{content:" \\25BC"}
figure{margin:10px 0 22px}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:13px;max-width:900px}
.note{color:#8a5a00}
"""

# Sorts a table by the clicked column: numbers by data-v, missing values last.
_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var desc = !th.classList.contains("desc");
      Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(desc ? "desc" : "asc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[col];
        var v = cell.getAttribute("data-v");
        return v === null ? cell.textContent : parseFloat(v);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var xm = x === "-", ym = y === "-";
        if (xm || ym) { return xm === ym ? 0 : (xm ? 1 : -1); }
        var c = (typeof x === "number" && typeof y === "number") ? x - y
          : String(x).localeCompare(String(y));
        return desc ? -c : c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
