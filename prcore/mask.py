"""Drop-in for ``pycocotools.mask``: ``encode``, ``decode``, ``area``, ``toBbox``,
``iou``, ``merge`` and ``frPyObjects``, with its argument shapes, dtypes and values.

Thin: it reads pycocotools' objects into the columns of
:mod:`prcore._kernels.rle` (all of a call's masks in one array, one kernel call
for all of them) and builds pycocotools' objects from the result. The numbers
are ``common/maskApi.c``'s, bit for bit.

Where pycocotools crashes, hangs, reads uninitialised memory or returns a
corrupt mask, this module raises :class:`~prcore.errors.PrcoreInputError` (a
``ValueError``) naming the record and the field instead: counts that do not
sum to ``h * w`` (also strings pycocotools wrote but cannot read back: a
count falling by 2**29 or more), strings that do not decode, masks of
different sizes in one ``decode`` or ``merge``, a merge of three or more
masks with zero-length runs on which pycocotools never returns, polygons of
fewer than 3 points or with an odd number of coordinates, polygons or boxes
on an empty image, RLE given where the other form is needed, an empty
``decode``, masks of 2**32 pixels or more. It is more lenient where
pycocotools refuses the types but not the data: masks of any memory order and
``bool`` masks (``encode``), box arrays of any real dtype, a list of boxes and
a single box or polygon as a flat list (``frPyObjects``; pycocotools'
``frPyObjects`` fails on these with a ``TypeError`` although its code means
to take them), and an empty list (``frPyObjects``).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from prcore._kernels import rle as _kernels
from prcore._kernels.similarity import iou_boxes
from prcore.errors import PrcoreInputError

RLE = dict  # {"size": [h, w], "counts": bytes}

_AREA_LIMIT = 1 << 32  # maskApi.c's counts are 32-bit ``uint``
_COORD_LIMIT = 1e8  # 5 * coordinate (rleFrPoly's upsampling) must stay inside C's ``int``


class _Masks(NamedTuple):
    """Masks as columns: mask ``i`` is ``counts[offsets[i]:offsets[i + 1]]``, ``h[i] x w[i]``."""

    counts: np.ndarray  # uint32
    offsets: np.ndarray  # int64, n + 1
    h: np.ndarray  # int64
    w: np.ndarray  # int64
    area: np.ndarray  # int64: maskApi.c's rleArea
    bbox: np.ndarray  # float64 [n, 4]: maskApi.c's rleToBbox

    def __len__(self) -> int:
        return self.h.shape[0]


# ---------------------------------------------------------------- reading


def _size(value: Any, what: str, index: int | None = None) -> int:
    """A non-negative integer (pycocotools takes sizes as C ``unsigned long``)."""
    try:
        size = operator.index(value)
    except TypeError:
        raise PrcoreInputError(
            f"expected a non-negative integer, got {value!r}", index=index, field=what
        ) from None
    if size < 0:
        raise PrcoreInputError(
            f"expected a non-negative integer, got {size}", index=index, field=what
        )
    return size


def _image_size(h: Any, w: Any, index: int | None = None, field: str = "size") -> tuple[int, int]:
    h = _size(h, f"{field}[0]" if field == "size" else "h", index)
    w = _size(w, f"{field}[1]" if field == "size" else "w", index)
    if h * w >= _AREA_LIMIT:
        raise PrcoreInputError(
            f"masks of {h} x {w} = {h * w} pixels are not supported (maskApi.c counts are "
            f"32-bit; at most {_AREA_LIMIT - 1} pixels)",
            index=index,
            field=field,
        )
    return h, w


def _rle_size(obj: Any, index: int) -> tuple[int, int]:
    if not isinstance(obj, dict):
        raise PrcoreInputError(
            f"expected an RLE dict with 'size' and 'counts', got {type(obj).__name__}", index=index
        )
    for key in ("size", "counts"):
        if key not in obj:
            raise PrcoreInputError(
                "is missing (an RLE dict has 'size' and 'counts')", index=index, field=key
            )
    size = obj["size"]
    if (
        isinstance(size, (str, bytes))
        or not isinstance(size, (Sequence, np.ndarray))
        or len(size) != 2
    ):
        raise PrcoreInputError(f"expected [height, width], got {size!r}", index=index, field="size")
    return _image_size(size[0], size[1], index)


def _read_rles(objs: list, check: bool = True) -> _Masks:
    """Compressed RLE dicts (``counts`` a ``bytes`` or ``str``) as columns; one kernel call.

    ``check=False`` returns what strings of the alphabet decode to, whatever their sums.
    """
    n = len(objs)
    h = np.empty(n, np.int64)
    w = np.empty(n, np.int64)
    strings = []
    for i, obj in enumerate(objs):
        h[i], w[i] = _rle_size(obj, i)
        counts = obj["counts"]
        if isinstance(counts, str):
            counts = counts.encode()  # as pycocotools' str.encode
        elif isinstance(counts, (bytearray, memoryview)):
            counts = bytes(counts)
        elif not isinstance(counts, bytes):
            hint = (
                " (uncompressed RLE: convert it with frPyObjects first)"
                if isinstance(counts, list)
                else ""
            )
            raise PrcoreInputError(
                f"expected a compressed RLE string (bytes or str), got {type(counts).__name__}{hint}",
                index=i,
                field="counts",
            )
        strings.append(counts)
    lengths = np.fromiter(map(len, strings), np.int64, n)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    buf = np.frombuffer(b"".join(strings), np.uint8)
    counts = np.empty(buf.shape[0], np.uint32)
    offsets = np.empty(n + 1, np.int64)
    area = np.empty(n, np.int64)
    bbox = np.empty((n, 4), np.float64)
    bad = _kernels.rle_from_strings(buf, starts, ends, h, w, False, counts, offsets, area, bbox)
    if bad >= 0 and check:
        raise _string_error(strings[bad], bad, int(h[bad]), int(w[bad]))
    return _Masks(counts[: offsets[n]], offsets, h, w, area, bbox)


def _string_error(s: bytes, index: int, h: int, w: int) -> PrcoreInputError:
    """Why ``s`` does not decode (the kernel said which string; this says why)."""
    for p, byte in enumerate(s):
        if not 48 <= byte <= 111:
            return PrcoreInputError(
                f"undecodable RLE string: byte {bytes([byte])!r} at position {p} is not one of "
                f"the characters '0' to 'o'",
                index=index,
                field="counts",
            )
    if s and (s[-1] - 48) & 0x20:
        return PrcoreInputError(
            "undecodable RLE string: it ends inside a value", index=index, field="counts"
        )
    masks = _read_rles([{"size": [1, 1], "counts": s}], check=False)
    return _sum_error(int(masks.counts.sum(dtype=np.int64)), h, w, index)


def _sum_error(total: int, h: int, w: int, index: int) -> PrcoreInputError:
    return PrcoreInputError(
        f"counts sum to {total}, not to height x width = {h} x {w} = {h * w}",
        index=index,
        field="counts",
    )


def _same_size(masks: _Masks, what: str) -> tuple[int, int]:
    h, w = int(masks.h[0]), int(masks.w[0])
    odd = np.flatnonzero((masks.h != h) | (masks.w != w))
    if odd.size:
        i = int(odd[0])
        raise PrcoreInputError(
            f"{what} needs masks of one size: [{int(masks.h[i])}, {int(masks.w[i])}] here, "
            f"[{h}, {w}] in record 0",
            index=i,
            field="size",
        )
    return h, w


# ---------------------------------------------------------------- writing


def _to_dicts(counts: np.ndarray, offsets: np.ndarray, h, w) -> list[RLE]:
    """Columns as pycocotools' compressed RLE dicts (maskApi.c ``rleToString``); one kernel call."""
    n = offsets.shape[0] - 1
    buf = np.empty(7 * counts.shape[0], np.uint8)
    str_offsets = np.empty(n + 1, np.int64)
    total = _kernels.rle_to_strings(counts, offsets, buf, str_offsets)
    raw = buf[:total].tobytes()
    bounds = str_offsets.tolist()
    hs = [int(x) for x in np.broadcast_to(h, n)]
    ws = [int(x) for x in np.broadcast_to(w, n)]
    return [{"size": [hs[i], ws[i]], "counts": raw[bounds[i] : bounds[i + 1]]} for i in range(n)]


# ---------------------------------------------------------------- the API


def encode(bimask: np.ndarray) -> RLE | list[RLE]:
    """Run-length encode a binary mask ``[h, w]`` (one RLE) or ``[h, w, n]`` (a list).

    Like pycocotools, every change of byte value starts a new run, so masks
    should hold 0 and 1 only. Any memory order; ``uint8`` or ``bool``.
    """
    if not isinstance(bimask, np.ndarray):
        raise PrcoreInputError(
            f"expected a numpy array, got {type(bimask).__name__}", field="bimask"
        )
    if bimask.dtype == np.bool_:
        bimask = bimask.view(np.uint8)
    if bimask.dtype != np.uint8:
        raise PrcoreInputError(
            f"expected a uint8 (or bool) mask, got dtype {bimask.dtype}", field="bimask"
        )
    if bimask.ndim == 2:
        return encode(bimask[:, :, None])[0]
    if bimask.ndim != 3:
        raise PrcoreInputError(
            f"expected a [h, w] or [h, w, n] mask, got {bimask.ndim} dimensions", field="bimask"
        )
    h, w, n = bimask.shape
    _image_size(h, w, field="bimask")
    flat = np.ravel(bimask, order="F")  # the masks one after the other, column-major
    offsets = np.empty(n + 1, np.int64)
    _kernels.rle_encode_lengths(flat, h * w, offsets)
    counts = np.empty(offsets[n], np.uint32)
    _kernels.rle_encode(flat, h * w, offsets, counts)
    return _to_dicts(counts, offsets, h, w)


def decode(rleObjs: RLE | list[RLE]) -> np.ndarray:
    """The binary mask(s): ``uint8 [h, w, n]`` for a list, ``[h, w]`` for one RLE (Fortran order)."""
    if not isinstance(rleObjs, list):
        return decode([rleObjs])[:, :, 0]
    masks = _read_rles(rleObjs)
    if len(masks) == 0:
        raise PrcoreInputError("decode needs at least one RLE (pycocotools reads past the list)")
    h, w = _same_size(masks, "decode")
    out = np.empty(h * w * len(masks), np.uint8)
    _kernels.rle_decode(masks.counts, masks.offsets, h * w, out)
    return out.reshape((h, w, len(masks)), order="F")


def area(rleObjs: RLE | list[RLE]) -> np.ndarray | np.uint32:
    """Foreground pixels: ``uint32 [n]`` for a list, one ``np.uint32`` for one RLE."""
    if not isinstance(rleObjs, list):
        return area([rleObjs])[0]
    return _read_rles(rleObjs).area.astype(np.uint32)


def toBbox(rleObjs: RLE | list[RLE]) -> np.ndarray:
    """Bounding boxes ``[x, y, w, h]``: ``float64 [n, 4]`` for a list, ``[4]`` for one RLE."""
    if not isinstance(rleObjs, list):
        return toBbox([rleObjs])[0]
    return _read_rles(rleObjs).bbox


def merge(rleObjs: list[RLE], intersect: int = 0) -> RLE:
    """The union (``intersect=0``) or intersection of masks of one size, as one RLE."""
    if not isinstance(rleObjs, list):
        raise PrcoreInputError(f"expected a list of RLE dicts, got {type(rleObjs).__name__}")
    try:
        intersect = operator.index(intersect) != 0
    except TypeError:
        raise PrcoreInputError(f"expected 0 or 1, got {intersect!r}", field="intersect") from None
    masks = _read_rles(rleObjs)
    n = len(masks)
    if n == 0:
        return {"size": [0, 0], "counts": b""}
    h, w = _same_size(masks, "merge")
    out_counts = np.empty(masks.counts.shape[0], np.uint32)
    out_offsets = np.empty(2, np.int64)
    scratch = np.empty(2 * masks.counts.shape[0], np.int64)
    group = np.array([0, n], np.int64)
    if _kernels.rle_merge(masks.counts, masks.offsets, group, intersect, scratch, out_counts, out_offsets) < 0:  # fmt: skip
        raise PrcoreInputError(
            "cannot merge these masks: their zero-length runs end pycocotools' walk early, "
            "and its merge then never returns",
            field="counts",
        )
    return _to_dicts(out_counts[: out_offsets[1]], out_offsets, h, w)[0]


def iou(dt: Any, gt: Any, iscrowd: Any) -> np.ndarray | list:
    """IoU ``float64 [len(dt), len(gt)]`` (Fortran order) of masks or of boxes.

    ``dt`` and ``gt`` are both lists of RLE dicts, or both boxes (``[n, 4]``
    arrays or lists of 4-lists). For a ground truth with ``iscrowd`` the
    union is the detection's area. Masks whose boxes overlap but whose sizes
    differ give -1. ``[]`` when either side is empty, as in pycocotools.
    """
    try:
        crowd = np.array(iscrowd, dtype=np.uint8).astype(np.bool_)
        n_crowd = len(iscrowd)
    except (TypeError, ValueError, OverflowError) as exc:
        raise PrcoreInputError(f"expected a list of 0/1 flags ({exc})", field="iscrowd") from None
    dt = _iou_operand(dt, "dt")
    gt = _iou_operand(gt, "gt")
    m, n = len(dt), len(gt)
    if n_crowd != n:
        raise PrcoreInputError(f"has {n_crowd} flags for {n} ground truths", field="iscrowd")
    if m == 0 or n == 0:
        return []
    if type(dt) is not type(gt):
        raise PrcoreInputError("dt and gt must both be masks (RLE dicts) or both boxes")
    crowd = np.ascontiguousarray(crowd.reshape(-1))
    if isinstance(dt, np.ndarray):
        out = np.empty((m, n), np.float64)
        iou_boxes(dt, gt, crowd, out)
        return np.asfortranarray(out)
    out = np.empty(m * n, np.float64)
    _kernels.rle_iou(
        dt.counts, dt.offsets, dt.bbox, dt.h, dt.w, gt.counts, gt.offsets, gt.bbox, gt.h, gt.w,
        crowd, out,
    )  # fmt: skip
    return out.reshape((m, n), order="F")


def _iou_operand(objs: Any, field: str) -> np.ndarray | _Masks | list:
    """pycocotools' ``iou._preproc``: boxes as ``float64 [n, 4]``, RLE dicts as columns."""
    if isinstance(objs, np.ndarray):
        if objs.size == 0 and objs.ndim == 1:
            return []
        return _boxes(objs, field)
    if not isinstance(objs, list):
        raise PrcoreInputError(
            f"expected a list of RLE dicts or boxes, or an [n, 4] array, got {type(objs).__name__}",
            field=field,
        )
    if not objs:
        return []
    if all(isinstance(o, dict) for o in objs):
        return _read_rles(objs)
    if all(isinstance(o, (list, np.ndarray)) and len(o) == 4 for o in objs):
        return _boxes(objs, field)
    raise PrcoreInputError("expected a list of boxes (4 numbers each) or of RLE dicts", field=field)


def _boxes(objs: Any, field: str) -> np.ndarray:
    try:
        boxes = np.array(objs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PrcoreInputError(f"expected [n, 4] boxes of numbers ({exc})", field=field) from None
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise PrcoreInputError(f"expected [n, 4] boxes, got shape {boxes.shape}", field=field)
    return np.ascontiguousarray(boxes)


def frPyObjects(pyobj: Any, h: int, w: int) -> RLE | list[RLE]:
    """Polygons, boxes or uncompressed RLE as compressed RLE.

    - a list of polygons (``[x0, y0, x1, y1, ...]``, 3 points or more), a list
      of ``[x, y, w, h]`` boxes or an ``[n, 4]`` array: a list of RLEs of size
      ``h x w``;
    - a list of uncompressed RLE dicts (``counts`` a list): a list of RLEs of
      their own sizes;
    - one polygon, one box or one uncompressed RLE dict: one RLE.
    """
    h, w = _image_size(h, w, field="h, w")
    if isinstance(pyobj, np.ndarray):
        return _from_boxes(_boxes(pyobj, "pyobj"), h, w)
    if isinstance(pyobj, dict):
        return _from_uncompressed([pyobj])[0]
    if not isinstance(pyobj, list):
        raise PrcoreInputError(
            f"expected polygons, boxes or uncompressed RLE, got {type(pyobj).__name__}",
            field="pyobj",
        )
    if not pyobj:
        return []
    first = pyobj[0]
    if isinstance(first, dict):
        return _from_uncompressed(pyobj)
    if isinstance(first, (list, tuple, np.ndarray)):
        if len(first) == 4:
            return _from_boxes(_boxes(pyobj, "pyobj"), h, w)
        return _from_polygons(pyobj, h, w)
    if len(pyobj) == 4:
        return _from_boxes(_boxes([pyobj], "pyobj"), h, w)[0]
    return _from_polygons([pyobj], h, w)[0]


def _rasterised(xy: np.ndarray, point_offsets: np.ndarray, h: int, w: int) -> list[RLE]:
    """Closed polygons (maskApi.c ``rleFrPoly``) as RLE dicts; one kernel call."""
    n = point_offsets.shape[0] - 1
    if h == 0 or w == 0:
        raise PrcoreInputError(
            f"cannot rasterise on a {h} x {w} image (pycocotools returns a corrupt RLE)",
            field="h, w",
        )
    hs = np.full(n, h, np.int64)
    ws = np.full(n, w, np.int64)
    bounds = np.empty(n + 1, np.int64)
    total = _kernels.polys_rle_bounds(xy, point_offsets, ws, bounds)
    scratch = np.empty(bounds[n], np.int64)
    counts = np.empty(total, np.uint32)
    offsets = np.empty(n + 1, np.int64)
    _kernels.polys_to_rle(xy, point_offsets, hs, ws, scratch, counts, offsets)
    return _to_dicts(counts[: offsets[n]], offsets, h, w)


def _checked_coordinates(xy: np.ndarray, field: str, index: int | None = None) -> None:
    bad = ~(np.abs(xy) <= _COORD_LIMIT)  # also NaN
    if bad.any():
        raise PrcoreInputError(
            f"coordinate {xy[np.flatnonzero(bad)[0]]!r} is not a finite number within "
            f"+-{_COORD_LIMIT:g}",
            index=index,
            field=field,
        )


def _from_boxes(boxes: np.ndarray, h: int, w: int) -> list[RLE]:
    """maskApi.c ``rleFrBbox``: each box as the polygon (xs,ys) (xs,ye) (xe,ye) (xe,ys)."""
    xs, ys = boxes[:, 0], boxes[:, 1]
    xe, ye = xs + boxes[:, 2], ys + boxes[:, 3]
    xy = np.ascontiguousarray(np.stack([xs, ys, xs, ye, xe, ye, xe, ys], axis=1).reshape(-1))
    _checked_coordinates(xy, "pyobj")
    point_offsets = np.arange(0, 4 * boxes.shape[0] + 1, 4, dtype=np.int64)
    return _rasterised(xy, point_offsets, h, w)


def _from_polygons(polygons: list, h: int, w: int) -> list[RLE]:
    parts = []
    for i, p in enumerate(polygons):
        try:
            xy = np.asarray(p, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise PrcoreInputError(f"expected a polygon [x0, y0, x1, y1, ...] ({exc})", index=i, field="polygon") from None  # fmt: skip
        if xy.ndim != 1:
            raise PrcoreInputError(
                f"expected a flat polygon [x0, y0, x1, y1, ...], got shape {xy.shape}", index=i, field="polygon"
            )  # fmt: skip
        if xy.shape[0] % 2:
            raise PrcoreInputError(
                f"has an odd number of coordinates ({xy.shape[0]}); expected x, y pairs",
                index=i,
                field="polygon",
            )
        if xy.shape[0] < 6:
            raise PrcoreInputError(
                f"has {xy.shape[0] // 2} points; a polygon needs at least 3",
                index=i,
                field="polygon",
            )
        _checked_coordinates(xy, "polygon", i)
        parts.append(xy)
    lengths = np.fromiter((p.shape[0] // 2 for p in parts), np.int64, len(parts))
    point_offsets = np.zeros(len(parts) + 1, np.int64)
    np.cumsum(lengths, out=point_offsets[1:])
    return _rasterised(np.concatenate(parts), point_offsets, h, w)


def _from_uncompressed(objs: list) -> list[RLE]:
    """Uncompressed RLE dicts (``counts`` a list, each its own ``size``) as compressed RLE."""
    n = len(objs)
    h = np.empty(n, np.int64)
    w = np.empty(n, np.int64)
    parts = []
    for i, obj in enumerate(objs):
        h[i], w[i] = _rle_size(obj, i)
        parts.append(_uncompressed_counts(obj["counts"], i))
    lengths = np.fromiter((p.shape[0] for p in parts), np.int64, n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    counts = np.concatenate(parts) if parts else np.zeros(0, np.uint32)
    bad = _kernels.rle_check_area(counts, offsets, h * w)
    if bad >= 0:
        total = int(counts[offsets[bad] : offsets[bad + 1]].sum(dtype=np.int64))
        raise _sum_error(total, int(h[bad]), int(w[bad]), bad)
    return _to_dicts(counts, offsets, h, w)


def _uncompressed_counts(counts: Any, index: int) -> np.ndarray:
    if not isinstance(counts, (list, tuple, np.ndarray)):
        hint = " (this RLE is compressed already)" if isinstance(counts, (bytes, str)) else ""
        raise PrcoreInputError(
            f"expected a list of run lengths, got {type(counts).__name__}{hint}", index=index, field="counts"
        )  # fmt: skip
    try:
        values = np.asarray(counts)
    except (TypeError, ValueError) as exc:
        raise PrcoreInputError(f"expected a list of run lengths ({exc})", index=index, field="counts") from None  # fmt: skip
    if values.size == 0:
        return np.zeros(0, np.uint32)
    ok = values.ndim == 1 and values.dtype.kind in "iuf"
    if ok and values.dtype.kind == "f":
        ok = bool(np.all(np.isfinite(values)) and np.all(values == np.floor(values)))
    if ok:
        ok = bool(values.min() >= 0 and values.max() < _AREA_LIMIT)
    if not ok:
        raise PrcoreInputError(
            "expected a flat list of run lengths: whole numbers from 0 to 2**32 - 1",
            index=index,
            field="counts",
        )
    return values.astype(np.uint32)
