"""Frozen evaluation parameters with pycocotools' defaults per iou type.

Mirrors ``pycocotools.cocoeval.Params`` (``setDetParams`` / ``setKpParams``),
validated once on construction and serialised with every result.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Literal

import numpy as np

from prcore.errors import PrcoreInputError

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

# pycocotools' setKpParams: COCO's 17 person keypoints, nose first.
COCO_PERSON_SIGMAS = tuple(
    (
        np.array(
            [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]
        )
        / 10.0
    ).tolist()
)  # fmt: skip


def default_area_labels(iou_type: str, n: int) -> tuple[str, ...]:
    """Labels of ``n`` area ranges given without labels, read as pycocotools reads them."""
    defaults = DEFAULTS[iou_type]["area_rng_lbl"]
    return tuple(defaults[i] if i < len(defaults) else f"area{i}" for i in range(n))


def _converted(name: str, values, convert, what: str) -> tuple[list, tuple]:
    """``(values, converted)`` of a list-valued field; ValueError naming it otherwise."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise PrcoreInputError(f"Params.{name} must be a list, got {values!r}")
    values = list(values)
    try:
        return values, tuple(convert(v) for v in values)
    except (TypeError, ValueError, OverflowError):
        raise PrcoreInputError(f"Params.{name} must be a list of {what}, got {values!r}") from None


def _ints(name: str, values) -> tuple[int, ...]:
    values, out = _converted(name, values, int, "integers")
    if any(o != v for o, v in zip(out, values)):  # 1.5 or "1" are not ids
        raise PrcoreInputError(f"Params.{name} must be a list of integers, got {values!r}")
    return out


def _floats(name: str, values) -> tuple[float, ...]:
    values, out = _converted(name, values, float, "numbers")
    if any(isinstance(v, (str, bytes, bool)) for v in values) or not all(map(math.isfinite, out)):
        raise PrcoreInputError(f"Params.{name} must be a list of finite numbers, got {values!r}")
    return out


@dataclasses.dataclass(frozen=True)
class Params:
    """Evaluation parameters; ``None`` fields take pycocotools' defaults.

    ``img_ids`` and ``cat_ids`` left as ``None`` mean every image and every
    category of the ground truth (pycocotools: ``sorted(cocoGt.getImgIds())``).
    Ids are de-duplicated and sorted and ``max_dets`` sorted, as
    ``COCOeval.evaluate`` does; one difference: with ``use_cats`` off,
    pycocotools keeps ``catIds`` as given, so their order decides score ties
    within an image and a repeated id counts its objects twice, where prcore
    sorts and de-duplicates them. ``kpt_oks_sigmas`` (keypoints only) are the
    per-keypoint OKS sigmas, COCO's 17 person sigmas by default: one list for
    every category (pycocotools' ``kpt_oks_sigmas``), or a mapping from
    category id to its list (CrowdPose's 14, COCO-WholeBody's 133, an animal
    set...), where a category left out takes COCO's person sigmas; the mapping
    is kept as ``((category_id, sigmas), ...)`` sorted by id, and
    :meth:`sigmas_for` reads either form. Validated on
    construction (:class:`~prcore.errors.PrcoreInputError`, a ``ValueError``,
    naming the field); a plain frozen dataclass, so that ``import prcore``
    does not import pydantic (the JSON report still serialises it through
    pydantic, see :mod:`prcore.report`).
    """

    iou_type: IouType = "bbox"
    img_ids: tuple[int, ...] | None = None
    cat_ids: tuple[int, ...] | None = None
    iou_thrs: tuple[float, ...] | None = None
    rec_thrs: tuple[float, ...] | None = None
    max_dets: tuple[int, ...] | None = None
    area_rng: tuple[tuple[float, float], ...] | None = None
    area_rng_lbl: tuple[str, ...] | None = None
    use_cats: bool = True
    kpt_oks_sigmas: tuple[float, ...] | tuple[tuple[int, tuple[float, ...]], ...] | None = None

    def __post_init__(self) -> None:
        if self.iou_type not in DEFAULTS:
            raise PrcoreInputError(
                f"Params.iou_type must be one of {', '.join(DEFAULTS)}, got {self.iou_type!r}"
            )
        d = DEFAULTS[self.iou_type]
        fill: dict = {}
        for name in ("img_ids", "cat_ids"):
            v = getattr(self, name)
            if v is not None:
                fill[name] = tuple(sorted(set(_ints(name, v))))
        for name, default in (("iou_thrs", _linspace_iou), ("rec_thrs", _linspace_rec)):
            v = getattr(self, name)
            if v is None:
                fill[name] = default()
                continue
            v = _floats(name, v)
            if not v or any(not (0.0 <= x <= 1.0) for x in v):
                raise PrcoreInputError(
                    f"Params.{name}: thresholds must be a non-empty list of numbers in [0, 1]"
                )
            fill[name] = v
        if self.max_dets is None:
            fill["max_dets"] = d["max_dets"]
        else:
            v = _ints("max_dets", self.max_dets)
            if not v or any(m < 1 for m in v):
                raise PrcoreInputError("Params.max_dets must be positive integers")
            fill["max_dets"] = tuple(sorted(v))
        if self.area_rng is None:
            area_rng = d["area_rng"]
        else:
            try:
                area_rng = tuple((float(lo), float(hi)) for lo, hi in self.area_rng)
            except (TypeError, ValueError, OverflowError):
                raise PrcoreInputError(
                    f"Params.area_rng must be a list of [min, max] pairs, got {self.area_rng!r}"
                ) from None
        fill["area_rng"] = area_rng
        if self.area_rng_lbl is None:
            # pycocotools keeps its default labels when only areaRng changes, and
            # summarize() finds a label's range by position: the defaults name the
            # first ranges, area<i> the ones beyond them.
            labels = default_area_labels(self.iou_type, len(area_rng))
        else:
            labels = tuple(str(x) for x in self.area_rng_lbl)
        if len(area_rng) != len(labels):
            raise PrcoreInputError("Params.area_rng and area_rng_lbl must have the same length")
        fill["area_rng_lbl"] = labels
        if self.use_cats not in (True, False):  # also 0/1, as pycocotools' useCats
            raise PrcoreInputError(f"Params.use_cats must be true or false, got {self.use_cats!r}")
        fill["use_cats"] = bool(self.use_cats)
        if self.kpt_oks_sigmas is not None or self.iou_type == "keypoints":
            if self.iou_type != "keypoints":
                raise PrcoreInputError(
                    f"Params.kpt_oks_sigmas apply to iou_type 'keypoints', not {self.iou_type!r}"
                )
            fill["kpt_oks_sigmas"] = _sigmas(self.kpt_oks_sigmas)
        for k, v in fill.items():
            object.__setattr__(self, k, v)

    def with_ids(self, img_ids, cat_ids) -> Params:
        """A copy with the image and category ids filled in."""
        return dataclasses.replace(self, img_ids=tuple(img_ids), cat_ids=tuple(cat_ids))

    def replace(self, **changes) -> Params:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # Arrays for the kernels.
    def iou_thrs_array(self) -> np.ndarray:
        return np.asarray(self.iou_thrs, dtype=np.float64)

    def rec_thrs_array(self) -> np.ndarray:
        return np.asarray(self.rec_thrs, dtype=np.float64)

    def area_rng_array(self) -> np.ndarray:
        return np.asarray(self.area_rng, dtype=np.float64).reshape(-1, 2)

    def max_dets_array(self) -> np.ndarray:
        return np.asarray(self.max_dets, dtype=np.int64)

    def kpt_oks_sigmas_array(self) -> np.ndarray:
        """The sigmas of every category as an array (the one-list form only)."""
        if self.kpt_oks_sigmas and isinstance(self.kpt_oks_sigmas[0], tuple):
            raise PrcoreInputError("Params.kpt_oks_sigmas are per category; use sigmas_for(cat_id)")
        return np.asarray(self.kpt_oks_sigmas or (), dtype=np.float64)

    def sigmas_for(self, cat_id: int) -> tuple[float, ...]:
        """The OKS sigmas of category ``cat_id`` (keypoints only)."""
        sigmas = self.kpt_oks_sigmas or ()
        if sigmas and isinstance(sigmas[0], tuple):
            return dict(sigmas).get(int(cat_id), COCO_PERSON_SIGMAS)
        return sigmas


def _sigmas(value) -> tuple:
    """``kpt_oks_sigmas`` checked: a tuple of positive floats, or of ``(cat_id, floats)`` pairs."""
    if value is None:
        return COCO_PERSON_SIGMAS
    items = value.items() if isinstance(value, Mapping) else None
    if items is None and not isinstance(value, (str, bytes)) and hasattr(value, "__iter__"):
        value = list(value)
        if value and all(
            isinstance(v, (tuple, list)) and len(v) == 2 and isinstance(v[1], (tuple, list))
            for v in value
        ):
            items = value  # the stored per-category form, read back
    if items is None:
        return _positive_sigmas("kpt_oks_sigmas", value)
    per_cat: dict[int, tuple[float, ...]] = {}
    for cat, sigmas in items:
        (cat,) = _ints("kpt_oks_sigmas", [cat])
        if cat in per_cat:
            raise PrcoreInputError(f"Params.kpt_oks_sigmas: category {cat} is given twice")
        per_cat[cat] = _positive_sigmas(f"kpt_oks_sigmas[{cat}]", sigmas)
    if not per_cat:
        raise PrcoreInputError("Params.kpt_oks_sigmas must not be empty")
    return tuple(sorted(per_cat.items()))


def _positive_sigmas(name: str, values) -> tuple[float, ...]:
    sigmas = _floats(name, values)
    if not sigmas or any(x <= 0 for x in sigmas):
        raise PrcoreInputError(f"Params.{name} must be positive numbers, got {list(values)!r}")
    return sigmas
