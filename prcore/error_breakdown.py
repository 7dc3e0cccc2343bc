"""Where AP is lost: TIDE's six error types and what fixing each would gain.

Bolya et al., "TIDE: A General Toolbox for Identifying Object Detection
Errors" (ECCV 2020), on pycocotools' own matching. At the foreground IoU
``t_f`` every detection is a true positive, a false positive or ignored, as
``COCOeval.evaluateImg`` decides per category. Each false positive gets the
first type that fits, in this order (IoU with ground truths of its image that
are not ignored; for keypoints OKS, and only within a category):

- localisation (Loc): its best IoU with a ground truth of its own class is
  in ``[t_b, t_f)``;
- classification (Cls): IoU >= ``t_f`` with a ground truth of another class;
- duplicate (Dupe): IoU >= ``t_f`` with a ground truth of its class that a
  higher-scoring detection took;
- background (Bkg): IoU < ``t_b`` with every ground truth (or none overlaps);
- both (Cls and Loc): any other, e.g. IoU in ``[t_b, t_f)`` with another class.

A ground truth that no true positive took is missed (Miss) unless a Cls or
Loc error points at it. Each type's dAP is the AP gained by fixing every
error of that type, and nothing else, as TIDE's oracle does:

- Loc: of the Loc errors on a ground truth no true positive took, the
  highest-scoring one becomes a true positive; every other Loc error is
  removed (its ground truth is already taken);
- Cls: the same, and the fixed detection moves to its ground truth's class;
- Both, Dupe, Bkg: the errors are removed;
- Miss: the missed ground truths leave the count of positives.

AP is COCO's: 101-point interpolation at ``t_f``, the mean over the classes
with ground truth (computed as ``COCOeval.accumulate`` does, so the base AP
is pycocotools' AP at that threshold). A class the Miss fix leaves without
positives has AP 0 if it has detections, and leaves the mean if it has none,
as in TIDE. Two choices differ from the ``tidecv`` package: the
matching is pycocotools' (crowds and area ranges as COCO treats them; tidecv
matches by its own rule, and averages classes with detections but no ground
truth into its mAP as 0), and the one error fixed per ground truth is chosen
among errors of the type being fixed (tidecv chooses among Cls and Loc
errors together, so a Cls error can be suppressed for a Loc one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prcore.curves import checked_number
from prcore.errors import PrcoreInputError
from prcore.match_outcomes import (
    MatchOutcomes,
    best_overlap,
    outcomes_for,
    overlap_order,
)
from prcore.summary import format_table

ERROR_TYPES = ("classification", "localization", "both", "duplicate", "background", "missed")
SHORT_NAMES = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
CLS, LOC, BOTH, DUPE, BKG, MISS = range(6)


@dataclass(frozen=True, eq=False)
class ErrorBreakdown:
    """TIDE's error counts and the AP each error type costs (module docstring).

    Attributes
    ----------
    ap : float
        AP at ``iou`` over the classes with ground truth (pycocotools'),
        NaN when no class has any.
    delta_ap : float64 (6,)
        AP gained by fixing each type alone, in ``ERROR_TYPES`` order; NaN
        for ``missed`` when that fix leaves no class to average (every object
        missed, no detection at all).
    counts : int64 (6,)
        Errors of each type: detections for the first five, ground truths
        for ``missed``.
    counts_per_class : int64 (6, K)
        The same per class: the detection's class (``missed``: the ground truth's).
    ap_per_class : float64 (K,)
        AP of each class; NaN where it has no ground truth.
    delta_ap_per_class : float64 (6, K)
        How each fix changes each class's AP; NaN where it has no ground truth.
    false_positive_delta_ap, false_negative_delta_ap : float
        TIDE's special errors: AP with every false positive removed, and with
        every unmatched ground truth removed, minus ``ap``.
    category_ids : tuple of int (K,)
    category_names : tuple of str (K,)
    iou, background_iou : float
        ``t_f`` and ``t_b``.
    area : str
    max_dets : int
    """

    ap: float
    delta_ap: np.ndarray
    counts: np.ndarray
    counts_per_class: np.ndarray
    ap_per_class: np.ndarray
    delta_ap_per_class: np.ndarray
    false_positive_delta_ap: float
    false_negative_delta_ap: float
    category_ids: tuple[int, ...]
    category_names: tuple[str, ...]
    iou: float
    background_iou: float
    area: str
    max_dets: int
    error_types: tuple[str, ...] = ERROR_TYPES

    def to_dict(self) -> dict:
        def num(x: float) -> float | None:
            return None if np.isnan(x) else float(x)

        return {
            "iou": self.iou,
            "background_iou": self.background_iou,
            "area": self.area,
            "max_dets": self.max_dets,
            "ap": num(self.ap),
            "errors": {
                name: {"count": int(n), "delta_ap": num(d)}
                for name, n, d in zip(ERROR_TYPES, self.counts, self.delta_ap)
            },
            "special": {
                "false_positive": {"delta_ap": num(self.false_positive_delta_ap)},
                "false_negative": {"delta_ap": num(self.false_negative_delta_ap)},
            },
            "per_class": [
                {
                    "category_id": cid,
                    "name": name,
                    "ap": num(self.ap_per_class[k]),
                    "errors": {
                        t: {
                            "count": int(self.counts_per_class[i, k]),
                            "delta_ap": num(self.delta_ap_per_class[i, k]),
                        }
                        for i, t in enumerate(ERROR_TYPES)
                    },
                }
                for k, (cid, name) in enumerate(zip(self.category_ids, self.category_names))
            ],
        }

    def to_text(self) -> str:
        def pts(x: float) -> str:
            return "-" if np.isnan(x) else f"{100 * x:.2f}"

        head = (
            f"TIDE errors (IoU={self.iou:g}, background IoU={self.background_iou:g}, "
            f"area={self.area}, maxDets={self.max_dets}): AP {pts(self.ap)}"
        )
        main = format_table(
            ["type", *SHORT_NAMES],
            [
                ["dAP", *(pts(d) for d in self.delta_ap)],
                ["count", *(str(int(n)) for n in self.counts)],
            ],
        )
        special = format_table(
            ["special", "FalsePos", "FalseNeg"],
            [["dAP", pts(self.false_positive_delta_ap), pts(self.false_negative_delta_ap)]],
        )
        per_class = format_table(
            ["class", "AP", *SHORT_NAMES],
            [
                [name, pts(self.ap_per_class[k]), *map(str, self.counts_per_class[:, k].tolist())]
                for k, name in enumerate(self.category_names)
            ],
        )
        return (
            f"{head}\n(AP and dAP in points: AP x 100)\n\n{main}\n\n{special}\n\n"
            f"errors per class (detections by predicted class, Miss by true class)\n{per_class}"
        )


def _accumulate_order(
    cat: np.ndarray, score: np.ndarray, img: np.ndarray, rank: np.ndarray
) -> np.ndarray:
    """Every detection in ``COCOeval.accumulate``'s order: by class, descending score,
    then image, then rank in the image (a total order: rank is unique in its image
    and class)."""
    return np.lexsort((rank, img, -score, cat))


def _average_precisions(
    cat: np.ndarray,
    order: np.ndarray,
    keep: np.ndarray,
    tp: np.ndarray,
    n_pos: np.ndarray,
    classes: np.ndarray,
    rec_thrs: np.ndarray,
) -> np.ndarray:
    """COCO AP of each class in ``classes`` (``COCOeval.accumulate`` at one threshold).

    Kept detections of a class are ordered as accumulate orders them
    (``order``, :func:`_accumulate_order` of ``cat``: the kept ones keep that
    order, so the sort is shared by every fix that keeps the classes); precision is
    ``tp / (tp + fp + eps)``, made non-increasing from the right, read at the
    first point reaching each recall threshold (0 past the curve's end).
    A class left with no positives has AP 0, or NaN (it leaves the mean) when
    it has no detection either, as in TIDE (``APDataObject.is_empty``).
    """
    order = order[keep[order]]
    bounds = np.searchsorted(cat[order], np.arange(len(n_pos) + 1))
    out = np.zeros(len(classes), np.float64)
    for j, k in enumerate(classes.tolist()):
        is_tp = tp[order[bounds[k] : bounds[k + 1]]]
        nd = len(is_tp)
        if n_pos[k] <= 0:
            out[j] = 0.0 if nd else np.nan
            continue
        if nd == 0:
            continue
        tps = np.cumsum(is_tp).astype(np.float64)
        fps = np.cumsum(~is_tp).astype(np.float64)
        rc = tps / n_pos[k]
        pr = tps / (fps + tps + np.spacing(1))
        pr = np.maximum.accumulate(pr[::-1])[::-1]
        inds = np.searchsorted(rc, rec_thrs, side="left")
        q = np.where(inds < nd, pr[np.minimum(inds, nd - 1)], 0.0)
        out[j] = q.mean()
    return out


def _fixed_by_best(
    o: MatchOutcomes, errors: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Of ``errors`` (bool (D,)) aimed at ``target`` ground truths: the one to fix per
    ground truth no true positive took (highest score; ties the first in cell
    order), and the rest, to remove. Returns two bool (D,) masks."""
    free = errors.copy()
    free[errors] = ~o.gt_matched[target[errors]]
    sel = np.flatnonzero(free)
    order = sel[np.lexsort((sel, -o.det_score[sel], target[sel]))]
    t = target[order]
    first = np.r_[True, t[1:] != t[:-1]] if len(t) else np.zeros(0, bool)
    fixed = np.zeros(len(errors), bool)
    fixed[order[first]] = True
    return fixed, errors & ~fixed


def error_breakdown(
    result,
    iou: float = 0.5,
    background_iou: float = 0.1,
    area: str = "all",
    max_dets: int | None = None,
    outcomes: MatchOutcomes | None = None,
) -> ErrorBreakdown:
    """TIDE's error breakdown of ``result`` (see the module's docstring).

    Parameters
    ----------
    result : EvaluationResult
    iou : float
        Foreground threshold ``t_f`` in [0, 1], evaluated or not.
    background_iou : float
        Background threshold ``t_b`` in [0, ``iou``].
    area : str
        One of ``params.area_rng_lbl``.
    max_dets : int or None
        One of ``params.max_dets`` (None: the largest).
    outcomes : MatchOutcomes, optional
        ``match_outcomes(result, iou, area, max_dets)`` when already computed
        (the report shares it with the confusion matrix).

    Raises
    ------
    PrcoreInputError
        For any argument it cannot read, naming it.
    """
    t_f = checked_number("iou", iou, 0.0, 1.0)
    t_b = checked_number("background_iou", background_iou, 0.0, 1.0)
    if t_b > t_f:
        raise PrcoreInputError(
            f"the background IoU ({t_b:g}) must not exceed the foreground IoU ({t_f:g})",
            field="background_iou",
        )
    o = outcomes_for(result, t_f, area, max_dets, outcomes)
    k = o.n_categories
    fp = o.det_state == 0
    same = o.det_cat[o.pair_det] == o.gt_cat[o.pair_gt]
    used = o.gt_matched[o.pair_gt]
    by_overlap = overlap_order(o)  # sorted once for the four
    best_same, same_gt = best_overlap(o, same, by_overlap)
    best_other, other_gt = best_overlap(o, ~same, by_overlap)
    best_used, _ = best_overlap(o, same & used, by_overlap)
    best_any, _ = best_overlap(o, np.ones(len(same), bool), by_overlap)

    # pycocotools matches at IoU >= min(t, 1 - 1e-10); the same cut here.
    t_match = min(t_f, 1 - 1e-10)
    kind = np.full(len(fp), -1, np.int64)
    rest = fp.copy()
    for code, test in (
        (LOC, (same_gt >= 0) & (best_same >= t_b) & (best_same < t_match)),
        (CLS, (other_gt >= 0) & (best_other >= t_match)),
        (DUPE, best_used >= t_match),
        (BKG, (best_any < t_b) | (best_any <= 0)),
        (BOTH, np.ones(len(fp), bool)),
    ):
        hit = rest & test
        kind[hit] = code
        rest &= ~hit

    loc_fixed, loc_removed = _fixed_by_best(o, kind == LOC, same_gt)
    cls_fixed, cls_removed = _fixed_by_best(o, kind == CLS, other_gt)
    aimed = np.zeros(len(o.gt_ignore), bool)
    aimed[same_gt[kind == LOC]] = True
    aimed[other_gt[kind == CLS]] = True
    missed = ~o.gt_ignore & ~o.gt_matched & ~aimed

    counts_per_class = np.zeros((6, k), np.int64)
    for code in (CLS, LOC, BOTH, DUPE, BKG):
        counts_per_class[code] = np.bincount(o.det_cat[kind == code], minlength=k)
    counts_per_class[MISS] = np.bincount(o.gt_cat[missed], minlength=k)

    n_pos = np.bincount(o.gt_cat[~o.gt_ignore], minlength=k)
    classes = np.flatnonzero(n_pos > 0)
    base_keep = o.det_state != 2
    base_tp = o.det_state == 1
    rec_thrs = o.params.rec_thrs_array()

    base_order = _accumulate_order(o.det_cat, o.det_score, o.det_img, o.det_rank)

    def ap_of(cat=o.det_cat, keep=base_keep, tp=base_tp, pos=n_pos, order=base_order):
        return _average_precisions(cat, order, keep, tp, pos, classes, rec_thrs)

    base = ap_of()
    fixed = np.empty((6, len(classes)))
    fixed[LOC] = ap_of(keep=base_keep & ~loc_removed, tp=base_tp | loc_fixed)
    cls_cat = o.det_cat.copy()
    cls_cat[cls_fixed] = o.gt_cat[other_gt[cls_fixed]]
    cls_order = _accumulate_order(cls_cat, o.det_score, o.det_img, o.det_rank)
    fixed[CLS] = ap_of(
        cat=cls_cat, keep=base_keep & ~cls_removed, tp=base_tp | cls_fixed, order=cls_order
    )
    for code in (BOTH, DUPE, BKG):
        fixed[code] = ap_of(keep=base_keep & (kind != code))
    fixed[MISS] = ap_of(pos=n_pos - np.bincount(o.gt_cat[missed], minlength=k))
    no_fp = ap_of(keep=base_keep & ~fp)
    no_fn = ap_of(pos=np.bincount(o.gt_cat[o.gt_matched], minlength=k))

    def mean(x: np.ndarray) -> float:
        return float(np.mean(x[~np.isnan(x)])) if (~np.isnan(x)).any() else float("nan")

    ap_per_class = np.full(k, np.nan)
    ap_per_class[classes] = base
    delta_per_class = np.full((6, k), np.nan)
    delta_per_class[:, classes] = fixed - base
    p = o.params
    for arr in (counts_per_class, ap_per_class, delta_per_class):
        arr.setflags(write=False)
    delta = np.array([mean(f) - mean(base) for f in fixed])
    totals = counts_per_class.sum(axis=1)
    delta.setflags(write=False)
    totals.setflags(write=False)
    names = tuple(result.cat_names) if len(result.cat_names) == k else tuple(map(str, p.cat_ids))
    return ErrorBreakdown(
        ap=mean(base),
        delta_ap=delta,
        counts=totals,
        counts_per_class=counts_per_class,
        ap_per_class=ap_per_class,
        delta_ap_per_class=delta_per_class,
        false_positive_delta_ap=mean(no_fp) - mean(base),
        false_negative_delta_ap=mean(no_fn) - mean(base),
        category_ids=tuple(p.cat_ids),
        category_names=names,
        iou=float(p.iou_thrs[0]),
        background_iou=t_b,
        area=p.area_rng_lbl[0],
        max_dets=p.max_dets[0],
    )
