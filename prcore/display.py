"""Matplotlib views of raw curves (matplotlib is imported only here, lazily).

scikit-learn's Display contract (``sklearn.metrics.PrecisionRecallDisplay``):
a Display holds curves that are already computed; ``from_result`` builds one
from an :class:`~prcore.result.EvaluationResult` without drawing, and
``plot(ax=None, **kwargs)`` draws it and returns the display, with ``ax_``,
``figure_`` and ``line_`` (and ``lines_``, every line) set. ``plot`` never
recomputes a metric: it draws the arrays the display holds.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from prcore.curves import (
    PRCurve,
    ThresholdPick,
    checked_integer,
    checked_number,
    pick_at_score,
    pick_threshold,
)
from prcore.errors import PrcoreInputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from prcore.params import Params
    from prcore.result import EvaluationResult


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def _evaluated(gt: Any, dt: Any, params: Params | None) -> EvaluationResult:
    from prcore.engine import evaluate
    from prcore.result import EvaluationResult

    return EvaluationResult.build(evaluate(gt, dt, params=params))


@dataclass(eq=False)
class PrecisionRecallDisplay:
    """Raw precision-recall curves, one line per curve (a category, or all pooled).

    Parameters
    ----------
    curves : sequence of PRCurve
        Drawn in this order; a pooled curve (``category_id`` None) is drawn
        thick and black.
    title : str
        The axes' title; none when empty.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    lines_ : list of Line2D (len(curves),)
        The step line of each curve, in ``curves`` order.
    line_ : Line2D
        The main line: the pooled curve's when there is one, else the first.
    markers_ : list of Line2D or None (len(curves),)
        The best-F1 marker of each curve (None where not drawn).
    """

    curves: Sequence[PRCurve]
    title: str = ""
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    line_: Line2D | None = field(default=None, init=False, repr=False)
    lines_: list[Line2D] = field(default_factory=list, init=False, repr=False)
    markers_: list[Line2D | None] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.curves = tuple(self.curves)

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        categories: Iterable[int | str] | int | str | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
    ) -> PrecisionRecallDisplay:
        """The raw curves of ``result``, not drawn yet.

        Parameters
        ----------
        result : EvaluationResult
        categories : id, name, iterable of them, or None
            ``None``: every category (when ``params.use_cats``) and the pooled
            curve after them.
        iou, area, max_dets
            As in :meth:`~prcore.result.EvaluationResult.curve`.

        Raises
        ------
        PrcoreInputError
            For anything :meth:`~prcore.result.EvaluationResult.curve` cannot read.
        """
        if categories is None:
            cats = list(result.params.cat_ids) if result.params.use_cats else []
            curves = [result.curve(c, iou, area, max_dets) for c in cats]
            curves.append(result.curve(None, iou, area, max_dets))
        else:
            if isinstance(categories, (str, numbers.Integral)):
                categories = [categories]
            curves = [result.curve(c, iou, area, max_dets) for c in categories]
            if not curves:
                raise PrcoreInputError(
                    "expected at least one category (None: all of them)", field="categories"
                )
        return cls(curves, title=f"Precision-recall (IoU={curves[0].iou:g}, area={area})")

    @classmethod
    def from_predictions(
        cls,
        gt: Any,
        dt: Any,
        *,
        params: Params | None = None,
        categories: Iterable[int | str] | int | str | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
    ) -> PrecisionRecallDisplay:
        """Evaluate ``dt`` against ``gt`` (as :func:`prcore.evaluate`), then :meth:`from_result`."""
        return cls.from_result(_evaluated(gt, dt, params), categories, iou, area, max_dets)

    def plot(
        self, ax: Axes | None = None, *, mark_best_f1: bool = True, legend: bool = True, **kwargs
    ) -> PrecisionRecallDisplay:
        """Draw every curve on ``ax`` (a new figure when None).

        Parameters
        ----------
        ax : matplotlib Axes, optional
        mark_best_f1 : bool
            A dot at each curve's best-F1 operating point.
        legend : bool
        **kwargs
            Passed to each curve's ``Axes.step`` (over prcore's own style).

        Returns
        -------
        PrecisionRecallDisplay
            ``self``, with ``ax_``, ``figure_``, ``line_``, ``lines_`` and
            ``markers_`` set.
        """
        ax = _axes(ax, (6, 5))
        lines: list[Line2D] = []
        markers: list[Line2D | None] = []
        main = None
        for c in self.curves:
            pooled = c.category_id is None
            style = {
                "label": "all classes" if pooled else c.category_name,
                "linewidth": 2.5 if pooled else 1.2,
                "color": "black" if pooled else None,
                **kwargs,
            }
            (line,) = ax.step(c.recall, c.precision, where="post", **style)
            lines.append(line)
            if pooled and main is None:
                main = line
            marker = None
            if mark_best_f1 and len(c.thresholds):
                i = int(np.argmax(c.f1))
                (marker,) = ax.plot(
                    c.recall[i], c.precision[i], "o", color=line.get_color(), markersize=4
                )
            markers.append(marker)
            if c.truncated:
                ax.axvline(c.max_recall, color=line.get_color(), linestyle=":", linewidth=0.8)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if self.title:
            ax.set_title(self.title)
        if legend and lines:
            ax.legend(fontsize="small", loc="lower left")
        self.ax_, self.figure_ = ax, ax.figure
        self.lines_, self.markers_ = lines, markers
        self.line_ = main if main is not None else (lines[0] if lines else None)
        return self


@dataclass(eq=False)
class ScoreCurveDisplay:
    """Precision, recall and F1 of one raw curve against the score threshold.

    Parameters
    ----------
    curve : PRCurve
    marks : dict of str to float, optional
        Score thresholds to mark with a vertical line, by label.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    lines_ : dict of str to Line2D
        ``"precision"``, ``"recall"`` and ``"f1"``.
    line_ : Line2D
        The main line, ``lines_["precision"]``.
    mark_lines_ : dict of str to Line2D
        The vertical line of each mark.
    """

    curve: PRCurve
    marks: dict[str, float] = field(default_factory=dict)
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    line_: Line2D | None = field(default=None, init=False, repr=False)
    lines_: dict[str, Line2D] = field(default_factory=dict, init=False, repr=False)
    mark_lines_: dict[str, Line2D] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        category: int | str | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
        *,
        marks: dict[str, float] | None = None,
    ) -> ScoreCurveDisplay:
        """The raw curve of one category (``None``: all pooled), not drawn yet.

        Arguments as in :meth:`~prcore.result.EvaluationResult.curve`, which
        raises :class:`~prcore.errors.PrcoreInputError` for any it cannot read;
        ``marks`` are score thresholds to mark, by label (finite numbers).
        """
        checked = {str(k): checked_number("marks", v) for k, v in (marks or {}).items()}
        return cls(result.curve(category, iou, area, max_dets), checked)

    @classmethod
    def from_predictions(
        cls,
        gt: Any,
        dt: Any,
        *,
        params: Params | None = None,
        category: int | str | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
    ) -> ScoreCurveDisplay:
        """Evaluate ``dt`` against ``gt`` (as :func:`prcore.evaluate`), then :meth:`from_result`."""
        return cls.from_result(_evaluated(gt, dt, params), category, iou, area, max_dets)

    def plot(self, ax: Axes | None = None, *, legend: bool = True, **kwargs) -> ScoreCurveDisplay:
        """Draw precision, recall and F1 against the threshold on ``ax`` (a new figure when None).

        ``kwargs`` go to each ``Axes.step``. Returns ``self``, with ``ax_``,
        ``figure_``, ``line_`` and ``lines_`` set.
        """
        ax = _axes(ax, (6, 4))
        c = self.curve
        lines = {}
        for key, label, values in (
            ("precision", "precision", c.precision[:-1]),
            ("recall", "recall", c.recall[:-1]),
            ("f1", "F1", c.f1),
        ):
            (lines[key],) = ax.step(
                c.thresholds, values, where="post", **{"label": label, **kwargs}
            )
        styles = _mark_styles(self.marks)
        self.mark_lines_ = {
            label: ax.axvline(
                x, color=styles[label]["color"], linestyle="--", linewidth=1, label=label
            )
            for label, x in self.marks.items()
        }
        ax.set_xlabel("score threshold")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"{c.category_name} (IoU={c.iou:g})")
        if legend:
            # a fixed place: "best" searches every point of a long curve
            ax.legend(fontsize="small", loc="center right")
        self.ax_, self.figure_ = ax, ax.figure
        self.lines_, self.line_ = lines, lines["precision"]
        return self


# ---------------------------------------------------------------- analysis figures


def _mark_styles(labels: Iterable[str]) -> dict[str, dict[str, Any]]:
    """One marker style per operating-point label, the same in every panel; each a
    little smaller than the one before, so that marks at one point all show."""
    shapes = ("o", "s", "^", "D", "v", "P")
    return {
        label: {
            "marker": shapes[i % len(shapes)],
            "color": f"C{3 + i % 7}",
            "markersize": max(7.5 - 1.5 * i, 3.0),
        }
        for i, label in enumerate(labels)
    }


@dataclass(eq=False)
class PrecisionRecallScoreDisplay:
    """Raw precision-recall curves over their score-recall curves, recall shared.

    Each curve gets two stacked axes sharing the recall axis: precision against
    recall above, and below the score threshold that reaches each recall, so an
    operating point read off the upper curve has its threshold right under it.
    Several curves make a grid of such pairs (small multiples).

    Parameters
    ----------
    curves : sequence of PRCurve
        One panel each, in this order.
    marks : sequence of dict of str to ThresholdPick, optional
        Per curve, the operating points to mark, by label (e.g. ``"best F1"``,
        ``"score >= 0.5"``); a pick with no precision or recall is not drawn.
    title : str
        The figure's title; none when empty.

    Attributes
    ----------
    axes_ : ndarray of Axes (len(curves), 2)
        Set by :meth:`plot`, as are the attributes below: per curve, its
        precision axes and its score axes.
    ax_ : matplotlib Axes
        ``axes_[0, 0]``.
    figure_ : matplotlib Figure
    lines_ : list of (Line2D, Line2D) (len(curves),)
        Per curve, its precision-recall step line and its score-recall step line.
    line_ : Line2D
        The main line: the pooled curve's precision line when there is one, else
        the first curve's.
    markers_ : list of dict of str to (Line2D, Line2D)
        Per curve, each drawn mark on the precision axes and on the score axes.
    """

    curves: Sequence[PRCurve]
    marks: Sequence[dict[str, ThresholdPick]] = ()
    title: str = ""
    axes_: np.ndarray | None = field(default=None, init=False, repr=False)
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    line_: Line2D | None = field(default=None, init=False, repr=False)
    lines_: list[tuple[Line2D, Line2D]] = field(default_factory=list, init=False, repr=False)
    markers_: list[dict[str, tuple[Line2D, Line2D]]] = field(
        default_factory=list, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.curves = tuple(self.curves)
        self.marks = tuple(dict(m) for m in self.marks) or tuple({} for _ in self.curves)
        if len(self.marks) != len(self.curves):
            raise PrcoreInputError(
                f"expected one dict of marks per curve ({len(self.curves)}), got {len(self.marks)}",
                field="marks",
            )

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        categories: Iterable[int | str | None] | int | str | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
        *,
        best_f1: bool = True,
        min_precision: float | None = None,
        score_thresholds: Iterable[float] = (),
    ) -> PrecisionRecallScoreDisplay:
        """The raw curves of ``result`` and their operating points, not drawn yet.

        Parameters
        ----------
        result : EvaluationResult
        categories : id, name, None, iterable of them, or None
            ``None``: every category (when ``params.use_cats``) and the pooled
            curve after them; in an iterable, ``None`` is the pooled curve.
        iou, area, max_dets
            As in :meth:`~prcore.result.EvaluationResult.curve`.
        best_f1 : bool
            Mark each curve's best-F1 point (:func:`~prcore.curves.pick_threshold`).
        min_precision : float, optional
            Mark the point that threshold selection picks for this precision target.
        score_thresholds : iterable of float
            Mark the point of each of these score thresholds
            (:func:`~prcore.curves.pick_at_score`).

        Raises
        ------
        PrcoreInputError
            For anything :meth:`~prcore.result.EvaluationResult.curve` cannot read,
            a target outside [0, 1] or a threshold that is not a finite number.
        """
        if categories is None:
            cats: list[int | str | None] = (
                list(result.params.cat_ids) if result.params.use_cats else []
            )
            cats.append(None)
        elif isinstance(categories, (str, numbers.Integral)):
            cats = [categories]
        else:
            cats = list(categories)
        if not cats:
            raise PrcoreInputError(
                "expected at least one category (None: all of them)", field="categories"
            )
        if min_precision is not None:
            min_precision = checked_number("min_precision", min_precision, 0.0, 1.0)
        thresholds = [checked_number("score_thresholds", s) for s in score_thresholds]
        curves = [result.curve(c, iou, area, max_dets) for c in cats]
        marks = []
        for c in curves:
            m: dict[str, ThresholdPick] = {}
            if best_f1:
                m["best F1"] = pick_threshold(c, best_f1=True)
            if min_precision is not None:
                m[f"precision >= {min_precision:g}"] = pick_threshold(
                    c, min_precision=min_precision
                )
            for s in thresholds:
                m[f"score >= {s:g}"] = pick_at_score(c, s)
            marks.append(m)
        return cls(curves, marks, title=f"IoU={curves[0].iou:g}, area={area}")

    def plot(
        self,
        ax: Any = None,
        *,
        figure: Figure | None = None,
        ncols: int | None = None,
        legend: bool = True,
        **kwargs,
    ) -> PrecisionRecallScoreDisplay:
        """Draw each curve on its pair of axes.

        Parameters
        ----------
        ax : array-like of Axes (len(curves), 2), optional
            Per curve, the axes for precision and the axes for score; None lays
            out a grid on ``figure``.
        figure : matplotlib Figure, optional
            Where the grid goes when ``ax`` is None (a new pyplot figure when
            this is None too).
        ncols : int, optional
            Panels per row of the grid (default: up to 4).
        legend : bool
            Name the marks, in the first panel.
        **kwargs
            Passed to each step line (over prcore's own style).

        Returns
        -------
        PrecisionRecallScoreDisplay
            ``self``, with ``axes_``, ``ax_``, ``figure_``, ``lines_``, ``line_``
            and ``markers_`` set.
        """
        from matplotlib.ticker import MaxNLocator

        n = len(self.curves)
        grid = ax is None and n > 1  # small multiples, laid out here
        if ax is not None:
            axes = np.asarray(ax, dtype=object).reshape(n, 2)
            fig = axes[0, 0].figure
        else:
            cols = min(n, 4) if ncols is None else checked_integer("ncols", ncols, 1)
            rows = -(-n // cols)
            size = (6.0, 6.0) if n == 1 else (3.4 * cols, 3.4 * rows)
            if figure is None:
                import matplotlib.pyplot as plt

                figure = plt.figure(figsize=size)
            fig = figure
            # one cell per curve, split into its precision and score axes
            outer = fig.add_gridspec(
                rows,
                cols,
                hspace=0.25 if n > 1 else 0.0,
                wspace=0.12,
                left=0.13 if n == 1 else 0.05,
                right=0.97 if n == 1 else 0.99,
                top=0.9 if n == 1 else 1 - 0.8 / (3.4 * rows),
                bottom=0.1 if n == 1 else 0.25 / rows,
            )
            axes = np.empty((n, 2), dtype=object)
            for i in range(n):
                cell = outer[divmod(i, cols)].subgridspec(2, 1, height_ratios=[2, 1], hspace=0.06)
                axes[i, 0] = fig.add_subplot(cell[0])
                axes[i, 1] = fig.add_subplot(cell[1], sharex=axes[i, 0])

        def score_range(curve: PRCurve | None) -> tuple[float, float]:
            """[0, 1], widened to the scores of ``curve`` (of every curve when None)."""
            scores = [c.thresholds for c in ([curve] if curve is not None else self.curves)]
            scores = np.concatenate([np.zeros(1), np.ones(1), *scores])
            return float(scores.min()), float(scores.max())

        shared_range = score_range(None) if grid else None
        styles = _mark_styles(dict.fromkeys(k for m in self.marks for k in m))
        lines, markers, main = [], [], None
        for i, (c, marks) in enumerate(zip(self.curves, self.marks)):
            top, bottom = axes[i]
            style = {"color": "black" if c.category_id is None else "C0", "linewidth": 1.2}
            style.update(kwargs)
            (pr,) = top.step(c.recall, c.precision, where="post", **style)
            (sr,) = bottom.step(c.recall[:-1], c.thresholds, where="post", **style)
            lines.append((pr, sr))
            if main is None and c.category_id is None:
                main = pr
            drawn = {}
            for label, pick in marks.items():
                if pick.precision is None or pick.recall is None or pick.threshold is None:
                    continue
                st = {**styles[label], "linestyle": "none", "label": label}
                (a,) = top.plot([pick.recall], [pick.precision], **st)
                (b,) = bottom.plot([pick.recall], [pick.threshold], **{**st, "label": "_" + label})
                drawn[label] = (a, b)
            markers.append(drawn)
            name = "all classes" if c.category_id is None else c.category_name
            top.set_title(f"{name} (GT {c.n_gt})", fontsize="small" if grid else "medium")
            top.set_xlim(0, 1)
            top.set_ylim(0, 1.02)
            top.tick_params(labelbottom=False)
            bottom.set_ylim(*(shared_range or score_range(c)))
            if grid:
                _small_multiple(top, bottom, first_column=i % cols == 0, last_row=i + cols >= n)
            else:
                top.set_yticks([0.25, 0.5, 0.75, 1.0])  # clear of the score axis' top label
                bottom.yaxis.set_major_locator(MaxNLocator(3))
                top.set_ylabel("precision")
                bottom.set_xlabel("recall")
                bottom.set_ylabel("score")
                top.grid(alpha=0.3)
                bottom.grid(alpha=0.3)
        if legend and markers and any(markers):
            first = next(i for i, m in enumerate(markers) if m)
            axes[first, 0].legend(fontsize="x-small", loc="lower left")
        if self.title:
            height = fig.get_size_inches()[1]
            fig.suptitle(self.title, y=1 - 0.12 / height, va="top")
        self.axes_, self.ax_, self.figure_ = axes, axes[0, 0], fig
        self.lines_, self.markers_ = lines, markers
        self.line_ = main if main is not None else (lines[0][0] if lines else None)
        return self


def _small_multiple(top: Axes, bottom: Axes, *, first_column: bool, last_row: bool) -> None:
    """Axes of one panel of a grid: ticks on the grid's first column and last row only.

    Every panel of the grid has the same limits, and ticks are most of a panel's
    drawing time (tens of panels a figure); the inner panels get a light guide
    line through the middle of each axis instead.
    """
    from matplotlib.ticker import MaxNLocator

    for a in (top, bottom):
        a.tick_params(labelsize="x-small")
        mid = 0.5 if a is top else float(np.mean(a.get_ylim()))
        a.axhline(mid, color="0.85", linewidth=0.6, zorder=0)
        a.axvline(0.5, color="0.85", linewidth=0.6, zorder=0)
    if first_column:
        top.set_yticks([0.5, 1.0])
        bottom.yaxis.set_major_locator(MaxNLocator(2))
        top.set_ylabel("precision", fontsize="x-small")
        bottom.set_ylabel("score", fontsize="x-small")
    else:
        top.set_yticks([])
        bottom.set_yticks([])
    if last_row:  # the recall axis is shared: these are the top panel's ticks too
        bottom.set_xticks([0.0, 0.5, 1.0])
        bottom.set_xlabel("recall", fontsize="x-small")
    else:
        bottom.set_xticks([])


@dataclass(eq=False)
class ClassAPDisplay:
    """Per-class AP as horizontal bars, sorted, best at the top.

    Parameters
    ----------
    names : sequence of str (K,)
        The categories drawn, in drawing order (top first).
    values : dict of str to float64 (K,)
        Bar lengths per metric, e.g. ``{"AP": ..., "AP50": ...}``.
    missing : sequence of str
        Categories left out for having no ground truth (their AP is undefined).
    title : str

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    bars_ : dict of str to BarContainer
        Per metric, its bars in ``names`` order.
    """

    names: Sequence[str]
    values: dict[str, np.ndarray]
    missing: Sequence[str] = ()
    title: str = ""
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    bars_: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        metrics: Sequence[str] = ("AP", "AP50"),
        sort_by: str | None = None,
    ) -> ClassAPDisplay:
        """The per-class numbers of :meth:`~prcore.result.EvaluationResult.per_class`.

        Parameters
        ----------
        metrics : sequence of {"AP", "AP50", "AP75", "AR"}
            One bar per metric and class; AP is at IoU .50:.95.
        sort_by : str, optional
            The metric the classes are sorted by, descending (default: the first).

        Raises
        ------
        PrcoreInputError
            For an unknown metric, or a result evaluated without categories.
        """
        known = {"AP": "ap", "AP50": "ap50", "AP75": "ap75", "AR": "recall"}
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        sort_by = metrics[0] if sort_by is None and metrics else sort_by
        for m in (*metrics, sort_by):
            if m not in known:
                raise PrcoreInputError(
                    f"unknown metric {m!r}; known: {', '.join(known)}", field="metrics"
                )
        if not result.params.use_cats:
            raise PrcoreInputError("per-class AP needs use_cats=True", field="use_cats")
        rows = result.per_class()
        kept = [r for r in rows if getattr(r, known[sort_by]) is not None]
        missing = [r.name for r in rows if getattr(r, known[sort_by]) is None]
        # stable: equal values keep the categories' order
        kept.sort(key=lambda r: -getattr(r, known[sort_by]))
        values = {
            m: np.array(
                [np.nan if getattr(r, known[m]) is None else getattr(r, known[m]) for r in kept]
            )
            for m in metrics
        }
        labels = result.params.area_rng_lbl
        area = "all" if "all" in labels else labels[0]  # the area per_class reads
        return cls([r.name for r in kept], values, missing, title=f"Per-class AP (area {area})")

    def plot(self, ax: Axes | None = None, **kwargs) -> ClassAPDisplay:
        """Draw the bars on ``ax`` (a new figure, as tall as the classes need, when None).

        ``kwargs`` go to each ``Axes.barh``. Returns ``self``, with ``ax_``,
        ``figure_`` and ``bars_`` set.
        """
        n, k = len(self.names), max(len(self.values), 1)
        own = ax is None
        ax = _axes(ax, (7, 1.2 + 0.13 * k * max(n, 1)))
        if own:
            fit_margins(ax.figure)
        height = 0.8 / k
        y = np.arange(n)
        bars = {}
        for j, (metric, values) in enumerate(self.values.items()):
            offset = (j - (k - 1) / 2) * height
            bars[metric] = ax.barh(y + offset, values, height=height, **{"label": metric, **kwargs})
        ax.set_yticks(y, list(self.names), fontsize="x-small" if n > 30 else "small")
        ax.set_ylim(max(n, 1) - 0.5, -0.5)  # the best class at the top
        ax.set_xlim(0, 1)
        ax.set_xlabel("AP")
        ax.grid(axis="x", alpha=0.3)
        title = self.title
        if self.missing:
            title += f"\n(no ground truth: {', '.join(self.missing)})"
        if title:
            ax.set_title(title, fontsize="medium")
        if len(self.values) > 1:
            ax.legend(fontsize="small", loc="lower right")
        self.ax_, self.figure_, self.bars_ = ax, ax.figure, bars
        return self


@dataclass(eq=False)
class InterpolatedPRDisplay:
    """COCO's 101-point interpolated precision-recall curves, one per IoU threshold.

    These are the curves COCO's AP averages (``COCOeval.eval['precision']``,
    the precision envelope read at each of ``recThrs``), unlike the raw curves
    of :class:`PrecisionRecallDisplay`.

    Parameters
    ----------
    rec_thrs : float64 (R,)
        ``params.rec_thrs``.
    precision : float64 (T, R)
        One curve per IoU threshold; NaN where undefined (no ground truth).
    iou_thrs : float64 (T,)
    ap : float64 (T,)
        AP at each IoU threshold: the mean over recall thresholds and the
        categories averaged, as pycocotools averages (NaN when undefined).
    label : str
        What the curves are of: a category's name, or the pooled mean.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    lines_ : list of Line2D (T,)
        One per IoU threshold.
    line_ : Line2D
        The first IoU threshold's.
    """

    rec_thrs: np.ndarray
    precision: np.ndarray
    iou_thrs: np.ndarray
    ap: np.ndarray
    label: str = ""
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    line_: Line2D | None = field(default=None, init=False, repr=False)
    lines_: list[Line2D] = field(default_factory=list, init=False, repr=False)

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        category: int | str | None = None,
        area: str = "all",
        max_dets: int | None = None,
    ) -> InterpolatedPRDisplay:
        """The curves of one category, or their mean over the categories with ground truth.

        Parameters
        ----------
        category : int or str or None
            ``None``: at each IoU and recall threshold, the mean precision of the
            categories with ground truth in ``area`` (pycocotools' ``-1`` marks the
            others); COCO's AP at an IoU threshold is the mean of that curve.
        area : str
            One of ``params.area_rng_lbl``.
        max_dets : int or None
            One of ``params.max_dets``; ``None`` is the largest.

        Raises
        ------
        PrcoreInputError
            For an argument the result cannot read.
        """
        a = result._area_index(area)
        m = result._max_det_index(max_dets)
        p = result.precision[:, :, :, a, m]  # (T, R, K)
        if category is None:
            p = p.reshape(p.shape[0], p.shape[1], -1)
            label = "mean over classes with GT" if result.params.use_cats else "all"
        else:
            k = result._category_position(category)
            p = p[:, :, k : k + 1]
            label = result.cat_names[k]
        valid = p > -1
        with np.errstate(invalid="ignore"):
            curves = np.where(valid, p, 0.0).sum(axis=2) / valid.sum(axis=2)
            # pycocotools' np.mean(s[s > -1]) at each IoU threshold, as summarize does
            ap = np.array([np.mean(p[t][valid[t]]) if valid[t].any() else np.nan
                           for t in range(p.shape[0])])  # fmt: skip
        return cls(
            result.params.rec_thrs_array(),
            curves,
            result.params.iou_thrs_array(),
            ap,
            label=f"{label} (area={area}, maxDets={result.params.max_dets[m]})",
        )

    def plot(
        self, ax: Axes | None = None, *, legend: bool = True, **kwargs
    ) -> InterpolatedPRDisplay:
        """Draw one line per IoU threshold on ``ax`` (a new figure when None).

        ``kwargs`` go to each ``Axes.plot``. Returns ``self``, with ``ax_``,
        ``figure_``, ``line_`` and ``lines_`` set.
        """
        ax = _axes(ax, (6, 5))
        colors = _viridis(len(self.iou_thrs))
        lines = []
        for t, iou in enumerate(self.iou_thrs):
            ap = "n/a" if np.isnan(self.ap[t]) else f"{self.ap[t]:.3f}"
            style = {"color": colors[t], "linewidth": 1.2, "label": f"IoU={iou:.2f}: AP {ap}"}
            (line,) = ax.plot(self.rec_thrs, self.precision[t], **{**style, **kwargs})
            lines.append(line)
        ax.set_xlabel("recall")
        ax.set_ylabel("interpolated precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"COCO 101-point curves: {self.label}", fontsize="medium")
        if legend and lines:
            ax.legend(fontsize="x-small", loc="upper right")
        self.ax_, self.figure_ = ax, ax.figure
        self.lines_, self.line_ = lines, (lines[0] if lines else None)
        return self


def fit_margins(fig: Figure, top: float = 0.7, bottom: float = 0.5, left: float = 1.5) -> None:
    """Margins of a one-axes figure in inches, not fractions: a tall figure (one bar
    a class) keeps the room its title and labels need, and no more."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        top=1 - top / height, bottom=bottom / height, left=left / width, right=1 - 0.2 / width
    )


def _viridis(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.9, max(n, 1))]


# ---------------------------------------------------------------- analysis displays

if TYPE_CHECKING:
    from prcore.calibration import ReliabilityCurve
    from prcore.confusion import ConfusionMatrix
    from prcore.error_breakdown import ErrorBreakdown


@dataclass(eq=False)
class ConfusionMatrixDisplay:
    """A confusion matrix as an image: rows the true class, columns the predicted one.

    Parameters
    ----------
    matrix : ConfusionMatrix
    normalize : {None, "true", "pred"}
        Draw counts, or fractions of each row ("true") or column ("pred").

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    im_ : matplotlib AxesImage
        The matrix drawn.
    text_ : ndarray of Text (K + 1, K + 1) or None
        The value written in each cell (None when not written).
    colorbar_ : matplotlib Colorbar or None
    """

    matrix: ConfusionMatrix
    normalize: str | None = None
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    im_: Any = field(default=None, init=False, repr=False)
    text_: np.ndarray | None = field(default=None, init=False, repr=False)
    colorbar_: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.normalize not in (None, "true", "pred"):
            raise PrcoreInputError(
                f"expected None, 'true' or 'pred', got {self.normalize!r}", field="normalize"
            )

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        iou: float = 0.5,
        score: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
        normalize: str | None = None,
    ) -> ConfusionMatrixDisplay:
        """:meth:`~prcore.result.EvaluationResult.confusion` of ``result``, not drawn yet."""
        return cls(result.confusion(iou, score, area, max_dets), normalize)

    @property
    def values(self) -> np.ndarray:
        """What :meth:`plot` draws: the counts, or their normalised fractions."""
        if self.normalize is None:
            return self.matrix.counts
        return self.matrix.normalized(self.normalize)

    def plot(
        self,
        ax: Axes | None = None,
        *,
        include_values: bool | None = None,
        cmap: str = "Blues",
        colorbar: bool = True,
        xticks_rotation: float = 45,
        values_format: str | None = None,
    ) -> ConfusionMatrixDisplay:
        """Draw the matrix on ``ax`` (a new figure when None).

        Parameters
        ----------
        ax : matplotlib Axes, optional
        include_values : bool or None
            Write each cell's value; None writes them up to 30 labels.
        cmap : str
        colorbar : bool
        xticks_rotation : float
            Degrees, for the predicted labels.
        values_format : str or None
            Format spec of the written values: ``"d"`` for counts, ``".2f"``
            for fractions by default.

        Returns
        -------
        ConfusionMatrixDisplay
            ``self``, with ``ax_``, ``figure_``, ``im_``, ``text_`` and
            ``colorbar_`` set.
        """
        values = self.values
        n = len(self.matrix.labels)
        ax = _axes(ax, (max(5.0, 0.45 * n + 2), max(4.0, 0.45 * n + 1.5)))
        im = ax.imshow(values, interpolation="nearest", cmap=cmap)
        if include_values is None:
            include_values = n <= 30
        text = None
        if include_values:
            fmt = values_format or ("d" if self.normalize is None else ".2f")
            cmap_obj = im.cmap
            lo, hi = float(np.min(values)), float(np.max(values))
            middle = (lo + hi) / 2
            text = np.empty((n, n), dtype=object)
            for i in range(n):
                for j in range(n):
                    v = values[i, j]
                    color = cmap_obj(0.0) if v > middle else cmap_obj(1.0)
                    text[i, j] = ax.text(
                        j, i, format(v, fmt), ha="center", va="center", color=color,
                        fontsize="small",
                    )  # fmt: skip
        ax.set_xticks(np.arange(n))
        ax.set_yticks(np.arange(n))
        ax.set_xticklabels(self.matrix.labels, rotation=xticks_rotation, ha="right")
        ax.set_yticklabels(self.matrix.labels)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        m = self.matrix
        shown = "counts" if self.normalize is None else f"normalised over {self.normalize}"
        ax.set_title(f"Confusion matrix\nIoU={m.iou:g}, score >= {m.score_threshold:g}, {shown}")
        self.colorbar_ = ax.figure.colorbar(im, ax=ax) if colorbar else None
        self.ax_, self.figure_, self.im_, self.text_ = ax, ax.figure, im, text
        return self


@dataclass(eq=False)
class ErrorBreakdownDisplay:
    """TIDE's error types as bars: the AP (in points) fixing each would gain, and counts.

    Parameters
    ----------
    breakdown : ErrorBreakdown

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    bars_ : matplotlib BarContainer
        One bar per type, in ``ERROR_TYPES`` order, height ``100 * delta_ap``.
    texts_ : list of Text
        The count written over each bar ("n=...").
    """

    breakdown: ErrorBreakdown
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    bars_: Any = field(default=None, init=False, repr=False)
    texts_: list = field(default_factory=list, init=False, repr=False)

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        iou: float = 0.5,
        background_iou: float = 0.1,
        area: str = "all",
        max_dets: int | None = None,
    ) -> ErrorBreakdownDisplay:
        """:meth:`~prcore.result.EvaluationResult.error_breakdown` of ``result``, not drawn."""
        return cls(result.error_breakdown(iou, background_iou, area, max_dets))

    def plot(self, ax: Axes | None = None, **kwargs) -> ErrorBreakdownDisplay:
        """Draw the bars on ``ax`` (a new figure when None); ``kwargs`` go to ``Axes.bar``.

        Returns ``self``, with ``ax_``, ``figure_``, ``bars_`` and ``texts_`` set.
        """
        from prcore.error_breakdown import SHORT_NAMES

        ax = _axes(ax, (7, 4))
        b = self.breakdown
        heights = 100 * np.asarray(b.delta_ap, np.float64)
        colors = ["#d62728", "#ff7f0e", "#8c564b", "#9467bd", "#1f77b4", "#7f7f7f"]
        bars = ax.bar(SHORT_NAMES, heights, **{"color": colors, **kwargs})
        top = float(np.nanmax(heights)) if np.isfinite(heights).any() else 0.0
        texts = [
            ax.text(
                rect.get_x() + rect.get_width() / 2,
                rect.get_height() + 0.01 * max(top, 1),
                f"n={int(n)}",
                ha="center",
                va="bottom",
                fontsize="small",
            )
            for rect, n in zip(bars.patches, b.counts)
        ]
        ax.set_ylim(0, max(top, 1) * 1.15)
        ax.set_ylabel("dAP (AP points gained by fixing)")
        ax.set_xlabel("error type")
        ap = "-" if np.isnan(b.ap) else f"{100 * b.ap:.1f}"
        ax.set_title(f"TIDE errors (IoU={b.iou:g}, background IoU={b.background_iou:g}): AP {ap}")
        ax.grid(axis="y", alpha=0.3)
        self.ax_, self.figure_, self.bars_, self.texts_ = ax, ax.figure, bars, texts
        return self


@dataclass(eq=False)
class ReliabilityDisplay:
    """A reliability diagram: precision of each score bin against the bin's mean score.

    Parameters
    ----------
    curve : ReliabilityCurve
        One class's, or all classes pooled.
    edges : ndarray (B + 1,)
        The score bins' edges.
    iou : float

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    bars_ : matplotlib BarContainer
        Each bin's precision over the bin (0 high where the bin is empty).
    line_ : Line2D
        Precision against mean score of the non-empty bins; its label gives the ECE.
    diagonal_ : Line2D
        Perfect calibration.
    """

    curve: ReliabilityCurve
    edges: np.ndarray
    iou: float = 0.5
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    bars_: Any = field(default=None, init=False, repr=False)
    line_: Line2D | None = field(default=None, init=False, repr=False)
    diagonal_: Line2D | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        category: int | str | None = None,
        iou: float = 0.5,
        bins: int = 10,
        area: str = "all",
        max_dets: int | None = None,
    ) -> ReliabilityDisplay:
        """One class's (None: all pooled) reliability, from
        :meth:`~prcore.result.EvaluationResult.calibration`; not drawn yet."""
        if category is not None:
            result._category_position(category)  # names a bad category as curve() does
        cal = result.calibration(iou, bins, area, max_dets)
        return cls(cal.curve(category), cal.edges, cal.iou)

    def plot(self, ax: Axes | None = None, *, legend: bool = True, **kwargs) -> ReliabilityDisplay:
        """Draw the diagram on ``ax`` (a new figure when None); ``kwargs`` go to the
        reliability line's ``Axes.plot``.

        Returns ``self``, with ``ax_``, ``figure_``, ``bars_``, ``line_`` and
        ``diagonal_`` set.
        """
        ax = _axes(ax, (5, 5))
        c = self.curve
        edges = np.asarray(self.edges, np.float64)
        heights = np.nan_to_num(c.precision, nan=0.0)
        bars = ax.bar(
            edges[:-1], heights, width=np.diff(edges), align="edge", color="#1f77b4",
            alpha=0.3, edgecolor="#1f77b4", label="precision per bin",
        )  # fmt: skip
        (diagonal,) = ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
        full = c.counts > 0
        ece = "-" if np.isnan(c.ece) else f"{c.ece:.3f}"
        style = {"marker": "o", "color": "#d62728", "label": f"{c.category_name} (ECE {ece})"}
        (line,) = ax.plot(c.mean_score[full], c.precision[full], **{**style, **kwargs})
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("score (mean in bin)")
        ax.set_ylabel("precision (fraction of true positives)")
        ax.set_title(f"Reliability of {c.category_name} (IoU={self.iou:g}): ECE {ece}")
        ax.grid(alpha=0.3)
        if legend:
            ax.legend(fontsize="small", loc="upper left")
        self.ax_, self.figure_ = ax, ax.figure
        self.bars_, self.line_, self.diagonal_ = bars, line, diagonal
        return self
