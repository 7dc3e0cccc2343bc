"""pycocotools' summary numbers and text, and the per-class table.

``summary_stats`` mirrors ``COCOeval.summarize`` (its ``_summarize``,
``_summarizeDets`` and ``_summarizeKps``), using the same numpy slicing and
``np.mean`` so the stats are bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prcore.params import Params

STAT_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "AR1",
    "AR10",
    "AR100",
    "ARs",
    "ARm",
    "ARl",
)
KEYPOINT_STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")

_LINE = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"


def stat_names(params: Params) -> tuple[str, ...]:
    """The names of the stats for ``params.iou_type``: 12 for bbox and segm, 10 for keypoints."""
    return KEYPOINT_STAT_NAMES if params.iou_type == "keypoints" else STAT_NAMES


def _stat_specs(params: Params):
    """(ap, iouThr, areaLbl, maxDets) of each stat: ``_summarizeDets`` or ``_summarizeKps``."""
    if params.iou_type == "keypoints":
        # _summarizeKps: maxDets=20 throughout, whatever params.maxDets holds.
        return tuple(
            (ap, iou, area, 20)
            for ap in (1, 0)
            for iou, area in ((None, "all"), (0.5, "all"), (0.75, "all"), (None, "medium"),
                              (None, "large"))
        )  # fmt: skip
    md = params.max_dets
    # pycocotools indexes maxDets[0..2]; with fewer, reuse the largest rather than crash.
    m = [md[min(i, len(md) - 1)] for i in range(3)]
    return (
        # stats[0] is _summarize(1): its default maxDets=100, not maxDets[2].
        (1, None, "all", 100),
        (1, 0.5, "all", m[2]),
        (1, 0.75, "all", m[2]),
        (1, None, "small", m[2]),
        (1, None, "medium", m[2]),
        (1, None, "large", m[2]),
        (0, None, "all", m[0]),
        (0, None, "all", m[1]),
        (0, None, "all", m[2]),
        (0, None, "small", m[2]),
        (0, None, "medium", m[2]),
        (0, None, "large", m[2]),
    )


def _mean_stat(precision, recall, params: Params, ap, iou_thr, area_lbl, max_det) -> float:
    aind = [i for i, lbl in enumerate(params.area_rng_lbl) if lbl == area_lbl]
    mind = [i for i, m in enumerate(params.max_dets) if m == max_det]
    iou_thrs = params.iou_thrs_array()
    if ap == 1:
        s = precision
        if iou_thr is not None:
            s = s[np.where(iou_thr == iou_thrs)[0]]
        s = s[:, :, :, aind, mind]
    else:
        s = recall
        if iou_thr is not None:
            s = s[np.where(iou_thr == iou_thrs)[0]]
        s = s[:, :, aind, mind]
    valid = s[s > -1]
    return -1.0 if len(valid) == 0 else float(np.mean(valid))


def summary_stats(precision, recall, params: Params) -> np.ndarray:
    """The COCO stats of ``params.iou_type`` (12, or 10 for keypoints), in pycocotools' order."""
    return np.array(
        [_mean_stat(precision, recall, params, *spec) for spec in _stat_specs(params)],
        dtype=np.float64,
    )


def summary_lines(stats: np.ndarray, params: Params) -> list[str]:
    """pycocotools' printed summary lines, character for character."""
    lines = []
    lo, hi = params.iou_thrs[0], params.iou_thrs[-1]
    for value, (ap, iou_thr, area_lbl, max_det) in zip(stats, _stat_specs(params)):
        title = "Average Precision" if ap == 1 else "Average Recall"
        kind = "(AP)" if ap == 1 else "(AR)"
        iou = f"{lo:0.2f}:{hi:0.2f}" if iou_thr is None else f"{iou_thr:0.2f}"
        lines.append(_LINE.format(title, kind, iou, area_lbl, max_det, value))
    return lines


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Plain aligned text table (first column left, the rest right-aligned)."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def fmt(cells):
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(headers), sep, *(fmt(r) for r in rows)])


def fmt_num(x: float | None, digits: int = 3) -> str:
    """A number for a table; '-' where pycocotools would have -1 (absent)."""
    if x is None or (isinstance(x, float) and np.isnan(x)) or x < 0:
        return "-"
    return f"{x:.{digits}f}"


@dataclass(frozen=True)
class ClassRow:
    """One category's line of the per-class table (NaN-free: None if absent)."""

    category_id: int
    name: str
    ap: float | None
    ap50: float | None
    ap75: float | None
    recall: float | None
    n_gt: int
    n_dt: int
