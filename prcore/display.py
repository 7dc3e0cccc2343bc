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
