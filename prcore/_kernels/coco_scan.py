"""Byte-level scan of a COCO instances (ground-truth) file into columns.

One pass over the UTF-8 bytes of ``{"images": [...], "annotations": [...],
"categories": [...], ...}`` writes the fields pycocotools' ``COCOeval`` reads
(``cocoeval.py``: ``_prepare`` / ``evaluateImg`` use image ``id``, category
``id``, and annotation ``id``, ``image_id``, ``category_id``, ``bbox``,
``area``, ``iscrowd``, ``ignore``; asked for them, also ``keypoints`` and
``num_keypoints``, which ``computeOks`` and ``_prepare`` read, or each
annotation's ``segmentation`` and each image's ``height`` and ``width``,
which ``COCO.annToRLE`` reads) straight into arrays, and skips everything else
(``info``, ``licenses``, ``file_name``, ...) with a validating skipper. It mirrors ``json.loads`` (pycocotools' ``COCO.__init__``
starts with ``json.load``) bit for bit and gives up (status ``REJECT``) on
anything it is not sure about, so that the caller can fall back to the full
parser and its located error messages. It reads the document's syntax only:
whether the values are valid (finite, sizes ``>= 0``, ids known) is for
:mod:`prcore.io.schema` and :mod:`prcore.io.load` to say, on the columns.

The tokenizer, the number conversion and the pointers are
:mod:`prcore._kernels.json_tokens`', shared with the results scanner.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit
from prcore._kernels.json_tokens import (
    UNDECIDED_FULL,
    address,
    after_value,
    bounded,
    document_start,
    key_constant,
    literal,
    load_u8,
    object_key,
    pointer_like,
    read_box,
    read_int,
    read_number,
    read_numbers,
    skip_string,
    skip_value,
    skip_ws,
    table_pointers,
    undecided_pointers,
)
from prcore._kernels.scan_constants import (  # this kernel's status codes
    FALLBACK_FULL,
    MAX_DEPTH,
    OK,
    REJECT,
    SEG_POLYGONS,
    SEG_RUNS,
)

# numba's cache keys a kernel on the text of its own file only: this digest of the
# files the kernels here compile in (json_tokens.py, scan_constants.py) makes an edit
# there recompile them too. tests/test_coco_scan.py checks that it is current.
TOKENIZER_DIGEST = "812d6449bbd439a0"

# What a section scanner returns instead of a position.
_POS_REJECT = -1
_POS_FALLBACK_FULL = -2

# Keys as json_tokens.key_words gives them: (first 8 bytes, next 8 bytes).
_K_ID = key_constant(b"id")
_K_IMAGE_ID = key_constant(b"image_id")
_K_CATEGORY_ID = key_constant(b"category_id")
_K_BBOX = key_constant(b"bbox")
_K_AREA = key_constant(b"area")
_K_ISCROWD = key_constant(b"iscrowd")
_K_IGNORE = key_constant(b"ignore")
_K_KEYPOINTS = key_constant(b"keypoints")
_K_NUM_KEYPOINTS = key_constant(b"num_keypoints")
_K_SEGMENTATION = key_constant(b"segmentation")
_K_SIZE = key_constant(b"size")
_K_COUNTS = key_constant(b"counts")
_K_HEIGHT = key_constant(b"height")
_K_WIDTH = key_constant(b"width")
_K_NAME = key_constant(b"name")
_K_IMAGES = key_constant(b"images")
_K_ANNOTATIONS = key_constant(b"annotations")
_K_CATEGORIES = key_constant(b"categories")

# Field bits of an annotation record.
_A_ID = 1
_A_IMG = 2
_A_CAT = 4
_A_BOX = 8
_A_AREA = 16
_A_REQUIRED = 31
_A_CROWD = 32
_A_IGNORE = 64
_A_KPT = 128  # keypoints and num_keypoints: read only when asked for
_A_NUM_KPT = 256
_A_SEG = 512  # segmentation: read only when asked for

# Top-level sections.
_S_IMAGES = 1
_S_ANNOTATIONS = 2
_S_CATEGORIES = 4
_S_ALL = 7


@jit(inline="always")
def _is(lo, hi, key):
    return lo == key[0] and hi == key[1]


@jit
def _int_or_bool(src, pos, n, pow10_int, allow_null):
    """An integer within int64, ``true`` / ``false`` (1 / 0) or, if allowed, ``null`` (-1).

    Returns (end, value); end < 0 for anything else.
    """
    c = load_u8(src, pos)
    if c == 116 or c == 102 or c == 110:
        return literal(src, pos, n, allow_null)
    end, ok, v = read_int(src, pos, n, pow10_int)
    if not ok:
        return -1, 0
    return end, v


@jit
def _scan_ids(
    src, pos, n, stack, pow10_int, ids, name_start, name_end, name_kind, with_names,
    sizes, with_sizes,
):  # fmt: skip
    """An array of ``{"id": int, ...}`` records (images, or categories with names).

    Returns (end position or ``_POS_REJECT``, count). For categories,
    ``name_kind`` is 0 (no name), 1 (plain) or 2 (written with escapes), and
    the name's bytes, quotes excluded, are ``name_start .. name_end``. For
    images ``with_sizes``, each one's integer ``height`` and ``width`` go to
    ``sizes`` (an image without both is ``_POS_REJECT``).
    """
    cap = ids.shape[0]
    if load_u8(src, pos) != 91:
        return _POS_REJECT, 0
    pos = skip_ws(src, pos + 1, n)
    if pos < n and load_u8(src, pos) == 93:
        return pos + 1, 0
    count = 0
    while True:
        if pos >= n or load_u8(src, pos) != 123 or count >= cap:
            return _POS_REJECT, count
        pos = skip_ws(src, pos + 1, n)
        got_id = False
        got_size = 0
        if with_names:
            name_kind[count] = 0
        while True:
            pos, lo, hi, ok = object_key(src, pos, n)
            if not ok:
                return _POS_REJECT, count  # also {}: it lacks the id
            if _is(lo, hi, _K_ID):
                if got_id:
                    return _POS_REJECT, count
                got_id = True
                pos, ok, v = read_int(src, pos, n, pow10_int)
                if not ok:
                    return _POS_REJECT, count
                ids[count] = v
            elif with_sizes and (_is(lo, hi, _K_HEIGHT) or _is(lo, hi, _K_WIDTH)):
                side = 0 if _is(lo, hi, _K_HEIGHT) else 1
                if got_size & (1 << side):
                    return _POS_REJECT, count
                got_size |= 1 << side
                pos, ok, v = read_int(src, pos, n, pow10_int)
                if not ok:
                    return _POS_REJECT, count
                sizes[count, side] = v
            elif with_names and _is(lo, hi, _K_NAME):
                if name_kind[count] != 0 or load_u8(src, pos) != 34:
                    return _POS_REJECT, count
                end, escaped = skip_string(src, pos + 1, n)
                if end < 0:
                    return _POS_REJECT, count
                name_start[count] = pos + 1
                name_end[count] = end - 1
                name_kind[count] = 2 if escaped else 1
                pos = end
            else:
                pos = skip_value(src, pos, n, stack)
                if pos < 0:
                    return _POS_REJECT, count
            pos, more = after_value(src, pos, n, 125)
            if more < 0:
                return _POS_REJECT, count
            if more == 0:
                break
        if not got_id or (with_sizes and got_size != 3):
            return _POS_REJECT, count
        count += 1
        pos, more = after_value(src, pos, n, 93)
        if more < 0:
            return _POS_REJECT, count
        if more == 0:
            return pos, count


@jit(inline="always")
def _annotation_field(lo, hi, with_kpt, with_seg):
    """The field bit of an annotation key, or 0 for a key the scan skips."""
    if _is(lo, hi, _K_ID):
        return _A_ID
    if _is(lo, hi, _K_IMAGE_ID):
        return _A_IMG
    if _is(lo, hi, _K_CATEGORY_ID):
        return _A_CAT
    if _is(lo, hi, _K_BBOX):
        return _A_BOX
    if _is(lo, hi, _K_AREA):
        return _A_AREA
    if _is(lo, hi, _K_ISCROWD):
        return _A_CROWD
    if _is(lo, hi, _K_IGNORE):
        return _A_IGNORE
    if with_kpt and _is(lo, hi, _K_KEYPOINTS):
        return _A_KPT
    if with_kpt and _is(lo, hi, _K_NUM_KEYPOINTS):
        return _A_NUM_KPT
    if with_seg and _is(lo, hi, _K_SEGMENTATION):
        return _A_SEG
    return 0


@jit
def _read_size(src, pos, n, pow10_int, seg_size, row):
    """``[height, width]`` (two integers) at pos into ``seg_size[row]`` -> end, or -1."""
    if load_u8(src, pos) != 91:
        return -1
    pos = skip_ws(src, pos + 1, n)
    for side in range(2):
        if pos >= n:
            return -1
        pos, ok, v = read_int(src, pos, n, pow10_int)
        if not ok:
            return -1
        seg_size[row, side] = v
        pos, more = after_value(src, pos, n, 93)
        if more != (1 if side == 0 else 0):
            return -1
    return pos


@jit
def _read_segmentation(
    src, pos, n, t, values, vcap, k, part_end, pcap, p, seg_kind, seg_size, row, slot_base,
    fb, fb_cap, n_fb,
):  # fmt: skip
    """An annotation's ``segmentation`` at pos -> (end, k, p, n_fb); end < 0 when not sure.

    Polygons ``[[x0, y0, ...], ...]`` (``seg_kind`` ``SEG_POLYGONS``): each
    part's numbers go to ``values`` from ``k`` on and the part's end to
    ``part_end[p]``. Uncompressed RLE ``{"size": [h, w], "counts": [runs]}``
    (``SEG_RUNS``, no other key): the runs are one part, the size goes to
    ``seg_size[row]``. Anything else (``[]``, ``null``, compressed RLE, other
    keys) is ``-1``: the full parser's, which names what is wrong.
    """
    c = load_u8(src, pos)
    if c == 91:
        seg_kind[row] = SEG_POLYGONS
        pos = skip_ws(src, pos + 1, n)
        if pos >= n or load_u8(src, pos) == 93:
            return -1, k, p, n_fb  # an empty list: the full parser's error
        while True:
            if pos >= n or load_u8(src, pos) != 91 or p >= pcap:
                return -1, k, p, n_fb
            pos, k, n_fb = read_numbers(
                src, pos, n, t, values, vcap, k, slot_base, fb, fb_cap, n_fb
            )
            if pos < 0:
                return pos, k, p, n_fb
            part_end[p] = k
            p += 1
            pos, more = after_value(src, pos, n, 93)
            if more < 0:
                return -1, k, p, n_fb
            if more == 0:
                return pos, k, p, n_fb
    if c != 123 or p >= pcap:
        return -1, k, p, n_fb
    seg_kind[row] = SEG_RUNS
    pos = skip_ws(src, pos + 1, n)
    seen = 0
    while True:
        pos, lo, hi, ok = object_key(src, pos, n)
        if not ok:
            return -1, k, p, n_fb
        if _is(lo, hi, _K_SIZE) and not seen & 1:
            seen |= 1
            pos = _read_size(src, pos, n, t[5], seg_size, row)
        elif _is(lo, hi, _K_COUNTS) and not seen & 2:
            seen |= 2  # a string (compressed RLE) is not read here: the full parser's
            pos, k, n_fb = read_numbers(
                src, pos, n, t, values, vcap, k, slot_base, fb, fb_cap, n_fb
            )
        else:
            return -1, k, p, n_fb  # a repeated or other key
        if pos < 0:
            return pos, k, p, n_fb
        pos, more = after_value(src, pos, n, 125)
        if more < 0:
            return -1, k, p, n_fb
        if more == 0:
            break
    if seen != 3:
        return -1, k, p, n_fb
    part_end[p] = k
    return pos, k, p + 1, n_fb


@jit
def _scan_annotations(
    src, pos, n, stack, t, ann_id, ann_img, ann_cat, bbox, area, crowd, ignore,
    kpt, kpt_offsets, kpt_missing, num_kpt, with_kpt, seg, seg_part_end, seg_parts, seg_kind,
    seg_size, with_seg, fb, fb_cap, n_fb,
):  # fmt: skip
    """The annotations array -> (end position or ``_POS_*``, count, n_fb).

    Undecided numbers are recorded like the results scanner's: slot
    ``i < 4 * cap`` is ``bbox.flat[i]``, ``i < 5 * cap`` is ``area[i - 4 * cap]``,
    ``i < 6 * cap`` is ``num_kpt[i - 5 * cap]``, otherwise ``kpt[i - 6 * cap]``
    (or, reading segmentations, ``seg[i - 6 * cap]``).
    """
    cap = ann_id.shape[0]
    boxes = pointer_like(bbox, src)
    kvalues = pointer_like(kpt, src)
    kcap = kpt.shape[0]
    k = 0
    svalues = pointer_like(seg, src)
    scap = seg.shape[0]
    pcap = seg_part_end.shape[0]
    s = 0
    p = 0
    pow10_int = t[5]
    if with_kpt:
        kpt_offsets[0] = 0
    if with_seg:
        seg_parts[0] = 0
    if load_u8(src, pos) != 91:
        return _POS_REJECT, 0, n_fb
    pos = skip_ws(src, pos + 1, n)
    if pos < n and load_u8(src, pos) == 93:
        return pos + 1, 0, n_fb
    count = 0
    while True:
        if pos >= n or load_u8(src, pos) != 123 or count >= cap:
            return _POS_REJECT, count, n_fb
        pos = skip_ws(src, pos + 1, n)
        seen = 0
        crowd[count] = 0
        ignore[count] = -1
        if with_kpt:
            kpt_missing[count] = True
            num_kpt[count] = np.nan
        while True:
            pos, lo, hi, ok = object_key(src, pos, n)
            if not ok:
                return _POS_REJECT, count, n_fb
            field = _annotation_field(lo, hi, with_kpt, with_seg)
            if field == 0:
                pos = skip_value(src, pos, n, stack)
            else:
                if seen & field:
                    return _POS_REJECT, count, n_fb  # duplicate key
                seen |= field
                if field <= _A_CAT:
                    pos, ok, v = read_int(src, pos, n, pow10_int)
                    if not ok:
                        return _POS_REJECT, count, n_fb
                    if field == _A_ID:
                        ann_id[count] = v
                    elif field == _A_IMG:
                        ann_img[count] = v
                    else:
                        ann_cat[count] = v
                elif field == _A_AREA:
                    pos, f, n_fb = read_number(src, pos, n, t, 4 * cap + count, fb, fb_cap, n_fb)
                    area[count] = f
                elif field == _A_BOX:
                    pos, n_fb = read_box(src, pos, n, t, boxes, count, fb, fb_cap, n_fb)
                elif field == _A_CROWD:
                    pos, v = _int_or_bool(src, pos, n, pow10_int, False)
                    crowd[count] = v
                elif field == _A_KPT:  # null, which reads as absent, is the full parser's
                    kpt_missing[count] = False
                    pos, k, n_fb = read_numbers(
                        src, pos, n, t, kvalues, kcap, k, 6 * cap, fb, fb_cap, n_fb
                    )
                elif field == _A_SEG:
                    pos, s, p, n_fb = _read_segmentation(
                        src, pos, n, t, svalues, scap, s, seg_part_end, pcap, p, seg_kind,
                        seg_size, count, 6 * cap, fb, fb_cap, n_fb,
                    )  # fmt: skip
                elif field == _A_NUM_KPT:
                    pos, f, n_fb = read_number(src, pos, n, t, 5 * cap + count, fb, fb_cap, n_fb)
                    num_kpt[count] = f
                else:
                    null = load_u8(src, pos) == 110
                    pos, v = _int_or_bool(src, pos, n, pow10_int, True)
                    if not null and v != 0 and v != 1:
                        pos = -1  # -1 in the column means null: other values are the full parser's
                    ignore[count] = v
            if pos == UNDECIDED_FULL:
                return _POS_FALLBACK_FULL, count, n_fb
            if pos < 0:
                return _POS_REJECT, count, n_fb
            pos, more = after_value(src, pos, n, 125)
            if more < 0:
                return _POS_REJECT, count, n_fb
            if more == 0:
                break
        if (seen & _A_REQUIRED) != _A_REQUIRED or (with_seg and not seen & _A_SEG):
            return _POS_REJECT, count, n_fb
        count += 1
        if with_kpt:
            kpt_offsets[count] = k
        if with_seg:
            seg_parts[count] = p
        pos, more = after_value(src, pos, n, 93)
        if more < 0:
            return _POS_REJECT, count, n_fb
        if more == 0:
            return pos, count, n_fb


@jit
def scan_ground_truth_kernel(
    buf, tables, img_id, cat_id, name_start, name_end, name_kind, ann_id, ann_img, ann_cat,
    bbox, area, crowd, ignore, kpt, kpt_offsets, kpt_missing, num_kpt, with_kpt, img_size,
    seg, seg_part_end, seg_parts, seg_kind, seg_size, with_seg, fb_slot, fb_start, fb_end, stack,
):  # fmt: skip
    """Scan a COCO instances file's bytes into caller-allocated columns.

    Parameters
    ----------
    buf : uint8 (L,)
        The file's bytes.
    tables : tuple
        From :func:`prcore._kernels.scan_constants.power_tables`.
    img_id : int64 (icap,)
        The ``id`` of each image.
    cat_id, name_start, name_end : int64 (ccap,)
        The ``id`` of each category and the byte span of its ``name``.
    name_kind : int8 (ccap,)
        0 no name, 1 plain name, 2 name written with escapes.
    ann_id, ann_img, ann_cat : int64 (acap,)
        ``id``, ``image_id``, ``category_id`` of each annotation.
    bbox : float64 (acap, 4)
        As written.
    area : float64 (acap,)
        As written.
    crowd : int64 (acap,)
        ``iscrowd``, an integer as written (``true``/``false``: 1/0; absent: 0).
    ignore : int8 (acap,)
        ``ignore``: -1 absent or null, else 0/1 (other values: ``REJECT``).
    kpt : float64 (kcap,)
        With ``with_kpt``, every annotation's ``keypoints`` numbers one after
        the other (the kernel rejects a file with more than ``kcap``); unused
        otherwise (any length).
    kpt_offsets : int64 (acap + 1,)
        With ``with_kpt``, annotation ``i``'s are ``kpt[kpt_offsets[i]:kpt_offsets[i + 1]]``.
    kpt_missing : bool (acap,)
        With ``with_kpt``, whether annotation ``i`` has no ``keypoints``
        (``null`` is ``REJECT``, for the full parser).
    num_kpt : float64 (acap,)
        With ``with_kpt``, ``num_keypoints`` as written, NaN where absent
        (``null``: ``REJECT``).
    with_kpt : bool
        Read ``keypoints`` and ``num_keypoints``; otherwise they are skipped.
    img_size : int64 (icap, 2)
        With ``with_seg``, each image's ``height`` and ``width`` (integers; an
        image without both is ``REJECT``); unused otherwise.
    seg : float64 (scap,)
        With ``with_seg``, every annotation's segmentation numbers one after
        the other: each polygon's coordinates, or an uncompressed RLE's runs
        (``REJECT`` when more than ``scap``).
    seg_part_end : int64 (pcap,)
        Where each part (a polygon, or one RLE's runs) ends in ``seg``.
    seg_parts : int64 (acap + 1,)
        Annotation ``i``'s parts are ``seg_parts[i]:seg_parts[i + 1]``.
    seg_kind : int8 (acap,)
        ``SEG_POLYGONS`` or ``SEG_RUNS``; compressed RLE, ``null``, ``[]`` or
        an RLE with other keys than ``size`` and ``counts`` is ``REJECT``.
    seg_size : int64 (acap, 2)
        An RLE's ``size`` (set for ``SEG_RUNS`` only).
    with_seg : bool
        Read ``segmentation`` (which every annotation must have) and the
        images' sizes; otherwise skipped. Not with ``with_kpt``.
    fb_slot, fb_start, fb_end : int64 (fb_cap,)
        Undecided numbers: ``i < 4 * acap`` is ``bbox.flat[i]``, ``i < 5 *
        acap`` is ``area[i - 4 * acap]``, ``i < 6 * acap`` is ``num_kpt[i - 5 *
        acap]``, otherwise ``kpt[i - 6 * acap]`` (``seg[i - 6 * acap]`` with
        ``with_seg``); and the number's byte span.
    stack : uint8 (MAX_DEPTH,)
        Scratch for nested values (``scan_constants.new_stack``).

    Returns
    -------
    status : int
        ``OK``, ``REJECT`` (not sure, or not a whole ground truth: the
        ``images``, ``annotations`` or ``categories`` array is missing; use
        the full parser, also for arrays of unequal lengths) or
        ``FALLBACK_FULL`` (rerun with longer ``fb_*`` arrays).
    n_img, n_cat, n_ann, n_fb : int
        How many entries of each column were written.
    """
    return _scan_ground_truth(
        address(buf), buf.shape[0], tables, img_id, cat_id, name_start, name_end, name_kind,
        ann_id, ann_img, ann_cat, bbox, area, crowd, ignore, kpt, kpt_offsets, kpt_missing,
        num_kpt, with_kpt, img_size, seg, seg_part_end, seg_parts, seg_kind, seg_size, with_seg,
        fb_slot, fb_start, fb_end, stack,
    )  # fmt: skip


@jit
def scan_ground_truth_kernel_checked(
    buf, tables, img_id, cat_id, name_start, name_end, name_kind, ann_id, ann_img, ann_cat,
    bbox, area, crowd, ignore, kpt, kpt_offsets, kpt_missing, num_kpt, with_kpt, img_size,
    seg, seg_part_end, seg_parts, seg_kind, seg_size, with_seg, fb_slot, fb_start, fb_end, stack,
):  # fmt: skip
    """:func:`scan_ground_truth_kernel` with every raw load bounds-checked.

    A load outside ``buf``, the tables or the stack, or a store outside
    ``bbox``, ``kpt``, ``seg`` or the ``fb_*`` arrays, raises ``IndexError`` instead. For tests
    (``PRCORE_SCAN_CHECKED=1``); numba's JIT only, not in the ahead-of-time
    build.
    """
    return _scan_ground_truth(
        bounded(buf), buf.shape[0], tables, img_id, cat_id, name_start, name_end, name_kind,
        ann_id, ann_img, ann_cat, bbox, area, crowd, ignore, kpt, kpt_offsets, kpt_missing,
        num_kpt, with_kpt, img_size, seg, seg_part_end, seg_parts, seg_kind, seg_size, with_seg,
        fb_slot, fb_start, fb_end, stack,
    )  # fmt: skip


@jit
def _scan_ground_truth(
    src, n, tables, img_id, cat_id, name_start, name_end, name_kind, ann_id, ann_img, ann_cat,
    bbox, area, crowd, ignore, kpt, kpt_offsets, kpt_missing, num_kpt, with_kpt, img_size,
    seg, seg_part_end, seg_parts, seg_kind, seg_size, with_seg, fb_slot, fb_start, fb_end, stack,
):  # fmt: skip
    """The scan of the document at pointer ``src`` (checked or not: every other pointer
    is made of its kind), for :func:`scan_ground_truth_kernel` and its checked twin."""
    acap = ann_id.shape[0]
    ccap = cat_id.shape[0]
    fb, fb_cap = undecided_pointers(fb_slot, fb_start, fb_end, src)
    if (
        name_start.shape[0] != ccap
        or name_end.shape[0] != ccap
        or name_kind.shape[0] != ccap
        or ann_img.shape[0] != acap
        or ann_cat.shape[0] != acap
        or bbox.shape[0] != acap
        or bbox.shape[1] != 4
        or area.shape[0] != acap
        or crowd.shape[0] != acap
        or ignore.shape[0] != acap
        or fb_cap < 0
        or stack.shape[0] < MAX_DEPTH
        or (
            with_kpt
            and (
                kpt_offsets.shape[0] < acap + 1
                or kpt_missing.shape[0] < acap
                or num_kpt.shape[0] < acap
            )
        )
        or (
            with_seg
            and (
                with_kpt
                or img_size.shape[0] < img_id.shape[0]
                or img_size.shape[1] != 2
                or seg_parts.shape[0] < acap + 1
                or seg_kind.shape[0] < acap
                or seg_size.shape[0] < acap
                or seg_size.shape[1] != 2
            )
        )
    ):
        return REJECT, 0, 0, 0, 0
    t = table_pointers(tables, src)
    stack = pointer_like(stack, src)
    n_img = 0
    n_cat = 0
    n_ann = 0
    n_fb = 0

    pos = document_start(src, n)
    if pos >= n or load_u8(src, pos) != 123:
        return REJECT, 0, 0, 0, 0
    pos = skip_ws(src, pos + 1, n)
    seen = 0
    while True:
        pos, lo, hi, ok = object_key(src, pos, n)
        if not ok:
            return REJECT, n_img, n_cat, n_ann, n_fb  # also {}: no images
        section = 0
        if _is(lo, hi, _K_IMAGES):
            section = _S_IMAGES
        elif _is(lo, hi, _K_ANNOTATIONS):
            section = _S_ANNOTATIONS
        elif _is(lo, hi, _K_CATEGORIES):
            section = _S_CATEGORIES
        if section & seen:
            return REJECT, n_img, n_cat, n_ann, n_fb  # duplicate key
        seen |= section
        if section == _S_IMAGES:
            pos, n_img = _scan_ids(
                src, pos, n, stack, t[5], img_id, name_start, name_end, name_kind, False,
                img_size, with_seg,
            )  # fmt: skip
        elif section == _S_CATEGORIES:
            pos, n_cat = _scan_ids(
                src, pos, n, stack, t[5], cat_id, name_start, name_end, name_kind, True,
                img_size, False,
            )  # fmt: skip
        elif section == _S_ANNOTATIONS:
            pos, n_ann, n_fb = _scan_annotations(
                src, pos, n, stack, t, ann_id, ann_img, ann_cat, bbox, area, crowd, ignore,
                kpt, kpt_offsets, kpt_missing, num_kpt, with_kpt, seg, seg_part_end, seg_parts,
                seg_kind, seg_size, with_seg, fb, fb_cap, n_fb,
            )  # fmt: skip
        else:
            pos = skip_value(src, pos, n, stack)
        if pos == _POS_FALLBACK_FULL:
            return FALLBACK_FULL, n_img, n_cat, n_ann, n_fb
        if pos < 0:
            return REJECT, n_img, n_cat, n_ann, n_fb
        pos, more = after_value(src, pos, n, 125)
        if more < 0:
            return REJECT, n_img, n_cat, n_ann, n_fb
        if more == 0:
            break
    pos = skip_ws(src, pos, n)
    if pos != n or seen != _S_ALL:
        return REJECT, n_img, n_cat, n_ann, n_fb
    return OK, n_img, n_cat, n_ann, n_fb
