"""Pydantic models of COCO ground truth and results records.

These models are the single statement of what valid input is. The loader's
columnar fast path accepts exactly what they accept; when it meets anything
else it validates record by record with these models, so that the error names
the record and the field (see :func:`first_error`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from prcore.errors import PrcoreInputError


def _finite(v: float, what: str) -> float:
    if not math.isfinite(v):
        raise ValueError(f"{what} must be finite, got {v!r}")
    return v


def _integer(v: Any) -> int:
    # Python or numpy integers; never bool, float or str ("1" is not an id).
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"expected an integer, got {v!r}")
    return int(v)


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def _box_list(v: Any) -> list:
    if not isinstance(v, (list, tuple)):
        raise ValueError(f"expected a list of 4 numbers [x, y, width, height], got {v!r}")
    return [_number(x) for x in v]


Integer = Annotated[int, BeforeValidator(_integer)]
Number = Annotated[float, BeforeValidator(_number)]
Box = Annotated[list[float], BeforeValidator(_box_list)]


class _Record(BaseModel):
    # strict: "1" is not an id, true is not 1; extra keys (segmentation, ...) are allowed.
    model_config = ConfigDict(strict=True, extra="allow")


class BBoxMixin(_Record):
    bbox: Box

    @field_validator("bbox")
    @classmethod
    def _box(cls, v: list[float]) -> list[float]:
        if len(v) != 4:
            raise ValueError(f"expected 4 numbers [x, y, width, height], got {len(v)}")
        for x in v:
            _finite(x, "bbox values")
        if v[2] < 0 or v[3] < 0:
            raise ValueError(f"width and height must be >= 0, got {v[2]!r}, {v[3]!r}")
        return v


class DetectionRecord(BBoxMixin):
    """One entry of a COCO results file (``loadRes`` input)."""

    image_id: Integer
    category_id: Integer
    score: Number

    @field_validator("score")
    @classmethod
    def _score(cls, v: float) -> float:
        return _finite(v, "score")


class ImageRecord(_Record):
    id: Integer


class CategoryRecord(_Record):
    id: Integer
    name: str = ""


class AnnotationRecord(BBoxMixin):
    """One ground-truth annotation; ``area`` falls back to w*h when absent."""

    id: Integer
    image_id: Integer
    category_id: Integer
    area: Annotated[float | None, BeforeValidator(lambda v: v if v is None else _number(v))] = None
    iscrowd: int = Field(default=0)
    ignore: Any = None

    @field_validator("area")
    @classmethod
    def _area(cls, v: float | None) -> float | None:
        if v is None:
            return v
        _finite(v, "area")
        if v < 0:
            raise ValueError(f"area must be >= 0, got {v!r}")
        return v

    @field_validator("iscrowd", mode="before")
    @classmethod
    def _crowd(cls, v: Any) -> int:
        if isinstance(v, bool):
            return int(v)
        if type(v) is not int or v not in (0, 1):
            raise ValueError(f"expected 0 or 1, got {v!r}")
        return v


def first_error(
    records: list, model: type[BaseModel], *, file: str, section: str | None
) -> PrcoreInputError | None:
    """Validate records one by one; the first failure as a located error."""
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            return PrcoreInputError(
                f"expected a JSON object, got {type(rec).__name__}",
                file=file,
                section=section,
                index=i,
            )
        try:
            model.model_validate(rec)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = [str(p) for p in err["loc"]]
            field = loc[0] if loc else None
            msg = err["msg"]
            if err["type"] == "missing":
                msg = "is missing"
            elif "input" in err and err["type"] != "value_error":
                msg = f"{msg}, got {err['input']!r}"
            msg = msg.replace("Value error, ", "")
            id_name = "id" if "id" in model.model_fields else "image_id"
            rid = rec.get(id_name)
            ok_id = isinstance(rid, (int, str)) and not isinstance(rid, bool)
            return PrcoreInputError(
                msg,
                file=file,
                section=section,
                index=i,
                record_id=rid if ok_id else None,
                field=field,
                id_name=id_name,
            )
    return None
