"""Drop-in for ``pycocotools.cocoeval.COCOeval``: same calls, same numbers.

Thin: ``evaluate`` runs :func:`prcore.engine.match`, ``accumulate`` runs
:func:`prcore.engine.accumulate`, ``summarize`` prints
:func:`prcore.summary.summary_lines`. ``params`` keeps pycocotools' names and
is translated to a frozen :class:`prcore.Params` at ``evaluate`` time.

pycocotools' per-cell views, ``evalImgs`` and ``ious``, are built only when
someone reads them (from :class:`prcore.engine.MatchDetails`), so the usual
evaluate/accumulate/summarize run never pays for them. Clients that hand
``evalImgs`` back (torchvision's ``CocoEvaluator`` merges them across
processes) or change ``params`` after ``evaluate`` get pycocotools' own
accumulation over those dicts.
"""

from __future__ import annotations

import copy
import datetime
import time
from collections import defaultdict

import numpy as np

from prcore import params as _params
from prcore.coco import COCO
from prcore.engine import MatchDetails
from prcore.engine import accumulate as _accumulate
from prcore.engine import match as _match
from prcore.io.load import Detections, GroundTruth
from prcore.summary import summary_lines, summary_stats

# pycocotools' Params literals: ints but for the 1e5 ** 2 bound, types that
# evalImgs' 'aRng' shows.
_AREA_RNG = {
    "det": [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]],
    "keypoints": [[0**2, 1e5**2], [32**2, 96**2], [96**2, 1e5**2]],
}


class Params:
    """pycocotools' mutable ``Params`` (same attribute names, defaults and types)."""

    def __init__(self, iouType: str = "segm") -> None:
        if iouType not in ("segm", "bbox", "keypoints"):
            raise Exception("iouType not supported")
        d = _params.DEFAULTS[iouType]
        self.imgIds: list = []
        self.catIds: list = []
        self.iouThrs = np.array(_params._linspace_iou())
        self.recThrs = np.array(_params._linspace_rec())
        self.maxDets = list(d["max_dets"])
        self.areaRng = copy.deepcopy(_AREA_RNG["keypoints" if iouType == "keypoints" else "det"])
        self.areaRngLbl = list(d["area_rng_lbl"])
        self.useCats = 1
        self.iouType = iouType
        self.useSegm = None
        if iouType == "keypoints":
            self.kpt_oks_sigmas = np.array(_params.COCO_PERSON_SIGMAS)

    def to_params(self) -> _params.Params:
        extra = {}
        if self.iouType == "keypoints":
            # pycocotools' one array for every category; a {category id: sigmas}
            # mapping is prcore's extension (see prcore.Params).
            sigmas = getattr(self, "kpt_oks_sigmas", None)
            if sigmas is not None and not isinstance(sigmas, dict):
                sigmas = np.asarray(sigmas, np.float64).ravel().tolist()
            extra["kpt_oks_sigmas"] = sigmas
        return _params.Params(
            iou_type=self.iouType,
            img_ids=tuple(int(i) for i in self.imgIds),
            cat_ids=tuple(int(c) for c in self.catIds),
            iou_thrs=tuple(float(t) for t in np.asarray(self.iouThrs).ravel()),
            rec_thrs=tuple(float(r) for r in np.asarray(self.recThrs).ravel()),
            max_dets=tuple(int(m) for m in self.maxDets),
            area_rng=tuple((float(a), float(b)) for a, b in self.areaRng),
            area_rng_lbl=self._area_labels(),
            use_cats=bool(self.useCats),
            **extra,
        )

    def _area_labels(self) -> tuple[str, ...]:
        """One label per range: pycocotools pairs them by position and tolerates lists of
        other lengths (summarize() then finds fewer ranges, or crashes), so extra labels
        are dropped and missing ones named area<i>."""
        n = len(self.areaRng)
        labels = [str(x) for x in self.areaRngLbl][:n]
        return tuple(labels + [f"area{i}" for i in range(len(labels), n)])


# The fields accumulate() reads; changed after evaluate(), they send it down
# pycocotools' own loop over evalImgs.
_ACCUMULATE_FIELDS = ("imgIds", "catIds", "iouThrs", "recThrs", "maxDets", "areaRng", "useCats")


def _same_fields(a, b) -> bool:
    try:
        # With useCats=0 accumulate() replaces catIds by [-1] and never reads them.
        skip = ("catIds",) if not a.useCats and not b.useCats else ()
        return all(
            np.array_equal(np.asarray(getattr(a, f)), np.asarray(getattr(b, f)))
            for f in _ACCUMULATE_FIELDS
            if f not in skip
        )
    except (AttributeError, TypeError, ValueError):
        return False


class COCOeval:
    """``COCOeval(cocoGt, cocoDt, iouType)``; ``evaluate()``, ``accumulate()``, ``summarize()``."""

    def __init__(
        self, cocoGt: COCO | None = None, cocoDt: COCO | None = None, iouType: str = "segm"
    ) -> None:
        if not iouType:
            print("iouType not specified. use default iouType segm")
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self._evalImgs = defaultdict(list)  # pycocotools' value before evaluate()
        self._ious: dict | None = {}
        self._evalImgs_set = False  # replaced by the caller since evaluate()
        self.eval: dict = {}
        self.params = Params(iouType=iouType)
        self._paramsEval = {}
        self._evaluated: Params | None = None  # params as evaluate() used them
        self._frozen: _params.Params | None = None
        self._inputs: tuple[GroundTruth, Detections, COCO] | None = None
        self._table = None
        self.stats = []
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    # ------------------------------------------------ pycocotools' lazy views

    @property
    def evalImgs(self) -> list:
        """pycocotools' per-(category, area range, image) dicts, None for empty cells."""
        if self._evalImgs is None:
            self._build_views()
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value) -> None:
        self._evalImgs = value
        self._evalImgs_set = True

    @property
    def ious(self) -> dict:
        """pycocotools' ``{(imgId, catId): [D, G] IoUs}``; ``[]`` where either side is empty."""
        if self._ious is None:
            self._build_views()
        return self._ious

    @ious.setter
    def ious(self, value) -> None:
        self._ious = value

    def _build_views(self) -> None:
        gt, dets, coco_dt = self._inputs
        _, details = _match(gt, dets, self._frozen, details=True)
        records = coco_dt.result_records()
        if records is None:  # read from a file: json gives Python floats
            scores = dets.score[details.det_index].tolist()
        else:  # the records' own score objects (numpy scalars from an array)
            scores = [records[j]["score"] for j in details.det_index.tolist()]
        eval_imgs, ious = _pycocotools_views(details, gt, dets, scores, self._evaluated)
        if self._evalImgs is None:
            self._evalImgs = eval_imgs
        if self._ious is None:
            self._ious = ious

    # ------------------------------------------------------------ the calls

    def evaluate(self) -> None:
        tic = time.time()
        print("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
            print(f"useSegm (deprecated) is not None. Running {p.iouType} evaluation")
        print(f"Evaluate annotation type *{p.iouType}*")
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        frozen = p.to_params()
        gt = self.cocoGt.ground_truth(p.iouType)
        dets = self.cocoDt.detections(gt, p.iouType)
        self._table = _match(gt, dets, frozen)
        self._frozen = frozen
        self._inputs = (gt, dets, self.cocoDt)
        self._evalImgs, self._ious, self._evalImgs_set = None, None, False
        self.eval = {}
        # What the lazy views are built from, and what accumulate() checks
        # the params against: a change after this sends it the exact way.
        self._evaluated = copy.deepcopy(p)
        self._paramsEval = copy.deepcopy(p)
        print(f"DONE (t={time.time() - tic:0.2f}s).")

    def accumulate(self, p: Params | None = None) -> None:
        print("Accumulating evaluation results...")
        tic = time.time()
        fast = (
            self._table is not None
            and p is None
            and not self._evalImgs_set
            and _same_fields(self.params, self._evaluated)
            and _same_fields(self._paramsEval, self._evaluated)
        )
        if fast:
            p = self.params
            precision, recall, scores = _accumulate(self._table, self._frozen)
            if not p.useCats:
                p.catIds = [-1]  # as pycocotools' accumulate leaves it
        elif self._table is None and not self._evalImgs_set:
            print("Please run evaluate() first")
            return
        else:
            if not self.evalImgs:
                print("Please run evaluate() first")
            if p is None:
                p = self.params
            precision, recall, scores = _accumulate_eval_imgs(self.evalImgs, p, self._paramsEval)
        self.eval = {
            "params": p,
            "counts": list(precision.shape),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }
        print(f"DONE (t={time.time() - tic:0.2f}s).")

    def summarize(self) -> None:
        if not self.eval:
            raise Exception("Please run accumulate() first")
        # pycocotools' summarize reads self.params as it is now.
        p = self.params
        shown = _params.Params(
            iou_type=p.iouType,
            iou_thrs=tuple(float(t) for t in np.asarray(p.iouThrs).ravel()),
            max_dets=tuple(int(m) for m in p.maxDets),
            area_rng=tuple((float(a), float(b)) for a, b in p.areaRng),
            area_rng_lbl=p._area_labels(),
        )
        self.stats = summary_stats(self.eval["precision"], self.eval["recall"], shown)
        for line in summary_lines(self.stats, shown):
            print(line)

    def __str__(self) -> str:
        self.summarize()
        return ""


def _pycocotools_views(
    details: MatchDetails, gt: GroundTruth, dets: Detections, d_score: list, p: Params
):
    """``evalImgs`` and ``ious`` as ``COCOeval.evaluate`` leaves them (cocoeval.py).

    Mirrors ``computeIoU`` (``[]`` when the cell has no detection or no ground
    truth; otherwise maskUtils.iou's Fortran-ordered ``[D, G]`` array over the
    cell's ground truths in file order), ``computeOks`` (the same, C-ordered;
    ``[]`` everywhere with ``useCats=0``, as it reads the empty cell
    ``(imgId, -1)``) and ``evaluateImg`` (None for a cell
    with neither; ground truths sorted ignored-last, ``dtMatches`` and
    ``gtMatches`` as float arrays of ids, ``gtIgnore`` an int array — float
    when empty, as ``np.array([])`` — and ``dtIgnore`` a bool array).
    ``d_score`` holds the detections' scores in the cell order.
    """
    img_ids = p.imgIds
    cat_ids = p.catIds if p.useCats else [-1]
    area_rng = p.areaRng
    max_det = p.maxDets[-1]
    n_img, n_area = len(img_ids), len(area_rng)
    n_thr = details.det_match.shape[1]
    det_cells, g_cells = details.det_cells.tolist(), details.g_cells.tolist()
    d_index = details.det_index
    d_id = d_index.astype(np.int64) + 1  # loadRes' ids
    d_id_f = d_id.astype(np.float64)
    d_area = dets.area[d_index]
    g_id = gt.ann_id[details.g_index]
    g_area = gt.ann_area[details.g_index]
    g_ignore = details.g_ignore  # _prepare's 'ignore': iscrowd (keypoints: or no keypoint)
    keypoints = p.iouType == "keypoints"
    no_oks = keypoints and not p.useCats
    sim_offsets = details.sim_offsets.tolist()
    eval_imgs: list = [None] * (len(cat_ids) * n_area * n_img)
    ious: dict = {}
    for i, img in enumerate(img_ids):
        for k, cat in enumerate(cat_ids):
            c = k * n_img + i
            d0, d1, g0, g1 = det_cells[c], det_cells[c + 1], g_cells[c], g_cells[c + 1]
            n_d, n_g = d1 - d0, g1 - g0
            if n_d == 0 or n_g == 0 or no_oks:
                ious[img, cat] = []
            else:
                block = details.sim[sim_offsets[c] : sim_offsets[c + 1]].reshape(n_d, n_g)
                ious[img, cat] = block.copy() if keypoints else np.asfortranarray(block)
            if n_d == 0 and n_g == 0:
                continue
            dt_ids = d_id[d0:d1].tolist()
            dt_scores = d_score[d0:d1]
            ids_of_gt = g_id[g0:g1]
            cell_area = d_area[d0:d1]
            for a, rng in enumerate(area_rng):
                lo, hi = rng
                ignore = (g_ignore[g0:g1] | (g_area[g0:g1] < lo) | (g_area[g0:g1] > hi)).astype(
                    np.int64
                )
                order = np.argsort(ignore, kind="mergesort")
                sorted_pos = np.empty(n_g, np.int64)
                sorted_pos[order] = np.arange(n_g)
                m = details.det_match[a, :, d0:d1]
                tt, dd = np.nonzero(m >= 0)
                gm = m[tt, dd]
                dtm = np.zeros((n_thr, n_d))
                dtm[tt, dd] = ids_of_gt[gm]
                dt_ig = np.zeros((n_thr, n_d))
                dt_ig[tt, dd] = ignore[gm]
                gtm = np.zeros((n_thr, n_g))
                # A crowd can take several detections at one threshold; the
                # last one (highest d) is what evaluateImg leaves in gtm.
                key = tt * n_g + sorted_pos[gm]
                last = len(key) - 1 - np.unique(key[::-1], return_index=True)[1]
                gtm.flat[key[last]] = d_id_f[d0 + dd[last]]
                outside = ((cell_area < lo) | (cell_area > hi)).reshape((1, n_d))
                dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(outside, n_thr, 0)))
                eval_imgs[(k * n_area + a) * n_img + i] = {
                    "image_id": img,
                    "category_id": cat,
                    "aRng": rng,
                    "maxDet": max_det,
                    "dtIds": dt_ids,
                    "gtIds": ids_of_gt[order].tolist(),
                    "dtMatches": dtm,
                    "gtMatches": gtm,
                    "dtScores": dt_scores,
                    "gtIgnore": ignore[order] if n_g else np.array([]),
                    "dtIgnore": dt_ig,
                }
    return eval_imgs, ious


def _accumulate_eval_imgs(eval_imgs, p, pe):
    """``precision``, ``recall``, ``scores`` from evalImgs dicts: ``COCOeval.accumulate``.

    A line-for-line port of pycocotools' loop (cocoeval.py), for evalImgs that
    did not come from this object's own evaluate(): ``p`` gives the output
    layout, ``pe`` (``_paramsEval``) where each cell lies in ``eval_imgs``.
    """
    p.catIds = p.catIds if p.useCats == 1 else [-1]
    T = len(p.iouThrs)
    R = len(p.recThrs)
    K = len(p.catIds) if p.useCats else 1
    A = len(p.areaRng)
    M = len(p.maxDets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    scores = -np.ones((T, R, K, A, M))

    cat_ids = pe.catIds if pe.useCats else [-1]
    set_k = set(cat_ids)
    set_a = set(map(tuple, pe.areaRng))
    set_m = set(pe.maxDets)
    set_i = set(pe.imgIds)
    k_list = [n for n, k in enumerate(p.catIds) if k in set_k]
    m_list = [m for n, m in enumerate(p.maxDets) if m in set_m]
    a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in set_a]
    i_list = [n for n, i in enumerate(p.imgIds) if i in set_i]
    I0 = len(pe.imgIds)
    A0 = len(pe.areaRng)
    for k, k0 in enumerate(k_list):
        Nk = k0 * A0 * I0
        for a, a0 in enumerate(a_list):
            Na = a0 * I0
            for m, max_det in enumerate(m_list):
                E = [eval_imgs[Nk + Na + i] for i in i_list]
                E = [e for e in E if e is not None]
                if len(E) == 0:
                    continue
                dt_scores = np.concatenate([e["dtScores"][0:max_det] for e in E])
                # mergesort, as pycocotools (consistent with the Matlab code)
                inds = np.argsort(-dt_scores, kind="mergesort")
                dt_scores_sorted = dt_scores[inds]
                dtm = np.concatenate([e["dtMatches"][:, 0:max_det] for e in E], axis=1)[:, inds]
                dt_ig = np.concatenate([e["dtIgnore"][:, 0:max_det] for e in E], axis=1)[:, inds]
                gt_ig = np.concatenate([e["gtIgnore"] for e in E])
                npig = np.count_nonzero(gt_ig == 0)
                if npig == 0:
                    continue
                tps = np.logical_and(dtm, np.logical_not(dt_ig))
                fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
                tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                    tp = np.array(tp)
                    fp = np.array(fp)
                    nd = len(tp)
                    rc = tp / npig
                    pr = tp / (fp + tp + np.spacing(1))
                    q = np.zeros((R,))
                    ss = np.zeros((R,))
                    recall[t, k, a, m] = rc[-1] if nd else 0
                    pr = pr.tolist()
                    q = q.tolist()
                    for i in range(nd - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    inds = np.searchsorted(rc, p.recThrs, side="left")
                    # pycocotools stops at the first recall threshold past the
                    # curve's end (its bare try/except IndexError).
                    for ri, pi in enumerate(inds):
                        if pi >= nd:
                            break
                        q[ri] = pr[pi]
                        ss[ri] = dt_scores_sorted[pi]
                    precision[t, :, k, a, m] = np.array(q)
                    scores[t, :, k, a, m] = np.array(ss)
    return precision, recall, scores
