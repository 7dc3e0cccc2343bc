"""Fast path from a COCO instances file's bytes to numpy columns.

:func:`scan_ground_truth` reads the fields COCO evaluation uses (image ids,
category ids and names, and each annotation's ``id``, ``image_id``,
``category_id``, ``bbox``, ``area``, ``iscrowd`` and ``ignore``; asked for
them, ``keypoints`` and ``num_keypoints``, or ``segmentation`` and the images'
sizes) in one byte-level pass, skipping every other key without building
Python objects. On every file it accepts, its columns are bit-identical to
what ``json.loads`` followed by numpy conversion gives. It returns ``None``
whenever it is not sure (missing sections or fields, unusual types, duplicate
keys, escaped keys that might be its own, NaN, malformed JSON, ...); the
caller then parses the file in full and validates it record by record, which
also yields the precise error. It reads syntax only: the values' rules
(:mod:`prcore.io.schema`) and the ids' (:mod:`prcore.io.load`) are the
caller's to apply to the columns.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import numpy as np

from prcore._kernels import scan_ground_truth_kernel
from prcore._kernels.scan_constants import (
    FALLBACK_FULL,
    OK,
    checked_mode,
    new_stack,
    settle_undecided,
    tables,
)

# Lower bounds on the bytes one record takes, comma included: {"id":0}, and
# {"id":0,"image_id":0,"category_id":0,"bbox":[0,0,0,0],"area":0}.
_MIN_ID_RECORD_BYTES = 9
_MIN_ANNOTATION_BYTES = 60


@dataclass(frozen=True, eq=False)
class GroundTruthColumns:
    """The raw columns of a COCO instances file, each section in file order.

    Attributes
    ----------
    image_id : int64 (I,)
        The ``id`` of each entry of ``images``.
    cat_id : int64 (C,)
        The ``id`` of each entry of ``categories``.
    cat_name : tuple of str (C,)
        Its ``name``; ``""`` where absent.
    ann_id, ann_image_id, ann_category_id : int64 (G,)
    bbox : float64 (G, 4)
        ``[x, y, width, height]``, as written.
    area : float64 (G,)
        As written.
    iscrowd : int64 (G,)
        As written (``true``/``false`` -> 1/0; absent -> 0).
    ignore : int8 (G,)
        -1 where absent or ``null``, else 0 or 1.
    keypoints : float64 (K,) or None
        Every annotation's ``keypoints`` one after the other (``keypoints=True``).
    keypoint_offsets : int64 (G + 1,) or None
        Annotation ``i``'s are ``keypoints[keypoint_offsets[i]:keypoint_offsets[i + 1]]``.
    keypoints_missing : bool (G,) or None
        The annotations without ``keypoints`` (their list is empty).
    num_keypoints : float64 (G,) or None
        As written; NaN where absent.
    image_size : int64 (I, 2) or None
        Each image's ``height`` and ``width`` (``segmentation=True``).
    seg_values : float64 (S,) or None
        Every segmentation's numbers one after the other (``segmentation=True``):
        polygons' coordinates, uncompressed RLE's runs.
    seg_part_offsets : int64 (P + 1,) or None
        Part ``j`` (a polygon, or one RLE's runs) is
        ``seg_values[seg_part_offsets[j]:seg_part_offsets[j + 1]]``.
    seg_parts : int64 (G + 1,) or None
        Annotation ``i``'s parts are ``seg_parts[i]:seg_parts[i + 1]``.
    seg_kind : int8 (G,) or None
        ``SEG_POLYGONS`` or ``SEG_RUNS`` (one part, the runs).
    seg_size : int64 (G, 2) or None
        An RLE's ``size``, for ``SEG_RUNS`` rows only.
    """

    image_id: np.ndarray
    cat_id: np.ndarray
    cat_name: tuple[str, ...]
    ann_id: np.ndarray
    ann_image_id: np.ndarray
    ann_category_id: np.ndarray
    bbox: np.ndarray
    area: np.ndarray
    iscrowd: np.ndarray
    ignore: np.ndarray
    keypoints: np.ndarray | None = None
    keypoint_offsets: np.ndarray | None = None
    keypoints_missing: np.ndarray | None = None
    num_keypoints: np.ndarray | None = None
    image_size: np.ndarray | None = None
    seg_values: np.ndarray | None = None
    seg_part_offsets: np.ndarray | None = None
    seg_parts: np.ndarray | None = None
    seg_kind: np.ndarray | None = None
    seg_size: np.ndarray | None = None


def scan_ground_truth(
    data: bytes | bytearray | memoryview, *, keypoints: bool = False, segmentation: bool = False
) -> GroundTruthColumns | None:
    """Columns of a COCO instances JSON document, or None when not sure.

    Parameters
    ----------
    data : bytes-like
        The whole file, UTF-8 (an initial byte-order mark is allowed, as
        ``json.loads`` allows it for bytes).
    keypoints : bool
        Also read each annotation's ``keypoints`` (an array of JSON numbers)
        and ``num_keypoints`` (a JSON number), either of which may be absent
        (``null``: None, for the full parser).
    segmentation : bool
        Also read each annotation's ``segmentation`` (which each must have):
        polygons (a non-empty array of arrays of JSON numbers) or an
        uncompressed RLE (``{"size": [int, int], "counts": [numbers]}``, no
        other key); and each image's integer ``height`` and ``width``.
        Compressed RLE (``counts`` a string) is None, for the full parser.
        Not with ``keypoints``.

    Returns
    -------
    GroundTruthColumns or None
        None unless the document is an object with ``images``,
        ``annotations`` and ``categories`` arrays of objects (an image-info
        file, without ``annotations``, is for the full parser), where each
        image and category has an integer ``id`` (within int64), each
        category's ``name``, if present, is a string, and each
        annotation has integer ``id``, ``image_id`` and ``category_id``, a
        ``bbox`` of four numbers, a number ``area``, and, if present, an
        ``iscrowd`` that is an integer, true or false and an ``ignore`` that
        is 0, 1, true, false or null.
        No key may repeat among those read, nor be written with escapes that
        might spell one of them. Other keys may hold any valid JSON except
        NaN/Infinity. Numbers too large for a double come back as
        infinities, as ``float()`` gives them.
    """
    if sys.byteorder != "little":
        return None  # the kernel reads 8 bytes at a time as little-endian words
    buf = np.frombuffer(data, dtype=np.uint8)
    buf.flags.writeable = False  # one kernel signature for bytes and bytearray alike
    id_cap = buf.shape[0] // _MIN_ID_RECORD_BYTES + 1
    cap = buf.shape[0] // _MIN_ANNOTATION_BYTES + 1
    # np.empty maps pages lazily: only the rows actually written cost memory.
    img_id = np.empty(id_cap, np.int64)
    cat_id = np.empty(id_cap, np.int64)
    name_start = np.empty(id_cap, np.int64)
    name_end = np.empty(id_cap, np.int64)
    name_kind = np.empty(id_cap, np.int8)
    ann_id = np.empty(cap, np.int64)
    ann_img = np.empty(cap, np.int64)
    ann_cat = np.empty(cap, np.int64)
    bbox = np.empty((cap, 4), np.float64)
    area = np.empty(cap, np.float64)
    crowd = np.empty(cap, np.int64)
    ignore = np.empty(cap, np.int8)
    if keypoints:  # a number and its comma take two bytes at least
        kpt = np.empty(buf.shape[0] // 2 + 1, np.float64)
        kpt_columns = (np.empty(cap + 1, np.int64), np.empty(cap, np.bool_), np.empty(cap))
    else:
        kpt = np.empty(0, np.float64)
        kpt_columns = (np.empty(0, np.int64), np.empty(0, np.bool_), np.empty(0))
    if keypoints and segmentation:
        raise ValueError("keypoints or segmentation, not both")
    if segmentation:  # as many numbers and parts as keypoints' numbers at most
        img_size = np.empty((id_cap, 2), np.int64)
        seg = np.empty(buf.shape[0] // 2 + 1, np.float64)
        seg_columns = (
            np.empty(buf.shape[0] // 2 + 1, np.int64),
            np.empty(cap + 1, np.int64),
            np.empty(cap, np.int8),
            np.empty((cap, 2), np.int64),
        )
    else:
        img_size = np.empty((0, 2), np.int64)
        seg = np.empty(0, np.float64)
        seg_columns = (
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.int8),
            np.empty((0, 2), np.int64),
        )
    kernel = _kernel()
    fb_cap = 1024 + cap // 64
    while True:
        fb_slot, fb_start, fb_end = (np.empty(fb_cap, np.int64) for _ in range(3))
        status, n_img, n_cat, n_ann, n_fb = kernel(
            buf,
            tables(),
            img_id,
            cat_id,
            name_start,
            name_end,
            name_kind,
            ann_id,
            ann_img,
            ann_cat,
            bbox,
            area,
            crowd,
            ignore,
            kpt,
            *kpt_columns,
            keypoints,
            img_size,
            seg,
            *seg_columns,
            segmentation,
            fb_slot,
            fb_start,
            fb_end,
            new_stack(),
        )
        if status != FALLBACK_FULL:
            break
        # every number undecided: the most there can be
        fb_cap = 6 * cap + kpt.shape[0] + seg.shape[0]
    if status != OK:
        return None
    view = memoryview(data).cast("B")
    slots, starts, ends = fb_slot[:n_fb], fb_start[:n_fb], fb_end[:n_fb]
    extra = {}
    if keypoints:
        offsets, missing, count = kpt_columns
        # the keypoints' and num_keypoints' numbers; the others a box's or an area's
        for column, first, last in ((count, 5 * cap, 6 * cap), (kpt, 6 * cap, None)):
            mine = (slots >= first) if last is None else (slots >= first) & (slots < last)
            settle_undecided(view, 0, column, column, slots[mine] - first, starts[mine], ends[mine])
        rest = slots < 5 * cap
        slots, starts, ends = slots[rest], starts[rest], ends[rest]
        k = int(offsets[n_ann])
        extra = dict(
            keypoints=kpt[:k],
            keypoint_offsets=offsets[: n_ann + 1],
            keypoints_missing=missing[:n_ann],
            num_keypoints=count[:n_ann],
        )
    if segmentation:
        part_end, parts, kind, size = seg_columns
        mine = slots >= 6 * cap  # the segmentations' numbers
        settle_undecided(view, 0, seg, seg, slots[mine] - 6 * cap, starts[mine], ends[mine])
        slots, starts, ends = slots[~mine], starts[~mine], ends[~mine]
        n_parts = int(parts[n_ann])
        part_offsets = np.zeros(n_parts + 1, np.int64)
        part_offsets[1:] = part_end[:n_parts]
        extra = dict(
            image_size=img_size[:n_img].copy(),
            seg_values=seg[: part_offsets[-1]],
            seg_part_offsets=part_offsets,
            seg_parts=parts[: n_ann + 1],
            seg_kind=kind[:n_ann],
            seg_size=size[:n_ann],
        )
    settle_undecided(view, cap, bbox.reshape(-1), area, slots, starts, ends)
    names = _names(view, name_start[:n_cat], name_end[:n_cat], name_kind[:n_cat])
    if names is None:
        return None
    return GroundTruthColumns(
        image_id=img_id[:n_img].copy(),
        cat_id=cat_id[:n_cat].copy(),
        cat_name=names,
        ann_id=ann_id[:n_ann],
        ann_image_id=ann_img[:n_ann],
        ann_category_id=ann_cat[:n_ann],
        bbox=bbox[:n_ann],
        area=area[:n_ann],
        iscrowd=crowd[:n_ann],
        ignore=ignore[:n_ann],
        **extra,
    )


def _names(view: memoryview, starts, ends, kinds) -> tuple[str, ...] | None:
    """Decode category names; json.loads for those written with escapes."""
    names = []
    for s, e, kind in zip(starts.tolist(), ends.tolist(), kinds.tolist()):
        if kind == 0:
            names.append("")
        elif kind == 1:
            names.append(str(view[s:e], "utf-8"))  # the kernel checked it is valid UTF-8
        else:
            name = json.loads(bytes(view[s - 1 : e + 1]))
            if not isinstance(name, str):
                return None
            names.append(name)
    return tuple(names)


def _kernel():
    """The ground-truth kernel's handle, or its bounds-checked variant (tests)."""
    if checked_mode():
        from prcore._kernels.coco_scan import scan_ground_truth_kernel_checked

        return scan_ground_truth_kernel_checked
    return scan_ground_truth_kernel
