"""Byte-level scan of a COCO results file into columns.

The kernel reads the UTF-8 bytes of a results file (a JSON array of
``{"image_id", "category_id", "bbox", "score", ...}`` objects) in one pass and
writes the four fields straight into arrays; asked for them, also each
record's ``keypoints`` (an array of numbers of any length, detectron2's
keypoint results), one after the other into one array with their offsets. It mirrors what
``json.loads`` + ``np.asarray(..., np.float64)`` produce (pycocotools'
``COCO.loadRes`` starts with ``json.load``), bit for bit, and it gives up
(status ``REJECT``) on anything it is not sure about, so that the caller can
fall back to the full parser and its located error messages. It reads the
document's syntax only: whether the values are valid (finite, width and height
``>= 0``) is for :mod:`prcore.io.schema` to say, on the columns.

The tokenizer, the number conversion and the pointers are
:mod:`prcore._kernels.json_tokens`'. What is particular to results files is
their keys, recognised with one or two 8-byte compares, closing quote
included.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit
from prcore._kernels.json_tokens import (
    UNDECIDED_FULL,
    address,
    after_value,
    bounded,
    colon,
    document_start,
    key_constant,
    le_word,
    load_u8,
    load_word,
    parse_int,
    pointer_like,
    read_box,
    read_key,
    read_number,
    read_numbers,
    skip_value,
    skip_ws,
    table_pointers,
    undecided_pointers,
)
from prcore._kernels.scan_constants import FALLBACK_FULL, MAX_DEPTH, OK, PAUSED, REJECT

# numba's cache keys a kernel on the text of its own file only: this digest of the
# files the kernels here compile in (json_tokens.py, scan_constants.py) makes an edit
# there recompile them too. tests/test_coco_scan.py checks that it is current.
TOKENIZER_DIGEST = "812d6449bbd439a0"

# The four keys as little-endian words, closing quote included where it fits.
_QUOTED_IMAGE_ID = le_word(b"image_id")  # and the quote is byte 8
_QUOTED_CATEGORY = le_word(b"category")
_QUOTED_ID = le_word(b'_id"')
_QUOTED_BBOX = le_word(b'bbox"')
_QUOTED_SCORE = le_word(b'score"')
_QUOTED_KEYPOINT = le_word(b"keypoint")
_QUOTED_S = le_word(b's"')
_M16 = np.uint64((1 << 16) - 1)
_M32 = np.uint64((1 << 32) - 1)
_M40 = np.uint64((1 << 40) - 1)
_M48 = np.uint64((1 << 48) - 1)

# The same keys as json_tokens.key_words gives them, for keys read byte by byte.
_K_IMAGE_ID = key_constant(b"image_id")
_K_CATEGORY_ID = key_constant(b"category_id")
_K_BBOX = key_constant(b"bbox")
_K_SCORE = key_constant(b"score")
_K_KEYPOINTS = key_constant(b"keypoints")

# Field bits of a detection record.
_F_IMG = 1
_F_CAT = 2
_F_BOX = 4
_F_SCORE = 8
_F_ALL = 15
_F_KPT = 16  # read only when asked for; otherwise any other key


@jit(inline="always")
def _quick_key(src, ks, n):
    """One of the five keys at ks by 8-byte compares -> (end after the quote, field).

    Field 0 when it is none of them, or too near the end to tell this way:
    :func:`_key_field` then reads the key.
    """
    if ks + 16 <= n:
        v = load_word(src, ks)
        if v == _QUOTED_IMAGE_ID and load_u8(src, ks + 8) == 34:
            return ks + 9, _F_IMG
        if v == _QUOTED_CATEGORY and (load_word(src, ks + 8) & _M32) == _QUOTED_ID:
            return ks + 12, _F_CAT
        if (v & _M40) == _QUOTED_BBOX:
            return ks + 5, _F_BOX
        if (v & _M48) == _QUOTED_SCORE:
            return ks + 6, _F_SCORE
        if v == _QUOTED_KEYPOINT and (load_word(src, ks + 8) & _M16) == _QUOTED_S:
            return ks + 10, _F_KPT
    return ks, 0


@jit
def _key_field(src, ks, n):
    """Read the key at ks -> (end after the quote, field bit or 0 for any other key, ok)."""
    end, lo, hi, ok = read_key(src, ks, n)
    if not ok:
        return end, 0, False
    if lo == _K_IMAGE_ID[0] and hi == _K_IMAGE_ID[1]:
        return end, _F_IMG, True
    if lo == _K_CATEGORY_ID[0] and hi == _K_CATEGORY_ID[1]:
        return end, _F_CAT, True
    if lo == _K_BBOX[0] and hi == _K_BBOX[1]:
        return end, _F_BOX, True
    if lo == _K_SCORE[0] and hi == _K_SCORE[1]:
        return end, _F_SCORE, True
    if lo == _K_KEYPOINTS[0] and hi == _K_KEYPOINTS[1]:
        return end, _F_KPT, True
    return end, 0, True


@jit
def scan_results_kernel(
    buf, tables, image_id, category_id, bbox, score, kpt, kpt_offsets, with_kpt,
    fb_slot, fb_start, fb_end, stack, start, stop,
):  # fmt: skip
    """Scan a results file's bytes, or a span of its records, into caller-allocated columns.

    Parameters
    ----------
    buf : uint8 (L,)
        The file's bytes.
    tables : tuple
        From :func:`~prcore._kernels.scan_constants.power_tables`.
    image_id, category_id : int64 (cap,)
        Filled for the first ``count`` records; ``cap`` must bound the record
        count (the kernel rejects a file with more).
    bbox : float64 (cap, 4)
        ``[x, y, w, h]`` per record, as written.
    score : float64 (cap,)
    kpt : float64 (kcap,)
        With ``with_kpt``, every record's ``keypoints`` numbers one after the
        other (the kernel rejects a file with more than ``kcap``); unused
        otherwise (any length).
    kpt_offsets : int64 (cap + 1,)
        With ``with_kpt``, record ``i``'s keypoints are
        ``kpt[kpt_offsets[i]:kpt_offsets[i + 1]]``; unused otherwise.
    with_kpt : bool
        Read ``keypoints`` and require it in every record; otherwise it is
        any other key.
    fb_slot, fb_start, fb_end : int64 (fb_cap,)
        Undecided numbers: where each goes (``i < 4 * cap`` is ``bbox.flat[i]``,
        ``i < 5 * cap`` is ``score[i - 4 * cap]``, otherwise
        ``kpt[i - 5 * cap]``) and its byte span, for ``float(bytes)`` in the
        caller (:func:`~prcore._kernels.scan_constants.settle_undecided`).
    stack : uint8 (MAX_DEPTH,)
        Scratch for nested values (``scan_constants.new_stack``; allocated by the
        caller, so that loading the kernel from the cache needs none of
        numba's array-allocation code).
    start : int
        0 to scan the whole document; otherwise the offset of a record's ``{``
        inside the top-level array, to scan from that record to the end.
    stop : int
        An offset where the next record may begin: when a record's trailing
        comma (and whitespace) ends exactly there, the scan returns ``PAUSED``.
        When no record boundary falls on it (it was inside a value), the scan
        simply goes on to the end. -1: never pause.

    Returns
    -------
    status : int
        ``OK``, ``REJECT`` (not sure; use the full parser, also for arrays of
        unequal lengths), ``FALLBACK_FULL`` (rerun with longer ``fb_*``
        arrays) or ``PAUSED`` (at ``stop``).
    count : int
        Number of records.
    n_fb : int
        Number of undecided numbers.
    """
    return _scan_results(
        address(buf), buf.shape[0], tables, image_id, category_id, bbox, score, kpt,
        kpt_offsets, with_kpt, fb_slot, fb_start, fb_end, stack, start, stop,
    )  # fmt: skip


@jit
def scan_results_kernel_checked(
    buf, tables, image_id, category_id, bbox, score, kpt, kpt_offsets, with_kpt,
    fb_slot, fb_start, fb_end, stack, start, stop,
):  # fmt: skip
    """:func:`scan_results_kernel` with every raw load bounds-checked.

    A load outside ``buf``, the tables or the stack, or a store outside
    ``bbox``, ``kpt`` or the ``fb_*`` arrays, raises ``IndexError`` instead. For tests
    (``PRCORE_SCAN_CHECKED=1``); numba's JIT only, not in the ahead-of-time
    build.
    """
    return _scan_results(
        bounded(buf), buf.shape[0], tables, image_id, category_id, bbox, score, kpt,
        kpt_offsets, with_kpt, fb_slot, fb_start, fb_end, stack, start, stop,
    )  # fmt: skip


@jit
def _scan_results(
    src, n, tables, image_id, category_id, bbox, score, kpt, kpt_offsets, with_kpt,
    fb_slot, fb_start, fb_end, stack, start, stop,
):  # fmt: skip
    """The scan of the document at pointer ``src`` (checked or not: every other
    pointer is made of its kind), for :func:`scan_results_kernel` and its checked twin."""
    cap = score.shape[0]
    fb, fb_cap = undecided_pointers(fb_slot, fb_start, fb_end, src)
    if (
        image_id.shape[0] != cap
        or category_id.shape[0] != cap
        or bbox.shape[0] != cap
        or bbox.shape[1] != 4
        or fb_cap < 0
        or stack.shape[0] < MAX_DEPTH
        or start < 0
        or (with_kpt and kpt_offsets.shape[0] < cap + 1)
    ):
        return REJECT, 0, 0
    t = table_pointers(tables, src)
    boxes = pointer_like(bbox, src)
    kvalues = pointer_like(kpt, src)
    kcap = kpt.shape[0]
    required = _F_ALL | _F_KPT if with_kpt else _F_ALL
    stack = pointer_like(stack, src)
    pow10_int = t[5]
    count = 0
    n_fb = 0
    k = 0
    if with_kpt:
        kpt_offsets[0] = 0

    pos = start
    if start == 0:
        pos = document_start(src, n)
        if pos >= n or load_u8(src, pos) != 91:
            return REJECT, 0, 0
        pos = skip_ws(src, pos + 1, n)
        if pos < n and load_u8(src, pos) == 93:
            pos = skip_ws(src, pos + 1, n)
            return (OK if pos == n else REJECT), 0, 0

    while True:
        # One record.
        if pos >= n or load_u8(src, pos) != 123 or count >= cap:
            return REJECT, count, n_fb
        seen = 0
        pos = skip_ws(src, pos + 1, n)
        while True:
            if pos >= n or load_u8(src, pos) != 34:
                return REJECT, count, n_fb  # also {}: it lacks the fields
            pos, field = _quick_key(src, pos + 1, n)
            if field == 0:
                pos, field, ok = _key_field(src, pos, n)
                if not ok:
                    return REJECT, count, n_fb
            if field == _F_KPT and not with_kpt:
                field = 0
            pos = colon(src, pos, n)
            if pos < 0:
                return REJECT, count, n_fb
            if field == 0:
                pos = skip_value(src, pos, n, stack)
                if pos < 0:
                    return REJECT, count, n_fb
            else:
                if seen & field:
                    return REJECT, count, n_fb  # duplicate key
                seen |= field
                if field == _F_IMG or field == _F_CAT:
                    pos, ok, v = parse_int(src, pos, n, pow10_int)
                    if not ok:
                        return REJECT, count, n_fb
                    if field == _F_IMG:
                        image_id[count] = v
                    else:
                        category_id[count] = v
                elif field == _F_SCORE:
                    pos, f, n_fb = read_number(src, pos, n, t, 4 * cap + count, fb, fb_cap, n_fb)
                    score[count] = f
                elif field == _F_KPT:
                    pos, k, n_fb = read_numbers(
                        src, pos, n, t, kvalues, kcap, k, 5 * cap, fb, fb_cap, n_fb
                    )
                else:
                    pos, n_fb = read_box(src, pos, n, t, boxes, count, fb, fb_cap, n_fb)
                if pos == UNDECIDED_FULL:
                    return FALLBACK_FULL, count, n_fb
                if pos < 0:
                    return REJECT, count, n_fb
            pos, more = after_value(src, pos, n, 125)
            if more < 0:
                return REJECT, count, n_fb
            if more == 0:
                break
        if seen != required:
            return REJECT, count, n_fb
        count += 1
        if with_kpt:
            kpt_offsets[count] = k
        pos = skip_ws(src, pos, n)
        if pos >= n:
            return REJECT, count, n_fb
        c = load_u8(src, pos)
        if c == 44:
            pos = skip_ws(src, pos + 1, n)
            if pos == stop:
                return PAUSED, count, n_fb
        elif c == 93:
            pos = skip_ws(src, pos + 1, n)
            return (OK if pos == n else REJECT), count, n_fb
        else:
            return REJECT, count, n_fb
