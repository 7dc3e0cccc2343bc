"""Byte-level scan of a COCO mask results file (detectron2's segm results) into columns.

Each record is ``{"image_id", "category_id", "score", "segmentation": {"size":
[h, w], "counts": "<compressed RLE>"}, "bbox"?, ...}``. The kernel reads the
ids, the score and the box (where there is one) as ``json.loads`` would, bit
for bit, and notes where each compressed RLE string lies in the file, so that
:func:`prcore._kernels.rle.rle_from_strings` decodes the strings in place
(its ``escaped`` mode reads JSON escapes) without a Python string ever being
made. Like the other scanners it reads syntax only and gives up (``REJECT``)
on anything it is not sure of: a record without a mask, a mask that is not
``size`` and a ``counts`` string, duplicate or escaped keys of its own,
NaN. The caller then parses the file in full, which also finds the located
error.
"""

from __future__ import annotations

from prcore._kernels.jit import jit
from prcore._kernels.json_tokens import (
    UNDECIDED_FULL,
    address,
    after_value,
    bounded,
    colon,
    document_start,
    key_constant,
    load_u8,
    parse_int,
    pointer_like,
    read_box,
    read_key,
    read_number,
    skip_string,
    skip_value,
    skip_ws,
    table_pointers,
    undecided_pointers,
)
from prcore._kernels.scan_constants import FALLBACK_FULL, MAX_DEPTH, OK, REJECT

# numba's cache keys a kernel on the text of its own file only: this digest of the
# files the kernels here compile in (json_tokens.py, scan_constants.py) makes an edit
# there recompile them too. tests/test_coco_scan.py checks that it is current.
TOKENIZER_DIGEST = "812d6449bbd439a0"

_K_IMAGE_ID = key_constant(b"image_id")
_K_CATEGORY_ID = key_constant(b"category_id")
_K_BBOX = key_constant(b"bbox")
_K_SCORE = key_constant(b"score")
_K_SEGMENTATION = key_constant(b"segmentation")
_K_SIZE = key_constant(b"size")
_K_COUNTS = key_constant(b"counts")

_F_IMG = 1
_F_CAT = 2
_F_BOX = 4
_F_SCORE = 8
_F_SEGM = 16
_F_NEEDED = _F_IMG | _F_CAT | _F_SCORE | _F_SEGM


@jit
def _record_key(src, ks, n):
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
    if lo == _K_SEGMENTATION[0] and hi == _K_SEGMENTATION[1]:
        return end, _F_SEGM, True
    return end, 0, True


@jit
def _mask(src, pos, n, pow10_int, stack, size, span, row):
    """The mask object at pos: its ``size`` into ``size[row]``, its ``counts`` string's
    span into ``span[row]`` -> (end, escaped, ok)."""
    if load_u8(src, pos) != 123:
        return pos, False, False
    pos = skip_ws(src, pos + 1, n)
    seen = 0
    escaped = False
    while True:
        if pos >= n or load_u8(src, pos) != 34:
            return pos, escaped, False
        end, lo, hi, ok = read_key(src, pos + 1, n)
        if not ok:
            return pos, escaped, False
        pos = colon(src, end, n)
        if pos < 0:
            return pos, escaped, False
        if lo == _K_SIZE[0] and hi == _K_SIZE[1]:
            if seen & 1 or load_u8(src, pos) != 91:
                return pos, escaped, False
            seen |= 1
            for k in range(2):
                pos = skip_ws(src, pos + 1, n)
                pos, ok, v = parse_int(src, pos, n, pow10_int)
                if not ok:
                    return pos, escaped, False
                size[row, k] = v
                pos = skip_ws(src, pos, n)
                if pos >= n or load_u8(src, pos) != (93 if k == 1 else 44):
                    return pos, escaped, False
            pos += 1
        elif lo == _K_COUNTS[0] and hi == _K_COUNTS[1]:
            if seen & 2 or load_u8(src, pos) != 34:
                return pos, escaped, False  # uncompressed RLE: the full parser
            seen |= 2
            end, esc = skip_string(src, pos + 1, n)
            if end < 0:
                return pos, escaped, False
            span[row, 0] = pos + 1
            span[row, 1] = end - 1
            escaped = escaped or esc
            pos = end
        else:
            pos = skip_value(src, pos, n, stack)
            if pos < 0:
                return pos, escaped, False
        pos, more = after_value(src, pos, n, 125)
        if more < 0:
            return pos, escaped, False
        if more == 0:
            return pos, escaped, seen == 3


@jit
def scan_mask_results_kernel(
    buf, tables, image_id, category_id, score, bbox, has_box, size, span, fb_slot, fb_start,
    fb_end, stack,
):  # fmt: skip
    """Scan a mask results file's bytes into caller-allocated columns.

    Parameters
    ----------
    buf : uint8 (L,)
        The file's bytes.
    tables : tuple
        From :func:`~prcore._kernels.scan_constants.power_tables`.
    image_id, category_id : int64 (cap,)
        ``cap`` must bound the record count (the kernel rejects a file with more).
    score : float64 (cap,)
    bbox : float64 (cap, 4)
        ``[x, y, w, h]`` where the record has a box.
    has_box : uint8 (cap,)
        1 where it has.
    size : int64 (cap, 2)
        The mask's ``[height, width]``.
    span : int64 (cap, 2)
        Where its ``counts`` string lies: ``buf[span[i, 0]:span[i, 1]]``,
        quotes excluded, JSON escapes as written.
    fb_slot, fb_start, fb_end : int64 (fb_cap,)
        Undecided numbers (``i < 4 * cap`` is ``bbox.flat[i]``, otherwise
        ``score[i - 4 * cap]``) and their byte spans, for ``float(bytes)``
        (:func:`~prcore._kernels.scan_constants.settle_undecided`).
    stack : uint8 (MAX_DEPTH,)
        Scratch for skipped nested values.

    Returns
    -------
    status : int
        ``OK``, ``REJECT`` or ``FALLBACK_FULL`` (rerun with longer ``fb_*``).
    count : int
        Number of records.
    n_fb : int
        Number of undecided numbers.
    escaped : bool
        Whether any ``counts`` string holds a JSON escape.
    """
    return _scan(
        address(buf), buf.shape[0], tables, image_id, category_id, score, bbox, has_box, size,
        span, fb_slot, fb_start, fb_end, stack,
    )  # fmt: skip


@jit
def scan_mask_results_kernel_checked(
    buf, tables, image_id, category_id, score, bbox, has_box, size, span, fb_slot, fb_start,
    fb_end, stack,
):  # fmt: skip
    """:func:`scan_mask_results_kernel` with every raw load bounds-checked (tests,
    ``PRCORE_SCAN_CHECKED=1``; numba's JIT only)."""
    return _scan(
        bounded(buf), buf.shape[0], tables, image_id, category_id, score, bbox, has_box, size,
        span, fb_slot, fb_start, fb_end, stack,
    )  # fmt: skip


@jit
def _scan(
    src, n, tables, image_id, category_id, score, bbox, has_box, size, span, fb_slot, fb_start,
    fb_end, stack,
):  # fmt: skip
    cap = score.shape[0]
    fb, fb_cap = undecided_pointers(fb_slot, fb_start, fb_end, src)
    if (
        image_id.shape[0] != cap
        or category_id.shape[0] != cap
        or bbox.shape[0] != cap
        or bbox.shape[1] != 4
        or has_box.shape[0] != cap
        or size.shape[0] != cap
        or size.shape[1] != 2
        or span.shape[0] != cap
        or span.shape[1] != 2
        or fb_cap < 0
        or stack.shape[0] < MAX_DEPTH
    ):
        return REJECT, 0, 0, False
    t = table_pointers(tables, src)
    boxes = pointer_like(bbox, src)
    stack = pointer_like(stack, src)
    pow10_int = t[5]
    count = 0
    n_fb = 0
    escaped = False

    pos = document_start(src, n)
    if pos >= n or load_u8(src, pos) != 91:
        return REJECT, 0, 0, False
    pos = skip_ws(src, pos + 1, n)
    if pos < n and load_u8(src, pos) == 93:
        pos = skip_ws(src, pos + 1, n)
        return (OK if pos == n else REJECT), 0, 0, False

    while True:
        if pos >= n or load_u8(src, pos) != 123 or count >= cap:
            return REJECT, count, n_fb, escaped
        seen = 0
        has_box[count] = 0
        pos = skip_ws(src, pos + 1, n)
        while True:
            if pos >= n or load_u8(src, pos) != 34:
                return REJECT, count, n_fb, escaped
            pos, field, ok = _record_key(src, pos + 1, n)
            if not ok:
                return REJECT, count, n_fb, escaped
            pos = colon(src, pos, n)
            if pos < 0:
                return REJECT, count, n_fb, escaped
            if field == 0:
                pos = skip_value(src, pos, n, stack)
            else:
                if seen & field:
                    return REJECT, count, n_fb, escaped  # duplicate key
                seen |= field
                if field == _F_IMG or field == _F_CAT:
                    pos, ok, v = parse_int(src, pos, n, pow10_int)
                    if not ok:
                        return REJECT, count, n_fb, escaped
                    if field == _F_IMG:
                        image_id[count] = v
                    else:
                        category_id[count] = v
                elif field == _F_SCORE:
                    pos, f, n_fb = read_number(src, pos, n, t, 4 * cap + count, fb, fb_cap, n_fb)
                    score[count] = f
                elif field == _F_BOX:
                    pos, n_fb = read_box(src, pos, n, t, boxes, count, fb, fb_cap, n_fb)
                    has_box[count] = 1
                else:
                    pos, esc, ok = _mask(src, pos, n, pow10_int, stack, size, span, count)
                    if not ok:
                        return REJECT, count, n_fb, escaped
                    escaped = escaped or esc
            if pos == UNDECIDED_FULL:
                return FALLBACK_FULL, count, n_fb, escaped
            if pos < 0:
                return REJECT, count, n_fb, escaped
            pos, more = after_value(src, pos, n, 125)
            if more < 0:
                return REJECT, count, n_fb, escaped
            if more == 0:
                break
        if seen & _F_NEEDED != _F_NEEDED:
            return REJECT, count, n_fb, escaped
        count += 1
        pos = skip_ws(src, pos, n)
        if pos >= n:
            return REJECT, count, n_fb, escaped
        c = load_u8(src, pos)
        if c == 44:
            pos = skip_ws(src, pos + 1, n)
        elif c == 93:
            pos = skip_ws(src, pos + 1, n)
            return (OK if pos == n else REJECT), count, n_fb, escaped
        else:
            return REJECT, count, n_fb, escaped
