"""Matplotlib views of raw curves (matplotlib is imported only here, lazily).

Like scikit-learn's ``PrecisionRecallDisplay``: a Display is built from
already-computed curves (``from_result``) and drawn with ``plot(ax=...)``; it
never recomputes a metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prcore.curves import PRCurve


@dataclass
class PrecisionRecallDisplay:
    """Raw precision-recall curves, one line per category (or pooled)."""

    curves: Sequence[PRCurve]
    title: str = ""

    @classmethod
    def from_result(
        cls,
        result,
        categories=None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int | None = None,
    ) -> PrecisionRecallDisplay:
        """Curves for ``categories`` (ids or names; ``None`` = all, plus the pooled curve)."""
        if categories is None:
            cats = list(result.params.cat_ids) if result.params.use_cats else []
            curves = [result.curve(c, iou, area, max_dets) for c in cats]
            curves.append(result.curve(None, iou, area, max_dets))
        else:
            curves = [result.curve(c, iou, area, max_dets) for c in categories]
        return cls(curves, title=f"Precision-recall (IoU={iou:g}, area={area})")

    def plot(self, ax=None, mark_best_f1: bool = True):
        """Draw on ``ax`` (a new figure when None); returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        for c in self.curves:
            pooled = c.category_id is None
            label = c.category_name if not pooled else "all classes"
            (line,) = ax.step(
                c.recall,
                c.precision,
                where="post",
                label=label,
                linewidth=2.5 if pooled else 1.2,
                color="black" if pooled else None,
            )
            if mark_best_f1 and len(c.thresholds):
                i = int(c.f1.argmax())
                ax.plot(c.recall[i], c.precision[i], "o", color=line.get_color(), markersize=4)
            if c.truncated:
                ax.axvline(c.max_recall, color=line.get_color(), linestyle=":", linewidth=0.8)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if self.title:
            ax.set_title(self.title)
        ax.legend(fontsize="small", loc="lower left")
        return ax


@dataclass
class ScoreCurveDisplay:
    """Precision, recall and F1 against the score threshold for one curve."""

    curve: PRCurve

    @classmethod
    def from_result(
        cls, result, category=None, iou: float = 0.5, area: str = "all", max_dets: int | None = None
    ) -> ScoreCurveDisplay:
        return cls(result.curve(category, iou, area, max_dets))

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        c = self.curve
        ax.step(c.thresholds, c.precision[:-1], where="post", label="precision")
        ax.step(c.thresholds, c.recall[:-1], where="post", label="recall")
        ax.step(c.thresholds, c.f1, where="post", label="F1")
        ax.set_xlabel("score threshold")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"{c.category_name} (IoU={c.iou:g})")
        ax.legend(fontsize="small")
        return ax
