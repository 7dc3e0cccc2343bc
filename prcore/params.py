"""Frozen evaluation parameters with pycocotools' defaults per iou type.

Mirrors ``pycocotools.cocoeval.Params`` (``setDetParams`` / ``setKpParams``),
validated once on construction and serialised with every result.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

IouType = Literal["bbox", "segm", "keypoints"]


def _linspace_iou() -> tuple[float, ...]:
    # pycocotools: np.linspace, not np.arange, so 0.75 is exactly 0.75.
    return tuple(
        np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True).tolist()
    )


def _linspace_rec() -> tuple[float, ...]:
    return tuple(
        np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True).tolist()
    )


DEFAULTS: dict[str, dict] = {
    "bbox": {
        "max_dets": (1, 10, 100),
        "area_rng": ((0.0**2, 1e5**2), (0.0**2, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2)),
        "area_rng_lbl": ("all", "small", "medium", "large"),
    },
    "keypoints": {
        "max_dets": (20,),
        "area_rng": ((0.0**2, 1e5**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2)),
        "area_rng_lbl": ("all", "medium", "large"),
    },
}
DEFAULTS["segm"] = DEFAULTS["bbox"]


class Params(BaseModel):
    """Evaluation parameters; ``None`` fields take pycocotools' defaults.

    ``img_ids`` and ``cat_ids`` left as ``None`` mean every image and every
    category of the ground truth (pycocotools: ``sorted(cocoGt.getImgIds())``).
    Ids are de-duplicated and sorted and ``max_dets`` sorted, as
    ``COCOeval.evaluate`` does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    iou_type: IouType = "bbox"
    img_ids: tuple[int, ...] | None = None
    cat_ids: tuple[int, ...] | None = None
    iou_thrs: tuple[float, ...] | None = None
    rec_thrs: tuple[float, ...] | None = None
    max_dets: tuple[int, ...] | None = None
    area_rng: tuple[tuple[float, float], ...] | None = None
    area_rng_lbl: tuple[str, ...] | None = None
    use_cats: bool = True

    @field_validator("img_ids", "cat_ids")
    @classmethod
    def _unique_sorted(cls, v):
        if v is None:
            return v
        return tuple(sorted(set(int(x) for x in v)))

    @field_validator("max_dets")
    @classmethod
    def _sorted_dets(cls, v):
        if v is None:
            return v
        if not v or any(m < 1 for m in v):
            raise ValueError("max_dets must be positive integers")
        return tuple(sorted(v))

    @field_validator("iou_thrs", "rec_thrs")
    @classmethod
    def _unit_interval(cls, v):
        if v is None:
            return v
        if not v or any(not (0.0 <= x <= 1.0) for x in v):
            raise ValueError("thresholds must be a non-empty list of numbers in [0, 1]")
        return tuple(float(x) for x in v)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Params:
        d = DEFAULTS[self.iou_type]
        fill = {}
        if self.iou_thrs is None:
            fill["iou_thrs"] = _linspace_iou()
        if self.rec_thrs is None:
            fill["rec_thrs"] = _linspace_rec()
        if self.max_dets is None:
            fill["max_dets"] = d["max_dets"]
        if self.area_rng is None:
            fill["area_rng"] = d["area_rng"]
        if self.area_rng_lbl is None:
            n = len(self.area_rng) if self.area_rng is not None else len(d["area_rng"])
            # pycocotools keeps its default labels when only areaRng changes.
            same_len = n == len(d["area_rng_lbl"])
            fill["area_rng_lbl"] = (
                d["area_rng_lbl"] if same_len else tuple(f"area{i}" for i in range(n))
            )
        for k, v in fill.items():
            object.__setattr__(self, k, v)
        if len(self.area_rng) != len(self.area_rng_lbl):
            raise ValueError("area_rng and area_rng_lbl must have the same length")
        return self

    def with_ids(self, img_ids, cat_ids) -> Params:
        """A copy with the image and category ids filled in."""
        return self.model_copy(
            update={
                "img_ids": tuple(sorted(set(int(x) for x in img_ids))),
                "cat_ids": tuple(sorted(set(int(x) for x in cat_ids))),
            }
        )

    # Arrays for the kernels.
    def iou_thrs_array(self) -> np.ndarray:
        return np.asarray(self.iou_thrs, dtype=np.float64)

    def rec_thrs_array(self) -> np.ndarray:
        return np.asarray(self.rec_thrs, dtype=np.float64)

    def area_rng_array(self) -> np.ndarray:
        return np.asarray(self.area_rng, dtype=np.float64).reshape(-1, 2)

    def max_dets_array(self) -> np.ndarray:
        return np.asarray(self.max_dets, dtype=np.int64)
