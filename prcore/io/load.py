"""Files or Python objects -> validated columnar arrays.

This is the only place where COCO ids become dense indices: image ids index
into the sorted image ids of the ground truth, category ids into its sorted
category ids (the order ``COCOeval.Params`` uses). Everything downstream works
on those indices.

Each input becomes columns first (the byte scanners' for a file they can read,
else the records gathered field by field), and the columns are checked with
:mod:`prcore.io.schema`'s rules, which are stated there once. Whenever a check
fails, the schema's models validate record by record and raise a located
:class:`~prcore.errors.PrcoreInputError`.
"""

from __future__ import annotations

import math
import mmap
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any

import numpy as np

from prcore.errors import PrcoreInputError, PrcoreWarning
from prcore.io import schema

# Dense indices of images, categories and records: 4 bytes halve the memory
# traffic of the grouping passes (and their share of the peak); 2**31 records
# are far beyond what fits in memory anyway.
INDEX = np.int32


@dataclass(frozen=True, eq=False)
class Keypoints:
    """The keypoint lists of N records as one column.

    Attributes
    ----------
    values : float64 (V,)
        Every list's ``[x1, y1, v1, x2, y2, v2, ...]``, one after the other.
    offsets : int64 (N + 1,)
        Record ``i``'s list is ``values[offsets[i]:offsets[i + 1]]`` (a multiple of 3).
    missing : bool (N,)
        Records without a ``keypoints`` field (their list is empty).
    """

    values: np.ndarray
    offsets: np.ndarray
    missing: np.ndarray

    def counts(self) -> np.ndarray:
        """Keypoints per record (int64 (N,))."""
        return np.diff(self.offsets) // 3

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(values, offsets)`` of records ``rows``, one after the other."""
        return take_ragged(self.values, self.offsets, rows)


def take_ragged(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray):
    """Rows ``rows`` of a ragged column (row ``i`` is ``values[offsets[i]:offsets[i + 1]]``),
    one after the other: ``(values, offsets)``, both contiguous."""
    starts = offsets[rows]
    ends = offsets[np.asarray(rows) + 1]
    out_offsets = np.zeros(len(starts) + 1, np.int64)
    np.cumsum(ends - starts, out=out_offsets[1:])
    # One slice a row: the cost is the rows plus a copy, not index arrays as long as
    # the values (a mask's runs are many).
    parts = [values[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
    out = np.concatenate(parts) if parts else values[:0].copy()
    return np.ascontiguousarray(out), out_offsets


@dataclass(frozen=True, eq=False)
class Masks:
    """Run-length encoded masks of N records, as COCO encodes them (``maskApi.c``).

    Attributes
    ----------
    counts : uint32 (C,)
        Every mask's runs, one mask after the other: column-major pixels,
        background first.
    offsets : int64 (N + 1,)
        Record ``i``'s runs are ``counts[offsets[i]:offsets[i + 1]]``.
    bbox : float64 (N, 4)
        Each mask's box, ``rleToBbox`` (what ``maskUtils.iou`` tests for overlap).
    """

    counts: np.ndarray
    offsets: np.ndarray
    bbox: np.ndarray


@dataclass(frozen=True, eq=False)
class EncodedMasks:
    """The masks of N results as compressed RLE strings, decoded where they are needed.

    Every string was checked when loaded: it decodes, and its runs cover its
    image (``h * w`` pixels, the image's size).

    Attributes
    ----------
    buf : uint8 (B,)
        Record ``i``'s string is ``buf[starts[i]:ends[i]]``: the strings one
        after the other, or the results file's own bytes (read in place).
    starts, ends : int64 (N,)
    h, w : int64 (N,)
        Each mask's height and width (its image's).
    area : int64 (N,)
        Foreground pixels (``maskUtils.area``).
    escaped : bool
        Whether the strings are written with JSON escapes (the file's bytes).
    """

    buf: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    h: np.ndarray
    w: np.ndarray
    area: np.ndarray
    escaped: bool = False


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """Ground truth as columns; annotation arrays are in file order.

    Attributes
    ----------
    img_ids : int64 (I,)
        Sorted unique image ids; an image's dense index is its position here.
    cat_ids : int64 (C,)
        Sorted unique category ids; dense category index is the position.
    cat_names : tuple of str (C,)
    ann_id : int64 (G,)
    ann_img, ann_cat : int32 (G,)
        Annotation id, dense image index, dense category index.
    ann_bbox : float64 (G, 4)
        ``[x, y, w, h]``.
    ann_area : float64 (G,)
        The ``area`` field (pycocotools' area-range test uses it, not w*h).
    ann_crowd : bool (G,)
    keypoints : Keypoints or None
        Loaded for keypoint evaluation (``iou_type="keypoints"``), else None.
    num_keypoints : float64 (G,) or None
        ``num_keypoints`` (NaN where absent), with ``keypoints``.
    masks : Masks or None
        Each annotation's ``segmentation`` as ``COCO.annToRLE`` makes it
        (polygons rasterised and merged), loaded for ``iou_type="segm"``.
    img_h, img_w : int64 (I,) or None
        Each image's ``height`` and ``width``, with ``masks``.
    """

    source: str
    img_ids: np.ndarray
    cat_ids: np.ndarray
    cat_names: tuple[str, ...]
    ann_id: np.ndarray
    ann_img: np.ndarray
    ann_cat: np.ndarray
    ann_bbox: np.ndarray
    ann_area: np.ndarray
    ann_crowd: np.ndarray
    dataset: dict | None = field(default=None, repr=False)
    keypoints: Keypoints | None = field(default=None, repr=False)
    num_keypoints: np.ndarray | None = field(default=None, repr=False)
    masks: Masks | None = field(default=None, repr=False)
    img_h: np.ndarray | None = field(default=None, repr=False)
    img_w: np.ndarray | None = field(default=None, repr=False)

    def category_index(self, category: int | str) -> int:
        """Dense index of a category given by id or by name."""
        if isinstance(category, str):
            if category in self.cat_names:
                return self.cat_names.index(category)
            try:
                category = int(category)
            except ValueError:
                raise PrcoreInputError(
                    f"unknown category name {category!r}; known: {', '.join(self.cat_names)}"
                ) from None
        pos = int(np.searchsorted(self.cat_ids, category))
        if pos >= len(self.cat_ids) or self.cat_ids[pos] != category:
            raise PrcoreInputError(f"unknown category id {category}")
        return pos


@dataclass(frozen=True, eq=False)
class Detections:
    """Detections as columns in file order; ``img``/``cat`` are dense indices (int32).

    The detection's pycocotools id is its position + 1 (``loadRes``).
    ``bbox`` and ``area`` are what ``loadRes`` gives them (see
    :func:`results_rule`): a result's own box and ``w * h``; or, for keypoint
    results without one, the keypoints' extent and its area; for mask
    results without one, the mask's box and area. ``keypoints``
    (:class:`Keypoints`) is there for keypoint evaluation and keypoint
    results, ``masks`` (:class:`EncodedMasks`) for mask evaluation; else None.
    """

    source: str
    img: np.ndarray
    cat: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    area: np.ndarray
    keypoints: Keypoints | None = field(default=None, repr=False)
    masks: EncodedMasks | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.score)


# ---------------------------------------------------------------- reading


def _read_bytes(path: str | os.PathLike) -> bytes:
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise PrcoreInputError(f"cannot read file: {exc.strerror}", file=name) from None
    return _require_content(data, name)


def _require_content(data: bytes, name: str) -> bytes:
    if not data or data.isspace():  # data.strip() would copy the whole file
        raise PrcoreInputError("file is empty, expected JSON", file=name)
    return data


@contextmanager
def _file_bytes(path: str):
    """The file's bytes, memory-mapped where possible: no copy of a large file.

    Reading a val2017-sized results file (68 MB) costs 40 ms; mapping it, about
    nothing (the scan then reads the page cache directly). Files that cannot be
    mapped (pipes, special files) are read once, from the same open file. A caller
    that needs ``bytes`` (the general path) takes ``_bytes_of(data, path)`` inside
    the block.
    """
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise PrcoreInputError(f"cannot read file: {exc.strerror}", file=path) from None
    with f:
        try:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # empty, or not a regular file
            mapped = None
        if mapped is None:
            try:
                data = f.read()
            except OSError as exc:
                raise PrcoreInputError(f"cannot read file: {exc.strerror}", file=path) from None
            yield _require_content(data, path)
            return
        try:
            yield mapped
        finally:
            try:
                mapped.close()
            except BufferError:  # a view is still alive; the mapping goes with it
                pass


def _release_pages(data: bytes | mmap.mmap) -> None:
    """Let a mapped file's pages go from this process's memory until they are read again.

    The masks' strings stay in the results file's mapping and are read again only
    when detections are matched; meanwhile the ground truth may be loading, and
    its peak need not come on top of the whole file. The pages stay in the page
    cache, so reading them again costs a page-table entry each, not a read.
    """
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED)


def _bytes_of(data: bytes | mmap.mmap, path: str) -> bytes:
    """``data`` as bytes for the JSON parser (a mapping is copied, bytes are not)."""
    return _require_content(data[:], path)


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file (BOM tolerated) or raise a located error."""
    file = os.fspath(path)
    return parse_json(_read_bytes(file), file)


def parse_json(data: bytes, file: str) -> Any:
    """Parse JSON bytes (BOM tolerated) or raise a located error."""
    try:
        import pydantic_core  # the general path only: ``import prcore`` stays light

        return pydantic_core.from_json(_strip_bom(data), allow_inf_nan=True)
    except ValueError as exc:
        raise PrcoreInputError(f"not valid JSON: {exc}", file=file) from None


# ---------------------------------------------------------------- helpers


def _dense(ids: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, int]:
    """Positions of ``ids`` in sorted ``table`` (``INDEX``); also the first missing index or -1."""
    from prcore._kernels import dense_index

    ids = np.ascontiguousarray(ids, np.int64)
    table = np.ascontiguousarray(table, np.int64)
    out = np.empty(len(ids), INDEX)
    direct = len(table) and 0 <= table[0] and table[-1] < 1 << 25 and len(ids) > 4 * len(table)
    lookup = np.full(int(table[-1]) + 1 if direct else 0, -1, np.int64)
    return out, int(dense_index(ids, table, lookup, out))


def _first_duplicate(ids: np.ndarray) -> int:
    """Index of the first record whose id appeared before, or -1."""
    if len(ids) < 2:
        return -1
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if not len(dup):
        return -1
    return int(order[dup + 1].min())


def _require_list(obj: Any, file: str, section: str | None) -> list:
    if not isinstance(obj, list):
        where = f"'{section}'" if section else "top level"
        raise PrcoreInputError(
            f"{where}: expected a JSON array, got {type(obj).__name__}", file=file
        )
    return obj


def _fail(records: list, model: str, file: str, section: str | None) -> PrcoreInputError:
    """The first record that the schema's ``model`` (named) rejects, as a located error."""
    return schema.first_error(records, model, file=file, section=section)


# ---------------------------------------------------------------- ground truth


def load_ground_truth(gt: Any, iou_type: str = "bbox") -> GroundTruth:
    """Ground truth to evaluate against, from a path, a parsed dict, or a :class:`GroundTruth`.

    ``iou_type`` says which columns to load beyond the boxes: ``"keypoints"``
    adds :attr:`GroundTruth.keypoints`. An image-info file (``images`` and
    ``categories`` without ``annotations``, such as ``image_info_test2017.json``)
    is refused: every class would be absent from it.
    """
    if isinstance(gt, GroundTruth):
        return gt
    if isinstance(gt, (str, os.PathLike)):
        file = os.fspath(gt)
        with _file_bytes(file) as data:
            # The byte scanner reads the box columns, and keypoints or segmentations.
            scanned = _scan_ground_truth(data, file, iou_type)
            if scanned is not None:  # declines an image-info file
                return scanned
            raw = _bytes_of(data, file)
        obj = parse_json(raw, file)
    else:
        file = "<ground truth>"
        obj = gt
    if (
        isinstance(obj, dict)
        and "annotations" not in obj
        and {"images", "categories"} <= obj.keys()
    ):
        raise PrcoreInputError(
            "top level: 'annotations' is missing: this looks like an image-info file "
            "without ground truth",
            file=file,
        )
    columns = ground_truth_from_dict(obj, file, iou_type)
    if obj is not gt:  # a file's parsed dict is read for the columns only: keep none of it
        columns = replace(columns, dataset=None)
    return columns


def ground_truth_from_dict(obj: Any, file: str, iou_type: str = "bbox") -> GroundTruth:
    """Validate a COCO instances dict and build its columns (``iou_type``: as
    :func:`load_ground_truth`).

    Without ``annotations`` (an image-info file) this is a ground truth with
    no objects, as pycocotools' ``COCO`` reads one; :func:`load_ground_truth`,
    which evaluations use, refuses it.
    """
    if not isinstance(obj, dict):
        raise PrcoreInputError(
            f"top level: expected a JSON object with 'images', 'annotations' and "
            f"'categories', got {type(obj).__name__}",
            file=file,
        )
    for key in ("images", "annotations", "categories"):
        if key not in obj:
            if key == "annotations" and "images" in obj and "categories" in obj:
                continue
            raise PrcoreInputError(f"top level: '{key}' is missing", file=file)
    images = _require_list(obj["images"], file, "images")
    anns = _require_list(obj.get("annotations", []), file, "annotations")
    cats = _require_list(obj["categories"], file, "categories")
    if not images:
        raise PrcoreInputError("'images' is empty: the ground truth has no images", file=file)

    try:
        raw_img_ids = [r["id"] for r in images]
    except (KeyError, TypeError):
        raise _fail(images, "ImageRecord", file, "images") from None
    img_file_ids = schema.integer_column(raw_img_ids)
    if img_file_ids is None:
        raise _fail(images, "ImageRecord", file, "images")

    try:
        raw_cat_ids = [r["id"] for r in cats]
        raw_names = [r.get("name", "") for r in cats]
    except (KeyError, TypeError, AttributeError):
        raise _fail(cats, "CategoryRecord", file, "categories") from None
    cat_file_ids = schema.integer_column(raw_cat_ids)
    if cat_file_ids is None or not schema.text_column(raw_names):
        raise _fail(cats, "CategoryRecord", file, "categories")

    def annotation_columns():
        cols = _annotation_columns(anns, file)
        if cols is None:
            raise _fail(anns, "AnnotationRecord", file, "annotations")
        return cols

    def extra_columns(img_ids: np.ndarray, ann_id: np.ndarray, ann_img: np.ndarray) -> dict:
        if iou_type == "keypoints":
            keypoints, count = _ground_truth_keypoints(anns, file)
            return {"keypoints": keypoints, "num_keypoints": count}
        if iou_type == "segm":
            h, w = _image_sizes(images, img_file_ids, img_ids, file)
            where = _locator(file, "annotations", ann_id, "id")
            masks = masks_from_segmentations(
                _segmentations(anns, where), h[ann_img], w[ann_img], where
            )
            return {"masks": masks, "img_h": h, "img_w": w}
        return {}

    return _ground_truth_from_columns(
        file, img_file_ids, cat_file_ids, raw_names, annotation_columns, obj, extra_columns
    )


def _ground_truth_from_columns(
    file: str,
    img_file_ids: np.ndarray,
    cat_file_ids: np.ndarray,
    raw_names: list[str] | tuple[str, ...],
    annotation_columns: Callable[[], tuple],
    dataset: dict | None,
    extra_columns: Callable[..., dict] | None = None,
) -> GroundTruth:
    """The semantic checks shared by the dict and the byte-scan paths.

    ``annotation_columns`` is called after the image and category checks, so
    that errors come in the same order whatever the path. It returns
    ``(ann_id, image_id, category_id, bbox, area, crowd, ignore)``, where
    ``ignore`` is a list of raw values (None when absent) or an int8 array
    (-1 when absent). ``extra_columns(img_ids, ann_id, ann_img)``, called
    once the ids are dense, gives the columns of an iou type (keypoints, masks).
    """
    if not len(img_file_ids):
        raise PrcoreInputError("'images' is empty: the ground truth has no images", file=file)
    dup = _first_duplicate(img_file_ids)
    if dup >= 0:
        raise PrcoreInputError(
            "duplicate image id",
            file=file,
            section="images",
            index=dup,
            record_id=int(img_file_ids[dup]),
            field="id",
        )
    dup = _first_duplicate(cat_file_ids)
    if dup >= 0:
        raise PrcoreInputError(
            "duplicate category id",
            file=file,
            section="categories",
            index=dup,
            record_id=int(cat_file_ids[dup]),
            field="id",
        )
    order = np.argsort(cat_file_ids, kind="stable")
    cat_ids = cat_file_ids[order]
    cat_names = tuple(raw_names[i] or str(cat_file_ids[i]) for i in order)
    img_ids = np.sort(img_file_ids)

    ann_id, ann_image_id, ann_category_id, bbox, area, crowd, ignore = annotation_columns()

    dup = _first_duplicate(ann_id)
    if dup >= 0:
        raise PrcoreInputError(
            "duplicate annotation id",
            file=file,
            section="annotations",
            index=dup,
            record_id=int(ann_id[dup]),
            field="id",
        )
    ann_img, bad = _dense(ann_image_id, img_ids)
    if bad >= 0:
        raise PrcoreInputError(
            f"image_id {int(ann_image_id[bad])} is not in 'images'",
            file=file,
            section="annotations",
            index=bad,
            record_id=int(ann_id[bad]),
            field="image_id",
        )
    ann_cat, bad = _dense(ann_category_id, cat_ids)
    if bad >= 0:
        raise PrcoreInputError(
            f"category_id {int(ann_category_id[bad])} is not in 'categories'",
            file=file,
            section="annotations",
            index=bad,
            record_id=int(ann_id[bad]),
            field="category_id",
        )

    _warn_ground_truth_quirks(file, ann_id, crowd, ignore)
    extra = extra_columns(img_ids, ann_id, ann_img) if extra_columns else {}
    return GroundTruth(
        source=file,
        img_ids=img_ids,
        cat_ids=cat_ids,
        cat_names=cat_names,
        ann_id=ann_id,
        ann_img=ann_img,
        ann_cat=ann_cat,
        ann_bbox=bbox,
        ann_area=area,
        ann_crowd=crowd,
        dataset=dataset,
        **extra,
    )


def _scan_ground_truth(
    data: bytes | mmap.mmap, file: str, iou_type: str = "bbox"
) -> GroundTruth | None:
    """The byte-level numba scanner's columns, when it can read this file (with the
    keypoint columns for ``iou_type="keypoints"``, the masks for ``"segm"``).

    None (parse in full) when the scanner declines, or when the annotation
    columns break the schema's rules: the record-by-record validation then
    finds the located error.
    """
    try:
        from prcore.io.coco_scan import scan_ground_truth
    except ImportError:
        return None
    cols = scan_ground_truth(
        data, keypoints=iou_type == "keypoints", segmentation=iou_type == "segm"
    )
    if cols is None:
        return None
    _release_pages(data)  # the columns hold all that is needed
    bbox, area = cols.bbox, cols.area
    if schema.annotation_error(bbox, area, cols.iscrowd) is not None:
        return None
    extra = None
    if iou_type == "keypoints":  # the rules _ground_truth_keypoints applies to the dict
        values, offsets, count = cols.keypoints, cols.keypoint_offsets, cols.num_keypoints
        if (
            schema.keypoints_error(values, offsets, empty_ok=True) is not None
            or schema.count_error(count[~np.isnan(count)]) is not None
        ):
            return None
        keypoints = Keypoints(values, offsets, cols.keypoints_missing)
        columns = {"keypoints": keypoints, "num_keypoints": count}

        def extra(img_ids, ann_id, ann_img) -> dict:
            return columns

    if iou_type == "segm":
        try:
            columns = _scanned_masks(cols)
        except _Declined:
            return None

        def extra(img_ids, ann_id, ann_img) -> dict:
            if columns is None:  # not reached: the ids' errors come first
                raise _Declined
            return columns

    crowd = cols.iscrowd.astype(bool)
    ann = (cols.ann_id, cols.ann_image_id, cols.ann_category_id, bbox, area, crowd, cols.ignore)
    try:
        return _ground_truth_from_columns(
            file, cols.image_id, cols.cat_id, cols.cat_name, lambda: ann, None, extra
        )
    except _Declined:
        return None


class _Declined(Exception):
    """Scanned columns break a rule: the full parser finds, and names, what is wrong."""


def _decline(i: int, field: str, message: str) -> _Declined:
    """A ``where`` for scanned columns: any problem declines to the full parser."""
    return _Declined()


def _scanned_masks(cols) -> dict | None:
    """The scanned segmentations as masks, as :func:`masks_from_segmentations` makes them
    from the dict (same checks, same kernels), with the images' sizes; None when the ids
    are such that the ground truth's own checks fail first (duplicate or unknown image
    ids). Raises :class:`_Declined` wherever the dict path would raise."""
    from prcore import _kernels
    from prcore._kernels.scan_constants import SEG_POLYGONS, SEG_RUNS

    file_ids = cols.image_id
    img_ids = np.sort(file_ids)
    if _first_duplicate(file_ids) >= 0:
        return None
    ann_img, bad = _dense(cols.ann_image_id, img_ids)
    if bad >= 0:
        return None
    height, width = cols.image_size[:, 0], cols.image_size[:, 1]
    if schema.image_size_error(height, width) is not None:
        raise _Declined
    dense = np.searchsorted(img_ids, file_ids)
    h = np.empty(len(img_ids), np.int64)
    w = np.empty(len(img_ids), np.int64)
    h[dense], w[dense] = height, width
    ah, aw = h[ann_img], w[ann_img]
    n = len(ann_img)
    values, part_offsets, parts, kind = (
        cols.seg_values, cols.seg_part_offsets, cols.seg_parts, cols.seg_kind,
    )  # fmt: skip
    part_lengths = np.diff(part_offsets)
    parts_per_ann = np.diff(parts)
    part_kind = np.repeat(kind, parts_per_ann)
    is_poly = part_kind == SEG_POLYGONS
    value_is_poly = np.repeat(is_poly, part_lengths)
    poly_owner = np.repeat(np.arange(n), parts_per_ann)[is_poly]
    rle = np.flatnonzero(kind == SEG_RUNS)
    if not np.array_equal(cols.seg_size[rle], np.stack([ah[rle], aw[rle]], axis=1)):
        raise _Declined  # rle_size_error
    run_offsets = np.zeros(len(rle) + 1, np.int64)
    np.cumsum(part_lengths[~is_poly], out=run_offsets[1:])
    runs = values[~value_is_poly]
    if len(runs):  # else every value is a polygon's: no copy
        values = values[value_is_poly]
    parts_ = [
        *_polygon_column_masks(
            values, part_lengths[is_poly], poly_owner, ah, aw, _decline, _kernels
        ),
        _run_column_masks(runs, run_offsets, rle, ah, aw, _decline, _kernels),
    ]
    return {"masks": _masks_in_record_order(parts_, n, ah, aw, _kernels), "img_h": h, "img_w": w}


def _annotation_columns(anns: list, file: str):
    """The annotations as checked columns, or None if any record breaks a rule.

    A missing (or null) ``area`` is the box's width * height, with a warning.
    """
    try:
        ids = schema.integer_column([a["id"] for a in anns])
        img = schema.integer_column([a["image_id"] for a in anns])
        cat = schema.integer_column([a["category_id"] for a in anns])
        bbox = schema.box_column([a["bbox"] for a in anns])
        raw_area = [a.get("area") for a in anns]
        crowd = schema.flag_column([a.get("iscrowd", 0) for a in anns])
        ignore = [a.get("ignore") for a in anns]
    except (KeyError, TypeError, AttributeError):
        return None
    if ids is None or img is None or cat is None or bbox is None or crowd is None:
        return None
    missing = [i for i, v in enumerate(raw_area) if v is None] if None in raw_area else []
    area = schema.number_column([0.0 if v is None else v for v in raw_area])
    if area is None or schema.annotation_error(bbox, area, crowd) is not None:
        return None
    if missing:
        warnings.warn(
            f"{file}: {len(missing)} annotation(s) have no 'area' (first: annotations"
            f"[{missing[0]}]); using bbox width*height for the area ranges",
            PrcoreWarning,
            stacklevel=6,
        )
        area[missing] = bbox[missing, 2] * bbox[missing, 3]
    return ids, img, cat, bbox, area, crowd.astype(bool), ignore


def _ground_truth_keypoints(anns: list, file: str) -> tuple[Keypoints, np.ndarray]:
    """The annotations' ``keypoints`` and ``num_keypoints`` (either may be absent: pycocotools
    reads them only for the images and categories it evaluates, see the engine)."""
    try:
        raw = [a.get("keypoints") for a in anns]
        raw_count = [a.get("num_keypoints") for a in anns]
    except AttributeError:
        raise _fail(anns, "AnnotationRecord", file, "annotations") from None
    missing = np.fromiter((v is None for v in raw), bool, len(raw))
    cols = schema.keypoint_column([() if v is None else v for v in raw])
    count = schema.number_column([math.nan if v is None else v for v in raw_count])
    if (
        cols is None
        or count is None
        or schema.keypoints_error(*cols, empty_ok=True) is not None
        or schema.count_error(count[~_absent(raw_count)]) is not None
    ):
        raise _fail(anns, "AnnotationRecord", file, "annotations")
    return Keypoints(cols[0], cols[1], missing), count


def _absent(values: list) -> np.ndarray:
    return np.fromiter((v is None for v in values), bool, len(values))


# ---------------------------------------------------------------- masks


def _locator(file: str, section: str | None, ids: np.ndarray, id_name: str):
    """``where(i, field, message)``: a located error for record ``i`` of ``section``."""

    def where(i: int, field: str, message: str) -> PrcoreInputError:
        return PrcoreInputError(
            message,
            file=file,
            section=section,
            index=int(i),
            record_id=int(ids[i]),
            field=field,
            id_name=id_name,
        )

    return where


def _image_sizes(images: list, file_ids: np.ndarray, img_ids: np.ndarray, file: str):
    """Each image's ``height`` and ``width`` (int64, dense image order): polygons are
    rasterised at that size (``COCO.annToRLE``) and masks must have it."""
    where = _locator(file, "images", file_ids, "id")
    sizes = []
    for name in ("height", "width"):
        values = [r.get(name) for r in images]
        if None in values:
            i = values.index(None)
            raise where(i, name, "is missing: a segm evaluation needs each image's size")
        column = schema.integer_column(values)
        if column is None:
            i = next(i for i, v in enumerate(values) if schema.integer_column([v]) is None)
            raise where(i, name, f"expected an integer, got {values[i]!r}")
        sizes.append(column)
    bad = schema.image_size_error(*sizes)
    if bad is not None:
        raise where(bad[0], "height", bad[1])
    dense = np.searchsorted(img_ids, file_ids)
    h = np.empty(len(img_ids), np.int64)
    w = np.empty(len(img_ids), np.int64)
    h[dense], w[dense] = sizes
    return h, w


def _image_sizes_of(gt: GroundTruth, file: str) -> tuple[np.ndarray, np.ndarray]:
    if gt.img_h is None or gt.img_w is None:
        raise PrcoreInputError(
            "the ground truth was loaded without image sizes; load it with iou_type='segm'",
            file=file,
        )
    return gt.img_h, gt.img_w


def _segmentations(records: list, where) -> list:
    values = [r.get("segmentation") for r in records]
    if None in values:
        raise where(values.index(None), "segmentation", "is missing")
    return values


def masks_from_segmentations(segs: list, h: np.ndarray, w: np.ndarray, where) -> Masks:
    """Segmentations as masks, as ``COCO.annToRLE`` converts them (pycocotools' coco.py).

    ``segs[i]`` lies on an ``h[i] x w[i]`` image: polygons
    (``[[x0, y0, x1, y1, ...], ...]``, several parts of one object merged into
    one mask, ``maskApi.c`` ``rleFrPoly`` and ``rleMerge``), uncompressed RLE
    (``{"size": [h, w], "counts": [runs]}``, crowds) or compressed RLE
    (``counts`` a string, ``rleFrString``). Every polygon, run list and string
    is checked (:mod:`prcore.io.schema`); ``where(i, field, message)`` makes
    the located error. Every kind goes through one kernel call.
    """
    from prcore import _kernels

    n = len(segs)
    polygons: list = []
    poly_owner: list[int] = []
    runs: list = []
    run_owner: list[int] = []
    strings: list[str] = []
    string_owner: list[int] = []
    for i, seg in enumerate(segs):
        if type(seg) is list:
            if not seg:
                raise where(i, "segmentation", "is an empty list; expected polygons or RLE")
            polygons += seg
            poly_owner += [i] * len(seg)
        elif type(seg) is dict:
            problem = schema.rle_size_error(seg.get("size"), int(h[i]), int(w[i]))
            if problem is not None:
                raise where(i, "segmentation", problem)
            counts = seg.get("counts")
            if type(counts) is str or type(counts) is bytes:  # bytes: as pycocotools leaves it
                strings.append(counts)
                string_owner.append(i)
            elif type(counts) is list:
                runs.append(counts)
                run_owner.append(i)
            else:
                raise where(
                    i,
                    "segmentation",
                    "'counts' must be a compressed RLE string or a list of run lengths, got "
                    f"{type(counts).__name__}",
                )
        else:
            raise where(
                i,
                "segmentation",
                f"expected polygons [[x0, y0, x1, y1, ...], ...] or an RLE dict, got {seg!r}",
            )
    parts = [
        *_polygon_masks(polygons, np.array(poly_owner, np.int64), h, w, where, _kernels),
        _run_masks(runs, np.array(run_owner, np.int64), h, w, where, _kernels),
        _string_masks(strings, np.array(string_owner, np.int64), h, w, where, _kernels),
    ]
    return _masks_in_record_order(parts, n, h, w, _kernels)


def _masks_in_record_order(parts: list, n: int, h: np.ndarray, w: np.ndarray, _kernels) -> Masks:
    """The ``(owners, masks)`` parts of :func:`masks_from_segmentations` as one
    :class:`Masks` of ``n`` records, with each mask's box. Empties ``parts``
    (see :func:`_in_record_order`)."""
    kept = [(o, m) for o, m in parts if len(o)]
    parts.clear()
    counts, offsets = _in_record_order(kept, n)
    bbox = np.empty((n, 4), np.float64)
    _kernels.rle_to_bbox(counts, offsets, np.ascontiguousarray(h), np.ascontiguousarray(w), bbox)
    return Masks(counts, offsets, bbox)


# Below this many string bytes (or polygon points, each an edge to walk) one thread
# beats two.
_SPLIT_MIN = 1 << 20
_SPLIT_MIN_POINTS = 1 << 15


def _in_halves(work, offsets: np.ndarray, min_items: int = _SPLIT_MIN) -> list:
    """``work(lo, hi)`` over the groups ``offsets`` delimits (G + 1), in two halves of
    about equal size on two threads where that pays (kernels release the GIL; the
    threads live for this call only), else in one call: the results, in order."""
    n = len(offsets) - 1
    if n < 2 or int(offsets[-1] - offsets[0]) < min_items or (os.cpu_count() or 1) < 2:
        return [work(0, n)]
    mid = int(np.searchsorted(offsets, (offsets[0] + offsets[-1]) // 2))
    mid = min(max(mid, 1), n - 1)
    with ThreadPoolExecutor(1, thread_name_prefix="prcore-load") as pool:
        second = pool.submit(work, mid, n)
        first = work(0, mid)
        return [first, second.result()]


def _in_record_order(parts: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One counts column, record by record, out of ``parts``: ``(owners, masks)`` pairs
    whose owners together are each of the ``n`` records once, ascending in each part (the
    masks written densely from 0).

    The runs are many, so they are copied once and never held twice over: ``parts``
    is emptied as it is copied, each part freed once its masks are in place; a lone
    part in record order is taken as it is.
    """
    if not parts:
        return np.zeros(0, np.uint32), np.zeros(n + 1, np.int64)
    if len(parts) == 1 and np.array_equal(parts[0][0], np.arange(n)):
        _, m = parts.pop()
        return m.counts[: m.offsets[-1]], m.offsets
    offsets = np.zeros(n + 1, np.int64)
    offsets[np.concatenate([o for o, _ in parts]) + 1] = np.concatenate(
        [np.diff(m.offsets) for _, m in parts]
    )
    np.cumsum(offsets, out=offsets)
    counts = np.empty(int(offsets[-1]), np.uint32)
    while parts:
        o, m = parts.pop(0)
        # a part's owners ascend and its masks lie one after the other, so its masks whose
        # records follow each other in the output are one copy: a slice per block of them
        # (the polygons' blocks are only broken by the few other records, such as crowds)
        dst = offsets[o]
        dst_end = offsets[o + 1]
        cut = np.flatnonzero(dst[1:] != dst_end[:-1]) + 1
        first = np.concatenate(([0], cut)).tolist()
        last = np.concatenate((cut - 1, [len(o) - 1])).tolist()
        for a, b in zip(first, last):
            counts[dst[a] : dst_end[b]] = m.counts[m.offsets[a] : m.offsets[b + 1]]
        del o, m
    return counts, offsets


def _polygon_masks(polygons: list, owner, h, w, where, kernels) -> list[tuple[np.ndarray, Masks]]:
    """Each owner's polygons rasterised and merged: ``(owners, masks)`` pairs, one for
    each part of the owners rasterised on its own thread."""
    if not polygons:
        return []
    if not all(type(p) is list for p in polygons):
        k = next(k for k, p in enumerate(polygons) if type(p) is not list)
        raise where(
            owner[k],
            "segmentation",
            f"expected a polygon [x0, y0, x1, y1, ...], got {polygons[k]!r}",
        )
    xy = schema.number_column(list(chain.from_iterable(polygons)))
    if xy is None:
        k = next(k for k, p in enumerate(polygons) if schema.number_column(p) is None)
        raise where(owner[k], "segmentation", f"a polygon holds a non-number: {polygons[k]!r}")
    lengths = np.fromiter(map(len, polygons), np.int64, len(polygons))
    return _polygon_column_masks(xy, lengths, owner, h, w, where, kernels)


def _polygon_column_masks(
    xy: np.ndarray, lengths: np.ndarray, owner, h, w, where, kernels
) -> list[tuple[np.ndarray, Masks]]:
    """:func:`_polygon_masks` of polygons as a column: ``xy`` every polygon's
    coordinates one after the other, ``lengths`` how many each has, ``owner``
    whose each is (ascending)."""
    if not len(lengths):
        return []
    bad = schema.polygons_error(xy, lengths)
    if bad is not None:
        raise where(owner[bad[0]], "segmentation", bad[1])
    point_offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths // 2, out=point_offsets[1:])
    ph, pw = np.ascontiguousarray(h[owner]), np.ascontiguousarray(w[owner])
    # an owner's polygons are consecutive (records are read in order)
    owners, first = np.unique(owner, return_index=True)
    groups = np.append(first, len(owner)).astype(np.int64)

    def rasterise(lo: int, hi: int):
        """Owners lo..hi: their polygons rasterised, each owner's merged into one mask
        (annToRLE: maskUtils.merge); or the first owner that rleMerge cannot merge,
        as an int."""
        a, b = int(groups[lo]), int(groups[hi])
        po = point_offsets[a : b + 1]
        bounds = np.empty(b - a + 1, np.int64)
        total = kernels.polys_rle_bounds(xy, po, pw[a:b], bounds)
        mine = groups[lo : hi + 1] - a
        sizes = np.diff(mine)
        several = sizes > 1  # owners whose polygons are merged through a scratch
        room = int(np.add.reduceat(bounds[:-1], mine[:-1])[several].max(initial=1))
        counts = np.empty(max(total, 1), np.uint32)
        offsets = np.empty(hi - lo + 1, np.int64)
        done = kernels.polys_to_merged_rle(
            xy, po, mine, ph[a:b], pw[a:b], np.empty(bounds[-1], np.int64),
            np.empty(room, np.uint32), np.empty(int(sizes.max()) + 1, np.int64),
            np.empty(2 * room, np.int64), counts, offsets,
        )  # fmt: skip
        if done < 0:
            return lo - 1 - done
        return owners[lo:hi], Masks(counts, offsets, np.zeros((0, 4)))

    # in halves of about equal points, each a whole number of owners
    parts = _in_halves(rasterise, point_offsets[groups], _SPLIT_MIN_POINTS)
    for part in parts:
        if isinstance(part, int):
            raise where(
                owners[part],
                "segmentation",
                "its polygons cannot be merged: pycocotools' rleMerge never returns on them",
            )
    return parts


def _run_masks(runs: list, owner, h, w, where, kernels) -> tuple[np.ndarray, Masks]:
    """Uncompressed RLE (``frUncompressedRLE``): the runs as they are, checked."""
    if not runs:
        return np.zeros(0, np.int64), _no_masks()
    flat = schema.number_column(list(chain.from_iterable(runs)))
    lengths = np.fromiter(map(len, runs), np.int64, len(runs))
    offsets = np.zeros(len(runs) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if flat is None:
        k = next(k for k, r in enumerate(runs) if schema.number_column(r) is None)
        raise where(owner[k], "segmentation", "'counts' must be whole numbers from 0 to 2**32 - 1")
    return _run_column_masks(flat, offsets, owner, h, w, where, kernels)


def _run_column_masks(flat, offsets, owner, h, w, where, kernels) -> tuple[np.ndarray, Masks]:
    """:func:`_run_masks` of runs as a column: mask ``k``'s runs are
    ``flat[offsets[k]:offsets[k + 1]]`` (float64, as written), its record ``owner[k]``."""
    if not len(owner):
        return np.zeros(0, np.int64), _no_masks()
    counts = np.zeros(len(flat), np.uint32)
    whole = np.isfinite(flat) & (flat >= 0) & (flat < schema.MASK_PIXEL_LIMIT)
    counts[whole] = flat[whole]
    bad = kernels.rle_check_area(counts, offsets, h[owner] * w[owner])
    if bad >= 0 or not whole.all():
        for k in range(len(owner)):
            values = flat[offsets[k] : offsets[k + 1]]
            problem = schema.run_lengths_error(values, int(h[owner[k]]), int(w[owner[k]]))
            if problem is not None:
                raise where(owner[k], "segmentation", problem)
    return owner, Masks(counts, offsets, np.zeros((0, 4)))


def _string_masks(strings: list, owner, h, w, where, kernels) -> tuple[np.ndarray, Masks]:
    """Compressed RLE (``rleFrString``): every string decoded in one kernel call."""
    if not strings:
        return np.zeros(0, np.int64), _no_masks()
    encoded, _ = _encoded(strings, owner, h[owner], w[owner], where, kernels)
    counts, offsets, _, _ = _decode(encoded, kernels)
    return owner, Masks(counts, offsets, np.zeros((0, 4)))


def _no_masks() -> Masks:
    return Masks(np.zeros(0, np.uint32), np.zeros(1, np.int64), np.zeros((0, 4)))


def _encoded(strings: list, owner, h, w, where, kernels, boxes: bool = False):
    """Compressed RLE strings as :class:`EncodedMasks`, each checked (one kernel call):
    it decodes, and its runs cover ``h * w`` pixels. With ``boxes``, also each mask's
    ``rleToBbox`` (float64 (N, 4)); else None."""
    n = len(strings)
    if not all(type(t) is str for t in strings):
        strings = [t.encode() if type(t) is str else t for t in strings]
    lengths = np.fromiter(map(len, strings), np.int64, n)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    data = "".join(strings).encode() if n and type(strings[0]) is str else b"".join(strings)
    if len(data) != int(ends[-1] if n else 0):  # a character beyond ASCII: not RLE
        k = next(k for k, t in enumerate(strings) if not t.isascii())
        raise where(
            owner[k], "segmentation", schema.rle_string_problem(strings[k].encode(), 0, 0, 0)
        )
    buf = np.frombuffer(data, np.uint8) if data else np.zeros(0, np.uint8)
    h = np.ascontiguousarray(h, np.int64)
    w = np.ascontiguousarray(w, np.int64)
    area = np.empty(n, np.int64)
    bbox = np.empty((n if boxes else 0, 4), np.float64)
    bad = _check_strings(kernels, buf, starts, ends, h, w, False, area, bbox)
    if bad >= 0:
        text = strings[bad].encode() if type(strings[bad]) is str else strings[bad]
        one = np.frombuffer(text, np.uint8)
        runs = np.empty(max(len(one), 1), np.uint32)
        got = np.empty(2, np.int64)
        kernels.rle_from_strings(
            one, np.zeros(1, np.int64), np.array([len(one)], np.int64), h[bad : bad + 1],
            w[bad : bad + 1], False, runs, got, np.empty(1, np.int64), np.zeros((0, 4)),
        )  # fmt: skip
        total = int(runs[: got[1]].sum(dtype=np.int64))
        problem = schema.rle_string_problem(text, total, int(h[bad]), int(w[bad]))
        raise where(owner[bad], "segmentation", problem)
    return EncodedMasks(buf, starts, ends, h, w, area), (bbox if boxes else None)


def _check_strings(kernels, buf, starts, ends, h, w, escaped, area, bbox) -> int:
    """Decode every string without keeping its runs: its area (and box, unless ``bbox``
    has no rows) into ``area`` and ``bbox``; the first that does not decode or does not
    cover ``h * w`` pixels, or -1. On two threads for many strings."""
    spans = np.zeros(len(starts) + 1, np.int64)
    np.cumsum(ends - starts, out=spans[1:])
    boxes = bbox.shape[0] > 0

    def check(lo: int, hi: int) -> int:
        bad = kernels.rle_from_strings(
            buf, starts[lo:hi], ends[lo:hi], h[lo:hi], w[lo:hi], escaped,
            np.zeros(0, np.uint32), np.empty(hi - lo + 1, np.int64), area[lo:hi],
            bbox[lo:hi] if boxes else bbox,
        )  # fmt: skip
        return bad if bad < 0 else lo + bad

    found = [bad for bad in _in_halves(check, spans) if bad >= 0]
    return min(found) if found else -1


def _decode(masks: EncodedMasks, kernels, rows: np.ndarray | None = None):
    """``(counts, offsets, area, bbox)`` of the masks at ``rows`` (all by default), decoded."""
    if rows is None:
        starts, ends, h, w = masks.starts, masks.ends, masks.h, masks.w
    else:
        starts, ends, h, w = masks.starts[rows], masks.ends[rows], masks.h[rows], masks.w[rows]
    n = len(starts)
    counts = np.empty(int((ends - starts).sum()), np.uint32)
    offsets = np.empty(n + 1, np.int64)
    area = np.empty(n, np.int64)
    bbox = np.empty((n, 4), np.float64)
    kernels.rle_from_strings(
        masks.buf, starts, ends, h, w, masks.escaped, counts, offsets, area, bbox
    )
    return counts[: offsets[-1]], offsets, area, bbox


def _warn_ground_truth_quirks(file: str, ann_id, crowd, ignore) -> None:
    zero = np.flatnonzero(ann_id == 0)
    if len(zero):
        warnings.warn(
            f"{file}: annotations[{int(zero[0])}] has id 0; pycocotools marks matches by "
            "annotation id and 0 means 'unmatched', so a detection matched to it is "
            "scored as a false positive (reproduced here)",
            PrcoreWarning,
            stacklevel=5,
        )
    if isinstance(ignore, np.ndarray):
        overridden = np.flatnonzero((ignore >= 0) & ((ignore != 0) != crowd)).tolist()
    else:
        overridden = [
            i for i, (g, c) in enumerate(zip(ignore, crowd)) if g is not None and bool(g) != bool(c)
        ]
    if overridden:
        i = overridden[0]
        warnings.warn(
            f"{file}: {len(overridden)} annotation(s) have an 'ignore' flag that differs from "
            f"'iscrowd' (first: annotations[{i}]); pycocotools replaces 'ignore' with "
            "'iscrowd', so 'ignore' has no effect (reproduced here)",
            PrcoreWarning,
            stacklevel=5,
        )


# ---------------------------------------------------------------- detections


@dataclass(frozen=True, eq=False)
class ReadResults:
    """A results file read without the ground truth (:func:`read_results`).

    ``columns`` are a byte scanner's (``kind`` says which: ``"boxes"`` for
    :func:`_scan`'s, ``"masks"`` for :class:`_MaskScan`), or ``records`` the
    parsed JSON where the scanners declined.
    """

    file: str
    kind: str
    columns: Any = None
    records: Any = None


def read_results(dt: Any, iou_type: str = "bbox") -> Any:
    """What of loading ``dt`` needs no ground truth: for a path, the file read
    into a :class:`ReadResults`; anything else as it is.

    It needs nothing from the ground truth, so :func:`prcore.engine.evaluate`
    runs it while the ground truth loads; :func:`load_detections` finishes it.
    """
    if not isinstance(dt, (str, os.PathLike)):
        return dt
    file = os.fspath(dt)
    with _file_bytes(file) as data:
        # The byte scanners: boxes (declining a record without one), with keypoints
        # for keypoints, or masks (compressed RLE, with or without boxes); else the
        # general path.
        if iou_type != "segm":
            cols = _scan(data, iou_type == "keypoints")
            if cols is not None:
                return ReadResults(file, "boxes", columns=cols)
        if iou_type in ("bbox", "segm"):
            scanned = _scan_masks(data, iou_type)
            if scanned is not None:
                _release_pages(data)
                return ReadResults(file, "masks", columns=scanned)
        raw = _bytes_of(data, file)
    return ReadResults(file, "records", records=parse_json(raw, file))


def load_detections(dt: Any, gt: GroundTruth, iou_type: str = "bbox") -> Detections:
    """Detections from a path, a list of dicts, :class:`ReadResults` or :class:`Detections`.

    ``iou_type`` says which columns to load beyond the boxes: ``"keypoints"``
    adds :attr:`Detections.keypoints`, ``"segm"`` :attr:`Detections.masks`.
    """
    if isinstance(dt, Detections):
        return dt
    read = dt if isinstance(dt, ReadResults) else read_results(dt, iou_type)
    if not isinstance(read, ReadResults):
        return detections_from_records(read, gt, "<detections>", iou_type)
    if read.kind == "boxes":
        return _detections_from_columns(read.file, gt, *read.columns)
    if read.kind == "masks":
        found = _detections_from_mask_scan(read.file, gt, read.columns, iou_type)
        if found is not None:
            return found
        # a mask at another size than its image's: the general path names it
        read = ReadResults(read.file, "records", records=read_json(read.file))
    return detections_from_records(read.records, gt, read.file, iou_type)


def _scan(data: bytes | mmap.mmap, keypoints: bool = False):
    """The byte-level numba scanner's columns, when it can read this file.

    With ``keypoints``, every record's keypoints too (records with a box each,
    which is loadRes' box rule). None (parse in full) when the scanner
    declines, or when the columns break the schema's rules: the
    record-by-record validation then finds the located error.
    """
    try:
        from prcore.io.results_scan import scan_results
    except ImportError:
        return None
    cols = scan_results(data, keypoints=keypoints)
    if cols is None or schema.detection_error(cols.bbox, cols.score) is not None:
        return None
    kpt = None
    if keypoints:
        values, offsets = cols.keypoints, cols.keypoint_offsets
        if schema.keypoints_error(values, offsets, False) is not None:
            return None
        kpt = Keypoints(values, offsets, np.zeros(len(cols.score), bool))
    return cols.image_id, cols.category_id, cols.bbox, cols.score, kpt


@dataclass(frozen=True, eq=False)
class _MaskScan:
    """The mask scanner's columns, every string checked at its own ``size``, with each
    mask's area and, under the mask rule, its box (``rleToBbox``)."""

    columns: Any  # MaskResultColumns without size and span (kept below, contiguous)
    rule: str
    h: np.ndarray
    w: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    area: np.ndarray
    mask_box: np.ndarray


def _scan_masks(data, iou_type: str) -> _MaskScan | None:
    """A mask results file's columns, checked (:class:`_MaskScan`), or None (the
    general path then reads the file, and finds the located error of anything wrong)."""
    try:
        from prcore.io.masks_scan import scan_mask_results
    except ImportError:
        return None
    cols = scan_mask_results(data)
    if cols is None:
        return None
    from prcore import _kernels

    n = len(cols)
    has_box = cols.has_box
    rule = "box" if n and has_box[0] else "mask"
    if rule == "box" and not has_box.all():
        return None
    if schema.box_error(cols.bbox[has_box]) or schema.score_error(cols.score):
        return None
    h = np.ascontiguousarray(cols.size[:, 0])
    w = np.ascontiguousarray(cols.size[:, 1])
    if ((h < 0) | (w < 0) | (h * w >= schema.MASK_PIXEL_LIMIT)).any():
        return None
    starts = np.ascontiguousarray(cols.span[:, 0])
    ends = np.ascontiguousarray(cols.span[:, 1])
    area = np.empty(n, np.int64)
    mask_box = np.empty((n if rule == "mask" else 0, 4), np.float64)
    bad = _check_strings(_kernels, cols.buf, starts, ends, h, w, cols.escaped, area, mask_box)
    if bad >= 0:
        return None
    cols = replace(cols, size=None, span=None)  # their copies above are all that is kept
    return _MaskScan(cols, rule, h, w, starts, ends, area, mask_box)


def _detections_from_mask_scan(file: str, gt: GroundTruth, scanned: _MaskScan, iou_type: str):
    """Detections from the mask scanner's checked columns, or None where a mask's size
    is not its image's (segm)."""
    cols, rule, h, w, area = scanned.columns, scanned.rule, scanned.h, scanned.w, scanned.area
    img, cat = _dense_ids(file, gt, cols.image_id, cols.category_id)
    if iou_type == "segm":
        img_h, img_w = _image_sizes_of(gt, file)
        if ((img_h[img] != h) | (img_w[img] != w)).any():
            return None
    masks = EncodedMasks(cols.buf, scanned.starts, scanned.ends, h, w, area, cols.escaped)
    if rule == "box":
        bbox, area = cols.bbox, None
    else:  # loadRes: maskUtils.area, and toBbox where no box is given
        mask_box = scanned.mask_box
        mask_box[cols.has_box] = cols.bbox[cols.has_box]
        bbox, area = mask_box, area.astype(np.float64)
    bbox = np.ascontiguousarray(bbox, np.float64)
    return Detections(
        source=file,
        img=img,
        cat=cat,
        bbox=bbox,
        score=np.ascontiguousarray(cols.score, np.float64),
        area=bbox[:, 2] * bbox[:, 3] if area is None else area,
        masks=masks if iou_type == "segm" else None,
    )


def results_rule(records: list) -> str:
    """Which of ``loadRes``' rules gives a results list its boxes and areas.

    pycocotools' ``COCO.loadRes`` picks one rule for the whole list from its
    first record: ``"box"`` when that record has a non-empty ``bbox`` (each
    result keeps its box, area ``w * h``; detectron2's keypoint and mask
    results carry one); else ``"mask"`` when it has a ``segmentation`` (the
    area is the mask's, and a result without a box gets the mask's,
    ``maskUtils.toBbox``); else ``"keypoints"`` when it has ``keypoints``
    (the box is the keypoints' extent, the area that box's); a list whose
    first record has none of them is read by the box rule, whose missing
    ``bbox`` is then the error.
    """
    first = records[0] if records else None
    if not isinstance(first, dict):
        return "box"
    box = first.get("bbox")
    if "bbox" in first and not (isinstance(box, list) and not box):
        return "box"
    if "segmentation" in first:
        return "mask"
    if "keypoints" in first:
        return "keypoints"
    return "box"


def detections_from_records(
    records: Any, gt: GroundTruth, file: str, iou_type: str = "bbox", rule: str | None = None
) -> Detections:
    """Validate a list of result dicts and build its columns (``iou_type``: as
    :func:`load_detections`; boxes and areas by ``rule``, :func:`results_rule`'s
    reading of ``records`` unless given: records that ``loadRes`` has already
    completed keep the rule of their first reading)."""
    if isinstance(records, np.ndarray):
        raise PrcoreInputError(
            "numpy result arrays are not supported; pass a list of dicts or a path", file=file
        )
    records = _require_list(records, file, None)
    rule = rule or results_rule(records)
    want_keypoints = iou_type == "keypoints" or rule == "keypoints"
    want_masks = iou_type == "segm" or rule == "mask"
    model = _RESULT_MODELS[rule, want_keypoints]
    has_box = None
    try:
        image_id = schema.integer_column([r["image_id"] for r in records])
        category_id = schema.integer_column([r["category_id"] for r in records])
        score = schema.number_column([r["score"] for r in records])
        if rule == "box":
            bbox = schema.box_column([r["bbox"] for r in records])
        elif rule == "mask":  # a result's own box, where it has one
            has_box = np.fromiter(("bbox" in r for r in records), bool, len(records))
            bbox = schema.box_column([r["bbox"] for r in records if "bbox" in r])
        else:
            bbox = None
        kpt = schema.keypoint_column([r["keypoints"] for r in records]) if want_keypoints else None
    except (KeyError, TypeError):
        raise _fail(records, model, file, None) from None
    if (
        image_id is None
        or category_id is None
        or score is None
        or (rule != "keypoints" and (bbox is None or schema.box_error(bbox) is not None))
        or schema.score_error(score) is not None
        or (want_keypoints and (kpt is None or schema.keypoints_error(*kpt, False) is not None))
    ):
        raise _fail(records, model, file, None)
    img, cat = _dense_ids(file, gt, image_id, category_id)
    keypoints = None if kpt is None else Keypoints(kpt[0], kpt[1], np.zeros(len(score), bool))
    area = masks = None
    if rule == "keypoints":
        bbox, area = _keypoint_extent(keypoints)
    if want_masks:
        where = _locator(file, None, image_id, "image_id")
        boxes = bbox if rule == "box" else None
        masks, mask_box = _result_masks(records, img, gt, file, rule, iou_type, boxes, where)
        if rule == "mask":  # loadRes: maskUtils.area, and toBbox where no box is given
            area = masks.area.astype(np.float64)
            mask_box[has_box] = bbox
            bbox = mask_box
    return Detections(
        source=file,
        img=img,
        cat=cat,
        bbox=np.ascontiguousarray(bbox, np.float64),
        score=np.ascontiguousarray(score, np.float64),
        area=bbox[:, 2] * bbox[:, 3] if area is None else area,
        keypoints=keypoints,
        masks=masks,
    )


# The schema's model of one result, by loadRes' rule and whether keypoints are read:
# it finds the first bad record when the columns fail.
_RESULT_MODELS = {
    ("box", False): "DetectionRecord",
    ("box", True): "BoxKeypointDetectionRecord",
    ("mask", False): "MaskDetectionRecord",
    ("mask", True): "MaskKeypointDetectionRecord",
    ("keypoints", True): "KeypointDetectionRecord",
}


def _result_masks(records, img, gt: GroundTruth, file, rule, iou_type, boxes, where):
    """The results' masks (:class:`EncodedMasks`) and, for the mask rule, their boxes.

    As ``COCOeval._prepare`` sees them: a compressed RLE as it is; polygons or
    uncompressed RLE converted at the image's size (``annToRLE``); under the
    box rule a result without a mask is its box (``loadRes`` gives it the
    box's polygon). For a segm evaluation every mask must have its image's
    size; a box evaluation of mask results reads only their areas and boxes,
    each at its own ``size``, as ``loadRes`` does.
    """
    from prcore import _kernels

    n = len(records)
    if rule == "box":
        segs = [r.get("segmentation") for r in records]
    else:
        segs = _segmentations(records, where)
    rows = np.arange(n)
    if all(type(seg) is dict and type(seg.get("counts")) in (str, bytes) for seg in segs):
        sizes = [seg.get("size") for seg in segs]
        flat = None
        if all(isinstance(v, (list, tuple)) and len(v) == 2 for v in sizes):
            flat = schema.integer_column(list(chain.from_iterable(sizes)))
        if flat is None:
            i = next(i for i, v in enumerate(sizes) if schema.rle_shape_error(v) is not None)
            raise where(i, "segmentation", schema.rle_shape_error(sizes[i]))
        if iou_type == "segm":  # each at its image's size
            img_h, img_w = _image_sizes_of(gt, file)
            h, w = img_h[img], img_w[img]
            wrong = (flat[0::2] != h) | (flat[1::2] != w)
        else:  # each at its own size
            h, w = flat[0::2], flat[1::2]
            wrong = (h < 0) | (w < 0) | (h * w >= schema.MASK_PIXEL_LIMIT)
        if wrong.any():
            i = int(np.argmax(wrong))
            problem = (
                schema.rle_size_error(sizes[i], int(h[i]), int(w[i]))
                if iou_type == "segm"
                else schema.rle_shape_error(sizes[i])
            )
            raise where(i, "segmentation", problem)
        strings = [seg["counts"] for seg in segs]
        return _encoded(strings, rows, h, w, where, _kernels, boxes=rule == "mask")
    if iou_type != "segm":
        i = next(i for i, seg in enumerate(segs) if not (
            type(seg) is dict and type(seg.get("counts")) in (str, bytes)))  # fmt: skip
        raise where(
            i,
            "segmentation",
            "a result without a box needs its mask as compressed RLE (pycocotools' loadRes "
            "takes its area and box from it)",
        )
    img_h, img_w = _image_sizes_of(gt, file)
    for i in np.flatnonzero([seg is None for seg in segs]).tolist():
        x1, y1, bw, bh = boxes[i].tolist()
        x2, y2 = x1 + bw, y1 + bh
        segs[i] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
    h, w = img_h[img], img_w[img]
    masks = masks_from_segmentations(segs, h, w, where)
    # as compressed strings, like every result's mask (rleToString)
    buf = np.empty(7 * len(masks.counts), np.uint8)
    str_offsets = np.empty(n + 1, np.int64)
    used = _kernels.rle_to_strings(masks.counts, masks.offsets, buf, str_offsets)
    area = np.empty(n, np.int64)
    _kernels.rle_area(masks.counts, masks.offsets, area)
    encoded = EncodedMasks(buf[:used], str_offsets[:-1].copy(), str_offsets[1:].copy(), h, w, area)
    return encoded, masks.bbox


def _dense_ids(file, gt: GroundTruth, image_id, category_id):
    img, bad = _dense(image_id, gt.img_ids)
    if bad >= 0:
        raise PrcoreInputError(
            f"image_id {int(image_id[bad])} is not in the ground truth's images",
            file=file,
            index=bad,
            record_id=int(image_id[bad]),
            field="image_id",
            id_name="image_id",
        )
    cat, bad = _dense(category_id, gt.cat_ids)
    if bad >= 0:
        raise PrcoreInputError(
            f"category_id {int(category_id[bad])} is not in the ground truth's categories "
            f"(known ids: {_id_summary(gt.cat_ids)}); check the label map",
            file=file,
            index=bad,
            record_id=int(image_id[bad]),
            field="category_id",
            id_name="image_id",
        )
    return img, cat


def _keypoint_extent(kpt: Keypoints) -> tuple[np.ndarray, np.ndarray]:
    """Boxes ``[x0, y0, x1 - x0, y1 - y0]`` and areas ``(x1 - x0) * (y1 - y0)`` of each
    record's keypoints (``loadRes``' keypoints rule; every list holds one at least)."""
    starts = kpt.offsets[:-1] // 3
    xs, ys = kpt.values[0::3], kpt.values[1::3]
    x0, x1 = np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts)
    y0, y1 = np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)
    bbox = np.empty((len(starts), 4), np.float64)
    bbox[:, 0], bbox[:, 1], bbox[:, 2], bbox[:, 3] = x0, y0, x1 - x0, y1 - y0
    return bbox, (x1 - x0) * (y1 - y0)


def _detections_from_columns(
    file, gt: GroundTruth, image_id, category_id, bbox, score, keypoints=None
):
    img, cat = _dense_ids(file, gt, image_id, category_id)
    bbox = np.ascontiguousarray(bbox, np.float64)
    return Detections(
        source=file,
        img=img,
        cat=cat,
        bbox=bbox,
        score=np.ascontiguousarray(score, np.float64),
        area=bbox[:, 2] * bbox[:, 3],
        keypoints=keypoints,
    )


def _id_summary(ids: np.ndarray) -> str:
    if len(ids) <= 12:
        return ", ".join(map(str, ids.tolist()))
    return f"{ids[0]}..{ids[-1]}, {len(ids)} in all"
