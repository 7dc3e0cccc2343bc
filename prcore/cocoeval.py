"""Drop-in for ``pycocotools.cocoeval.COCOeval``: same calls, same numbers.

Thin: ``evaluate`` runs :func:`prcore.engine.match`, ``accumulate`` runs
:func:`prcore.engine.accumulate`, ``summarize`` prints
:func:`prcore.summary.summary_lines`. ``params`` keeps pycocotools' names and
is translated to a frozen :class:`prcore.Params` at ``evaluate`` time.
"""

from __future__ import annotations

import datetime
import time

import numpy as np

from prcore import params as _params
from prcore.coco import COCO
from prcore.engine import accumulate as _accumulate
from prcore.engine import match as _match
from prcore.errors import PrcoreInputError
from prcore.summary import summary_lines, summary_stats


class Params:
    """pycocotools' mutable ``Params`` (same attribute names and defaults)."""

    def __init__(self, iouType: str = "segm") -> None:
        if iouType not in ("segm", "bbox", "keypoints"):
            raise Exception("iouType not supported")
        d = _params.DEFAULTS[iouType]
        self.imgIds: list = []
        self.catIds: list = []
        self.iouThrs = np.array(_params._linspace_iou())
        self.recThrs = np.array(_params._linspace_rec())
        self.maxDets = list(d["max_dets"])
        self.areaRng = [list(r) for r in d["area_rng"]]
        self.areaRngLbl = list(d["area_rng_lbl"])
        self.useCats = 1
        self.iouType = iouType
        self.useSegm = None

    def to_params(self) -> _params.Params:
        return _params.Params(
            iou_type=self.iouType,
            img_ids=tuple(int(i) for i in self.imgIds),
            cat_ids=tuple(int(c) for c in self.catIds),
            iou_thrs=tuple(float(t) for t in np.asarray(self.iouThrs).ravel()),
            rec_thrs=tuple(float(r) for r in np.asarray(self.recThrs).ravel()),
            max_dets=tuple(int(m) for m in self.maxDets),
            area_rng=tuple((float(a), float(b)) for a, b in self.areaRng),
            area_rng_lbl=tuple(self.areaRngLbl),
            use_cats=bool(self.useCats),
        )


class COCOeval:
    """``COCOeval(cocoGt, cocoDt, iouType)``; ``evaluate()``, ``accumulate()``, ``summarize()``."""

    def __init__(
        self, cocoGt: COCO | None = None, cocoDt: COCO | None = None, iouType: str = "segm"
    ) -> None:
        if not iouType:
            print("iouType not specified. use default iouType segm")
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.evalImgs: list = []
        self.eval: dict = {}
        self.params = Params(iouType=iouType)
        self._paramsEval = None
        self._table = None
        self.stats: np.ndarray = np.array([])
        self.ious: dict = {}
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    def evaluate(self) -> None:
        tic = time.time()
        print("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
        print(f"Evaluate annotation type *{p.iouType}*")
        if p.iouType != "bbox":
            raise PrcoreInputError(f"iouType {p.iouType!r} is not supported yet (only 'bbox')")
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        frozen = p.to_params()
        gt = self.cocoGt.ground_truth()
        dets = self.cocoDt.detections()
        self._table = _match(gt, dets, frozen)
        self._paramsEval = frozen
        print(f"DONE (t={time.time() - tic:0.2f}s).")

    def accumulate(self, p: Params | None = None) -> None:
        print("Accumulating evaluation results...")
        tic = time.time()
        if self._table is None:
            print("Please run evaluate() first")
            return
        frozen = self._paramsEval
        precision, recall, scores = _accumulate(self._table, frozen)
        self.eval = {
            "params": self.params,
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
        frozen = self._paramsEval
        self.stats = summary_stats(self.eval["precision"], self.eval["recall"], frozen)
        for line in summary_lines(self.stats, frozen):
            print(line)

    def __str__(self) -> str:
        self.summarize()
        return ""
