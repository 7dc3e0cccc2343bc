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

from prcore.curves import PRCurve
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

    Attributes
    ----------
    ax_ : matplotlib Axes
        Set by :meth:`plot`, as are the attributes below.
    figure_ : matplotlib Figure
    lines_ : dict of str to Line2D
        ``"precision"``, ``"recall"`` and ``"f1"``.
    line_ : Line2D
        The main line, ``lines_["precision"]``.
    """

    curve: PRCurve
    ax_: Axes | None = field(default=None, init=False, repr=False)
    figure_: Figure | None = field(default=None, init=False, repr=False)
    line_: Line2D | None = field(default=None, init=False, repr=False)
    lines_: dict[str, Line2D] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_result(
        cls,
        result: EvaluationResult,
        category: int | str | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
    ) -> ScoreCurveDisplay:
        """The raw curve of one category (``None``: all pooled), not drawn yet.

        Arguments as in :meth:`~prcore.result.EvaluationResult.curve`, which
        raises :class:`~prcore.errors.PrcoreInputError` for any it cannot read.
        """
        return cls(result.curve(category, iou, area, max_dets))

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
        ax.set_xlabel("score threshold")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"{c.category_name} (IoU={c.iou:g})")
        if legend:
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        self.lines_, self.line_ = lines, lines["precision"]
        return self


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
