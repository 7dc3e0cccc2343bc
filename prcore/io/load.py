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
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    results without one, the keypoints' extent and its area. ``keypoints``
    (:class:`Keypoints`) is there for keypoint evaluation and keypoint
    results, else None.
    """

    source: str
    img: np.ndarray
    cat: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    area: np.ndarray
    keypoints: Keypoints | None = field(default=None, repr=False)

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
            # The byte scanner reads the box columns only.
            scanned = _scan_ground_truth(data, file) if iou_type == "bbox" else None
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
    return ground_truth_from_dict(obj, file, iou_type)


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

    extra = {}
    if iou_type == "keypoints":
        extra["keypoints"], extra["num_keypoints"] = _ground_truth_keypoints(anns, file)
    return _ground_truth_from_columns(
        file, img_file_ids, cat_file_ids, raw_names, annotation_columns, dataset=obj, **extra
    )


def _ground_truth_from_columns(
    file: str,
    img_file_ids: np.ndarray,
    cat_file_ids: np.ndarray,
    raw_names: list[str] | tuple[str, ...],
    annotation_columns: Callable[[], tuple],
    dataset: dict | None,
    **extra,
) -> GroundTruth:
    """The semantic checks shared by the dict and the byte-scan paths.

    ``annotation_columns`` is called after the image and category checks, so
    that errors come in the same order whatever the path. It returns
    ``(ann_id, image_id, category_id, bbox, area, crowd, ignore)``, where
    ``ignore`` is a list of raw values (None when absent) or an int8 array
    (-1 when absent).
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


def _scan_ground_truth(data: bytes | mmap.mmap, file: str) -> GroundTruth | None:
    """The byte-level numba scanner's columns, when it can read this file.

    None (parse in full) when the scanner declines, or when the annotation
    columns break the schema's rules: the record-by-record validation then
    finds the located error.
    """
    try:
        from prcore.io.coco_scan import scan_ground_truth
    except ImportError:
        return None
    cols = scan_ground_truth(data)
    if cols is None:
        return None
    bbox, area = cols.bbox, cols.area
    if schema.annotation_error(bbox, area, cols.iscrowd) is not None:
        return None
    crowd = cols.iscrowd.astype(bool)
    ann = (cols.ann_id, cols.ann_image_id, cols.ann_category_id, bbox, area, crowd, cols.ignore)
    return _ground_truth_from_columns(
        file, cols.image_id, cols.cat_id, cols.cat_name, lambda: ann, dataset=None
    )


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


def load_detections(dt: Any, gt: GroundTruth, iou_type: str = "bbox") -> Detections:
    """Detections from a path, a list of dicts, or :class:`Detections`.

    ``iou_type`` says which columns to load beyond the boxes: ``"keypoints"``
    adds :attr:`Detections.keypoints`.
    """
    if isinstance(dt, Detections):
        return dt
    if isinstance(dt, (str, os.PathLike)):
        file = os.fspath(dt)
        with _file_bytes(file) as data:
            # The byte scanner reads boxes only, and declines a record without one.
            cols = _scan(data) if iou_type == "bbox" else None
            raw = None if cols is not None else _bytes_of(data, file)
        if cols is not None:
            return _detections_from_columns(file, gt, *cols)
        records = parse_json(raw, file)
    else:
        file = "<detections>"
        records = dt
    return detections_from_records(records, gt, file, iou_type)


def _scan(data: bytes | mmap.mmap):
    """The byte-level numba scanner's columns, when it can read this file.

    None (parse in full) when the scanner declines, or when the columns break
    the schema's rules: the record-by-record validation then finds the located
    error.
    """
    try:
        from prcore.io.results_scan import scan_results
    except ImportError:
        return None
    cols = scan_results(data)
    if cols is None or schema.detection_error(cols.bbox, cols.score) is not None:
        return None
    return cols.image_id, cols.category_id, cols.bbox, cols.score


def results_rule(records: list) -> str:
    """Which of ``loadRes``' rules gives a results list its boxes and areas.

    pycocotools' ``COCO.loadRes`` picks one rule for the whole list from its
    first record: ``"box"`` when that record has a non-empty ``bbox`` (each
    result keeps its box, area ``w * h``; detectron2's keypoint and mask
    results carry one); else ``"keypoints"`` when it has ``keypoints`` (the
    box is the keypoints' extent, the area that box's); a list whose first
    record has neither is read by the box rule, whose missing ``bbox`` is
    then the error.
    """
    first = records[0] if records else None
    if not isinstance(first, dict):
        return "box"
    box = first.get("bbox")
    if "bbox" in first and not (isinstance(box, list) and not box):
        return "box"
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
    if rule == "keypoints":
        model = "KeypointDetectionRecord"
    else:
        model = "BoxKeypointDetectionRecord" if want_keypoints else "DetectionRecord"
    try:
        image_id = schema.integer_column([r["image_id"] for r in records])
        category_id = schema.integer_column([r["category_id"] for r in records])
        score = schema.number_column([r["score"] for r in records])
        bbox = schema.box_column([r["bbox"] for r in records]) if rule == "box" else None
        kpt = schema.keypoint_column([r["keypoints"] for r in records]) if want_keypoints else None
    except (KeyError, TypeError):
        raise _fail(records, model, file, None) from None
    if (
        image_id is None
        or category_id is None
        or score is None
        or (rule == "box" and (bbox is None or schema.box_error(bbox) is not None))
        or schema.score_error(score) is not None
        or (want_keypoints and (kpt is None or schema.keypoints_error(*kpt, False) is not None))
    ):
        raise _fail(records, model, file, None)
    keypoints = None if kpt is None else Keypoints(kpt[0], kpt[1], np.zeros(len(score), bool))
    area = None
    if rule == "keypoints":
        bbox, area = _keypoint_extent(keypoints)
    return _detections_from_columns(
        file, gt, image_id, category_id, bbox, score, area=area, keypoints=keypoints
    )


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
    file, gt: GroundTruth, image_id, category_id, bbox, score, area=None, keypoints=None
):
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
    bbox = np.ascontiguousarray(bbox, np.float64)
    return Detections(
        source=file,
        img=img,
        cat=cat,
        bbox=bbox,
        score=np.ascontiguousarray(score, np.float64),
        area=bbox[:, 2] * bbox[:, 3] if area is None else area,
        keypoints=keypoints,
    )


def _id_summary(ids: np.ndarray) -> str:
    if len(ids) <= 12:
        return ", ".join(map(str, ids.tolist()))
    return f"{ids[0]}..{ids[-1]}, {len(ids)} in all"
