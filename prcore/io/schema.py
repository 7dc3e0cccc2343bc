"""What valid COCO input is, stated once.

Each rule is written here once, as a check on a column of values: the
``*_column`` builders say which types a field may hold, and the ``*_error``
checks what its values must satisfy. Every way into prcore applies these same
functions:

* :mod:`prcore.io.load`'s fast paths gather a field from the records into a
  column with the builders, or take the byte scanners' columns (the scanners
  read syntax only), and check the columns with :func:`detection_error` and
  :func:`annotation_error`;
* whenever that fails, the pydantic models below, whose validators call the
  same functions on one record's values, find the first bad record and field
  (:func:`first_error`), and that is the error the user sees.

Only the models need pydantic, which takes about 0.2 s to import; they are
built on first use (:func:`models`), so that valid input never imports it.
"""

from __future__ import annotations

import math
from functools import cache
from itertools import chain
from typing import Any

import numpy as np

from prcore.errors import PrcoreInputError

# ---------------------------------------------------------------- types

_INTEGER_TYPES = (int, np.integer)
_NUMBER_TYPES = (int, float, np.integer, np.floating)


def _all_types(values: list, allowed: tuple[type, ...]) -> bool:
    # bool is an int to Python, but never a number or an id here: True is not 1.
    return all(issubclass(t, allowed) and t is not bool for t in set(map(type, values)))


def integer_column(values: list) -> np.ndarray | None:
    """Ids as int64 (N,), or None unless each is an integer within int64.

    Python or numpy integers; never bool, float or str (``"1"`` and ``1.0``
    are not ids).
    """
    if not _all_types(values, _INTEGER_TYPES):
        return None
    try:
        return np.array(values, dtype=np.int64).reshape(len(values))
    except OverflowError:
        return None


def number_column(values: list) -> np.ndarray | None:
    """Numbers as float64 (N,), or None unless each is a Python or numpy number (never bool).

    An integer beyond a double's range becomes an infinity, which the value
    checks then refuse.
    """
    if not _all_types(values, _NUMBER_TYPES):
        return None
    try:
        return np.array(values, dtype=np.float64).reshape(len(values))
    except OverflowError:
        return np.array([_float(v) for v in values], dtype=np.float64).reshape(len(values))


def _float(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def box_column(values: list) -> np.ndarray | None:
    """Boxes as float64 (N, 4), or None unless each is a list (or tuple) of 4 numbers
    (or a numpy array of them: ``loadRes`` gives mask results ``toBbox``'s)."""
    if not values:
        return np.zeros((0, 4), np.float64)
    if not _all_types(values, (list, tuple, np.ndarray)) or set(map(len, values)) != {4}:
        return None
    flat = number_column(list(chain.from_iterable(values)))
    return None if flat is None else flat.reshape(len(values), 4)


def flag_column(values: list) -> np.ndarray | None:
    """``iscrowd`` values as int64 (N,), or None unless each is a Python int or bool
    (``true`` is 1; ``1.0`` and numpy integers are not flags)."""
    if not set(map(type, values)) <= {int, bool}:
        return None
    try:
        return np.array(values, dtype=np.int64).reshape(len(values))
    except OverflowError:
        return None


def keypoint_column(values: list) -> tuple[np.ndarray, np.ndarray] | None:
    """Keypoint lists as ``(values, offsets)``, or None unless each is a list of numbers.

    ``values`` is float64, every list's numbers one after the other;
    ``offsets`` is int64 (N + 1,): list ``i`` is ``values[offsets[i]:offsets[i + 1]]``.
    """
    if not _all_types(values, (list, tuple)):
        return None
    offsets = np.zeros(len(values) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, values), np.int64, len(values)), out=offsets[1:])
    flat = number_column(list(chain.from_iterable(values)))
    return None if flat is None else (flat, offsets)


def text_column(values: list) -> bool:
    """Whether each value is a string (category names)."""
    return all(issubclass(t, str) for t in set(map(type, values)))


# ---------------------------------------------------------------- values


def box_error(bbox: np.ndarray) -> str | None:
    """What is wrong with the first bad box of an (N, 4) column, or None.

    Every value of ``[x, y, width, height]`` is finite, and the width and
    height are ``>= 0``.
    """
    finite = np.isfinite(bbox)
    if finite.all() and (bbox[:, 2:] >= 0).all():
        return None
    row = int(np.argmax(~finite.all(axis=1) | (bbox[:, 2] < 0) | (bbox[:, 3] < 0)))
    for x in bbox[row].tolist():
        if not math.isfinite(x):
            return f"bbox values must be finite, got {x!r}"
    w, h = bbox[row, 2:].tolist()
    return f"width and height must be >= 0, got {w!r}, {h!r}"


def score_error(score: np.ndarray) -> str | None:
    """What is wrong with the first bad score of an (N,) column, or None: scores are finite."""
    finite = np.isfinite(score)
    if finite.all():
        return None
    return f"score must be finite, got {score[np.argmin(finite)].item()!r}"


def area_error(area: np.ndarray) -> str | None:
    """What is wrong with the first bad area of an (N,) column, or None: areas are finite
    and ``>= 0``."""
    bad = ~(np.isfinite(area) & (area >= 0))
    if not bad.any():
        return None
    value = area[np.argmax(bad)].item()
    if not math.isfinite(value):
        return f"area must be finite, got {value!r}"
    return f"area must be >= 0, got {value!r}"


def crowd_error(iscrowd: np.ndarray) -> str | None:
    """What is wrong with the first bad ``iscrowd`` of an (N,) column, or None: 0 or 1."""
    bad = (iscrowd != 0) & (iscrowd != 1)
    if not bad.any():
        return None
    return f"expected 0 or 1, got {iscrowd[np.argmax(bad)].item()!r}"


def keypoints_error(values: np.ndarray, offsets: np.ndarray, empty_ok: bool) -> str | None:
    """What is wrong with the first bad keypoint list of a column, or None.

    A list is ``[x1, y1, v1, x2, y2, v2, ...]``: finite numbers, a multiple of
    3 of them, at least one keypoint unless ``empty_ok`` (a ground truth may
    list none; a result's extent needs one).
    """
    lengths = np.diff(offsets)
    bad_len = (lengths % 3 != 0) | (lengths == 0 if not empty_ok else False)
    if bad_len.any():
        n = int(lengths[np.argmax(bad_len)])
        return (
            f"keypoints must be [x1, y1, v1, x2, y2, v2, ...]: a non-empty multiple of 3 "
            f"numbers, got {n}"
        )
    finite = np.isfinite(values)
    if finite.all():
        return None
    return f"keypoint values must be finite, got {values[np.argmin(finite)].item()!r}"


def count_error(count: np.ndarray) -> str | None:
    """What is wrong with the first bad ``num_keypoints`` of an (N,) column, or None:
    finite and ``>= 0``."""
    bad = ~(np.isfinite(count) & (count >= 0))
    if not bad.any():
        return None
    return f"num_keypoints must be a number >= 0, got {count[np.argmax(bad)].item()!r}"


# ---------------------------------------------------------------- masks

# maskApi.c holds run lengths as 32-bit ``uint``: an image has fewer pixels.
MASK_PIXEL_LIMIT = 1 << 32
# rleFrPoly upsamples coordinates by 5 into C ``int``s.
POLYGON_COORD_LIMIT = 1e8


def image_size_error(height: np.ndarray, width: np.ndarray) -> tuple[int, str] | None:
    """The first image whose ``height``/``width`` cannot hold masks, and why, or None:
    whole numbers >= 1 with fewer than 2**32 pixels."""
    bad = (height < 1) | (width < 1) | (height * width >= MASK_PIXEL_LIMIT)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    h, w = int(height[i]), int(width[i])
    if h < 1 or w < 1:
        return i, f"height and width must be >= 1, got {h} x {w}"
    return i, f"{h} x {w} pixels are more than masks' 32-bit run lengths hold (< 2**32)"


def polygons_error(xy: np.ndarray, point_counts: np.ndarray) -> tuple[int, str] | None:
    """The first bad polygon of a column and why, or None.

    ``xy`` holds every polygon's coordinates ``x0, y0, x1, y1, ...`` one after
    the other, ``point_counts`` how many coordinates each has: an even number,
    3 points at least, each a finite number within +-1e8 (maskApi.c upsamples
    them by 5 into C ``int``). pycocotools reads a first polygon of 2 points
    as a box and drops an odd last coordinate; both are refused here.
    """
    odd = point_counts % 2 == 1
    short = point_counts < 6
    bad_value = ~(np.abs(xy) <= POLYGON_COORD_LIMIT)  # NaN too
    if not (odd.any() or short.any() or bad_value.any()):
        return None
    ends = np.cumsum(point_counts)
    value_owner = np.searchsorted(ends, np.flatnonzero(bad_value), side="right")
    first_value = int(value_owner[0]) if len(value_owner) else len(point_counts)
    first_shape = int(np.argmax(odd | short)) if (odd | short).any() else len(point_counts)
    i = min(first_value, first_shape)
    n = int(point_counts[i])
    if i == first_shape and odd[i]:
        return i, f"a polygon has an odd number of coordinates ({n}); expected x, y pairs"
    if i == first_shape:
        return i, f"a polygon has {n // 2} point(s); it needs 3 at least"
    value = xy[np.flatnonzero(bad_value)[0]].item()
    return (
        i,
        f"polygon coordinate {value!r} is not a finite number within +-{POLYGON_COORD_LIMIT:g}",
    )


def rle_shape_error(size: Any) -> str | None:
    """What is wrong with an RLE's ``size`` by itself, or None: ``[height, width]``,
    integers >= 0 with fewer than 2**32 pixels."""
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        return f"'size' must be [height, width], got {size!r}"
    column = integer_column(list(size))
    if column is None or (column < 0).any() or int(column[0]) * int(column[1]) >= MASK_PIXEL_LIMIT:
        return f"'size' must be [height, width]: integers >= 0, below 2**32 pixels; got {size!r}"
    return None


def rle_size_error(size: Any, height: int, width: int) -> str | None:
    """What is wrong with an RLE's ``size`` on an image of ``height x width``, or None:
    ``[height, width]``, the image's own."""
    problem = rle_shape_error(size)
    if problem is not None:
        return problem
    if list(size) != [height, width]:
        return f"'size' is {list(size)!r}, but the image is [{height}, {width}] (height, width)"
    return None


def run_lengths_error(counts: np.ndarray, height: int, width: int) -> str | None:
    """What is wrong with an uncompressed RLE's ``counts`` (float64), or None: whole
    numbers >= 0 summing to ``height * width``."""
    whole = np.isfinite(counts) & (counts >= 0) & (counts == np.floor(counts))
    if not whole.all() or (len(counts) and counts.max() >= MASK_PIXEL_LIMIT):
        return "'counts' must be whole numbers from 0 to 2**32 - 1"
    total = int(counts.sum())
    if total != height * width:
        return (
            f"'counts' sum to {total}, not to height x width = {height} x {width} = "
            f"{height * width}"
        )
    return None


def rle_string_problem(text: bytes, total: int, height: int, width: int) -> str:
    """Why a compressed RLE string does not decode (maskApi.c ``rleFrString``'s
    alphabet is ``'0'`` to ``'o'``, six bits a character) or does not fit its
    image; ``total`` is what its runs sum to where it decodes."""
    for p, byte in enumerate(text):
        if not 48 <= byte <= 111:
            return (
                f"undecodable RLE string: {bytes([byte])!r} at position {p} is not one of "
                "the characters '0' to 'o'"
            )
    if text and (text[-1] - 48) & 0x20:
        return "undecodable RLE string: it ends inside a value"
    return (
        f"RLE 'counts' sum to {total}, not to height x width = {height} x {width} = "
        f"{height * width}"
    )


def detection_error(bbox: np.ndarray, score: np.ndarray) -> str | None:
    """The first broken value rule of a results file's columns, or None."""
    return box_error(bbox) or score_error(score)


def annotation_error(bbox: np.ndarray, area: np.ndarray, iscrowd: np.ndarray) -> str | None:
    """The first broken value rule of a ground truth's annotation columns, or None."""
    return box_error(bbox) or area_error(area) or crowd_error(iscrowd)


# ---------------------------------------------------------------- records (pydantic)

_MODELS = (
    "DetectionRecord",
    "ImageRecord",
    "CategoryRecord",
    "AnnotationRecord",
    "KeypointDetectionRecord",
    "BoxKeypointDetectionRecord",
    "MaskDetectionRecord",
    "MaskKeypointDetectionRecord",
)


def __getattr__(name: str):
    if name in _MODELS:
        return models()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def models() -> dict[str, type]:
    """The pydantic models of one record each, by name; built (and pydantic imported) once.

    ``DetectionRecord`` is one entry of a results file (``loadRes`` input);
    ``ImageRecord``, ``CategoryRecord`` and ``AnnotationRecord`` are entries of
    a ground truth's ``images``, ``categories`` and ``annotations``. Their
    validators are the column checks above, applied to one record's values.
    """
    from typing import Annotated

    from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator

    def one(check, value):
        problem = check(value)
        if problem is not None:
            raise ValueError(problem)

    def integer(v: Any) -> int:
        if integer_column([v]) is None:
            if _all_types([v], _INTEGER_TYPES):
                raise ValueError(f"expected an integer within int64, got {v!r}")
            raise ValueError(f"expected an integer, got {v!r}")
        return int(v)

    def number(v: Any) -> float:
        column = number_column([v])
        if column is None:
            raise ValueError(f"expected a number, got {v!r}")
        return column.item()

    def box_list(v: Any) -> list:
        if not isinstance(v, (list, tuple, np.ndarray)):
            raise ValueError(f"expected a list of 4 numbers [x, y, width, height], got {v!r}")
        return [number(x) for x in v]

    def optional_number(v: Any) -> float | None:
        return v if v is None else number(v)

    def keypoint_list(v: Any) -> list:
        if not isinstance(v, (list, tuple)):
            raise ValueError(f"expected a list of numbers [x1, y1, v1, ...], got {v!r}")
        return [number(x) for x in v]

    Integer = Annotated[int, BeforeValidator(integer)]
    Number = Annotated[float, BeforeValidator(number)]
    Box = Annotated[list[float], BeforeValidator(box_list)]

    class Record(BaseModel):
        # strict: "1" is not an id, true is not 1; extra keys (segmentation, ...) are allowed.
        model_config = ConfigDict(strict=True, extra="allow")

    class BoxRecord(Record):
        bbox: Box

        @field_validator("bbox")
        @classmethod
        def _box(cls, v: list[float]) -> list[float]:
            if len(v) != 4:
                raise ValueError(f"expected 4 numbers [x, y, width, height], got {len(v)}")
            one(box_error, np.array([v], np.float64))
            return v

    class ResultRecord(Record):
        image_id: Integer
        category_id: Integer
        score: Number

        @field_validator("score")
        @classmethod
        def _score(cls, v: float) -> float:
            one(score_error, np.array([v], np.float64))
            return v

    class DetectionRecord(ResultRecord, BoxRecord):
        """One entry of a COCO results file with a box (``loadRes``' box rule)."""

    def keypoints_valid(v: list[float], empty_ok: bool) -> list[float]:
        one(
            lambda a: keypoints_error(a, np.array([0, len(v)], np.int64), empty_ok),
            np.array(v, np.float64),
        )
        return v

    Keypoints = Annotated[list[float], BeforeValidator(keypoint_list)]
    OptionalBox = Annotated[
        list[float] | None, BeforeValidator(lambda v: v if v is None else box_list(v))
    ]
    OptionalKeypoints = Annotated[
        list[float] | None, BeforeValidator(lambda v: v if v is None else keypoint_list(v))
    ]

    class KeypointDetectionRecord(ResultRecord):
        """A result whose box is its keypoints' extent (``loadRes``' keypoints rule)."""

        keypoints: Keypoints

        @field_validator("keypoints")
        @classmethod
        def _keypoints(cls, v: list[float]) -> list[float]:
            return keypoints_valid(v, empty_ok=False)

    class BoxKeypointDetectionRecord(DetectionRecord, KeypointDetectionRecord):
        """A result with a box and keypoints (detectron2's keypoint results)."""

    class MaskDetectionRecord(ResultRecord):
        """A result read by ``loadRes``' mask rule: its box, if any, is kept (its mask is
        checked by the loader, which knows the image)."""

        bbox: OptionalBox = None

        @field_validator("bbox")
        @classmethod
        def _box(cls, v: list[float] | None) -> list[float] | None:
            if v is None:
                return v
            if len(v) != 4:
                raise ValueError(f"expected 4 numbers [x, y, width, height], got {len(v)}")
            one(box_error, np.array([v], np.float64))
            return v

    class MaskKeypointDetectionRecord(MaskDetectionRecord, KeypointDetectionRecord):
        """A result of the mask rule whose keypoints are evaluated."""

    class ImageRecord(Record):
        id: Integer

    class CategoryRecord(Record):
        id: Integer
        name: str = ""

    class AnnotationRecord(BoxRecord):
        """One ground-truth annotation; ``area`` falls back to w*h when absent or null."""

        id: Integer
        image_id: Integer
        category_id: Integer
        area: Annotated[float | None, BeforeValidator(optional_number)] = None
        iscrowd: int = 0
        ignore: Any = None
        keypoints: OptionalKeypoints = None
        num_keypoints: Annotated[float | None, BeforeValidator(optional_number)] = None

        @field_validator("keypoints")
        @classmethod
        def _keypoints(cls, v: list[float] | None) -> list[float] | None:
            return v if v is None else keypoints_valid(v, empty_ok=True)

        @field_validator("num_keypoints")
        @classmethod
        def _count(cls, v: float | None) -> float | None:
            if v is not None:
                one(count_error, np.array([v], np.float64))
            return v

        @field_validator("area")
        @classmethod
        def _area(cls, v: float | None) -> float | None:
            if v is not None:
                one(area_error, np.array([v], np.float64))
            return v

        @field_validator("iscrowd", mode="before")
        @classmethod
        def _crowd(cls, v: Any) -> int:
            column = flag_column([v])
            if column is None:
                raise ValueError(f"expected 0 or 1, got {v!r}")
            one(crowd_error, column)
            return int(v)

    return {
        "DetectionRecord": DetectionRecord,
        "ImageRecord": ImageRecord,
        "CategoryRecord": CategoryRecord,
        "AnnotationRecord": AnnotationRecord,
        "KeypointDetectionRecord": KeypointDetectionRecord,
        "BoxKeypointDetectionRecord": BoxKeypointDetectionRecord,
        "MaskDetectionRecord": MaskDetectionRecord,
        "MaskKeypointDetectionRecord": MaskKeypointDetectionRecord,
    }


def first_error(records: list, model: str, *, file: str, section: str | None) -> PrcoreInputError:
    """The first record that the model named ``model`` rejects, as a located error.

    Called once the columns failed; should every record pass (the columns and
    the models disagree, which is a bug), the error says so without a location.
    """
    from pydantic import ValidationError

    validator = models()[model]
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            return PrcoreInputError(
                f"expected a JSON object, got {type(rec).__name__}",
                file=file,
                section=section,
                index=i,
            )
        try:
            validator.model_validate(rec)
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
            id_name = "id" if "id" in validator.model_fields else "image_id"
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
    return PrcoreInputError("invalid records", file=file, section=section)
