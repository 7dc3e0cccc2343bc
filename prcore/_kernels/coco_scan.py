"""Byte-level scan of a COCO instances (ground-truth) file into columns.

One pass over the UTF-8 bytes of ``{"images": [...], "annotations": [...],
"categories": [...], ...}`` writes the fields pycocotools' ``COCOeval`` reads
(``cocoeval.py``: ``_prepare`` / ``evaluateImg`` use image ``id``, category
``id``, and annotation ``id``, ``image_id``, ``category_id``, ``bbox``,
``area``, ``iscrowd``, ``ignore``) straight into arrays, and skips everything
else (``segmentation``, ``info``, ``licenses``, ``file_name``, ...) with a
validating skipper. It mirrors ``json.loads`` (pycocotools' ``COCO.__init__``
starts with ``json.load``) bit for bit and gives up (status ``REJECT``) on
anything it is not sure about, so that the caller can fall back to the full
parser and its located error messages.

The tokenizer and number conversion are the results scanner's
(:mod:`prcore._kernels.results_scan`): numbers go through its correctly
rounded Clinger / Eisel-Lemire path, and the ones it cannot decide come back
as byte spans for ``float(bytes)`` in Python.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit
from prcore._kernels.results_scan import (
    _address,
    _ld,
    _ld64,
    _match_word,
    _parse_int,
    _parse_number,
    _skip_string,
    _skip_value,
    _skip_ws,
)
from prcore._kernels.scan_constants import FALLBACK_FULL, OK, REJECT  # this kernel's status codes

# What a section scanner returns instead of a position.
_POS_REJECT = -1
_POS_FALLBACK_FULL = -2

_U0 = np.uint64(0)
_U1 = np.uint64(1)


def _le(text: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(text, "little"))


# Keys as (first 8 bytes, next 8 bytes), little-endian, zero padded.
_K_ID = _le(b"id")
_K_IMAGE_ID = _le(b"image_id")
_K_CATEGORY = _le(b"category")
_K_Y_ID = _le(b"_id")
_K_BBOX = _le(b"bbox")
_K_AREA = _le(b"area")
_K_ISCROWD = _le(b"iscrowd")
_K_IGNORE = _le(b"ignore")
_K_NAME = _le(b"name")
_K_IMAGES = _le(b"images")
_K_ANNOTAT = _le(b"annotati")
_K_ONS = _le(b"ons")
_K_CATEGOR = _le(b"categori")
_K_ES = _le(b"es")
_NO_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)  # never the padded words of a real key

# Field bits of an annotation record.
_A_ID = 1
_A_IMG = 2
_A_CAT = 4
_A_BOX = 8
_A_AREA = 16
_A_REQUIRED = 31
_A_CROWD = 32
_A_IGNORE = 64

# Top-level sections.
_S_IMAGES = 1
_S_ANNOTATIONS = 2
_S_CATEGORIES = 4


@jit(inline="always")
def _key_words(src, ks, klen, n):
    """The key src[ks:ks+klen] as two zero-padded little-endian words.

    Keys never hold a raw NUL byte (control characters must be escaped, and
    escaped keys are rejected), so the padding makes the length part of the
    comparison. Keys longer than 16 bytes are none of ours.
    """
    if klen > 16:
        return _NO_KEY, _NO_KEY
    lo = _U0
    hi = _U0
    if ks + 16 <= n:
        lo = _ld64(src, ks)
        hi = _ld64(src, ks + 8)
        if klen < 8:
            lo &= (_U1 << np.uint64(8 * klen)) - _U1
            hi = _U0
        elif klen < 16:
            hi &= (_U1 << np.uint64(8 * (klen - 8))) - _U1
    else:
        for j in range(klen):
            b = np.uint64(_ld(src, ks + j))
            if j < 8:
                lo |= b << np.uint64(8 * j)
            else:
                hi |= b << np.uint64(8 * (j - 8))
    return lo, hi


@jit
def _is_foreign_key(src, ks, ke):
    """Whether the escaped key src[ks:ke] surely is none of ours.

    Ours are spelled with ``a-z`` and ``_`` only, so a key holding a raw
    non-ASCII byte or an escape of anything else cannot be one; a key whose
    every escape is ``\\u`` of such a letter might be (json.loads decodes
    ``"\\u0069d"`` to ``"id"``).
    """
    pos = ks
    while pos < ke:
        c = _ld(src, pos)
        if c >= 128:
            return True
        if c != 92:
            pos += 1
            continue
        if _ld(src, pos + 1) != 117:  # \" \\ \/ \b \f \n \r \t
            return True
        v = 0
        for j in range(2, 6):  # _skip_string checked the four hex digits
            h = _ld(src, pos + j)
            v = v * 16 + (h - 48 if h <= 57 else (h | 32) - 87)
        if not (97 <= v <= 122 or v == 95):
            return True
        pos += 6
    return False


@jit
def _object_key(src, pos, n):
    """Read ``"key" :`` at pos -> (position of the value, lo, hi, ok).

    ``ok`` is False for anything but a key followed by a colon and a value,
    and for an escaped key that might spell one of ours.
    """
    if pos >= n or _ld(src, pos) != 34:
        return pos, _U0, _U0, False
    ks = pos + 1
    end, escaped = _skip_string(src, ks, n)
    if end < 0:
        return pos, _U0, _U0, False
    if escaped:
        if not _is_foreign_key(src, ks, end - 1):
            return pos, _U0, _U0, False
        lo, hi = _NO_KEY, _NO_KEY
    else:
        lo, hi = _key_words(src, ks, end - 1 - ks, n)
    pos = _skip_ws(src, end, n)
    if pos >= n or _ld(src, pos) != 58:
        return pos, _U0, _U0, False
    pos = _skip_ws(src, pos + 1, n)
    if pos >= n:
        return pos, _U0, _U0, False
    return pos, lo, hi, True


@jit
def _after_value(src, pos, n, close):
    """After a value inside a container: (position, 1 more / 0 closed / -1 bad)."""
    pos = _skip_ws(src, pos, n)
    if pos >= n:
        return pos, -1
    c = _ld(src, pos)
    if c == 44:
        return _skip_ws(src, pos + 1, n), 1
    if c == close:
        return pos + 1, 0
    return pos, -1


@jit
def _read_int(src, pos, n, pow10_int):
    """The results scanner's integer reader, compiled once for every caller."""
    return _parse_int(src, pos, n, pow10_int)


@jit
def _flag(src, pos, n, pow10_int, allow_null):
    """A 0/1 flag written ``0``, ``1``, ``true`` or ``false`` (or ``null`` -> -1).

    Returns (end, value); end < 0 for anything else.
    """
    c = _ld(src, pos)
    if c == 116:
        return _match_word(src, pos, n, (116, 114, 117, 101)), 1
    if c == 102:
        return _match_word(src, pos, n, (102, 97, 108, 115, 101)), 0
    if c == 110 and allow_null:
        return _match_word(src, pos, n, (110, 117, 108, 108)), -1
    end, ok, v = _read_int(src, pos, n, pow10_int)
    if not ok or (v != 0 and v != 1):
        return -1, 0
    return end, v


@jit
def _scan_ids(src, pos, n, stack, pow10_int, ids, name_start, name_end, name_kind, with_names):
    """An array of ``{"id": int, ...}`` records (images, or categories with names).

    Returns (end position or ``_POS_REJECT``, count). For categories,
    ``name_kind`` is 0 (no name), 1 (plain) or 2 (written with escapes), and
    the name's bytes, quotes excluded, are ``name_start .. name_end``.
    """
    cap = ids.shape[0]
    if _ld(src, pos) != 91:
        return _POS_REJECT, 0
    pos = _skip_ws(src, pos + 1, n)
    if pos < n and _ld(src, pos) == 93:
        return pos + 1, 0
    count = 0
    while True:
        if pos >= n or _ld(src, pos) != 123 or count >= cap:
            return _POS_REJECT, count
        pos = _skip_ws(src, pos + 1, n)
        got_id = False
        if with_names:
            name_kind[count] = 0
        while True:
            pos, lo, hi, ok = _object_key(src, pos, n)
            if not ok:
                return _POS_REJECT, count  # also {}: it lacks the id
            if lo == _K_ID and hi == _U0:
                if got_id:
                    return _POS_REJECT, count
                got_id = True
                pos, ok, v = _read_int(src, pos, n, pow10_int)
                if not ok:
                    return _POS_REJECT, count
                ids[count] = v
            elif with_names and lo == _K_NAME and hi == _U0:
                if name_kind[count] != 0 or _ld(src, pos) != 34:
                    return _POS_REJECT, count
                end, escaped = _skip_string(src, pos + 1, n)
                if end < 0:
                    return _POS_REJECT, count
                name_start[count] = pos + 1
                name_end[count] = end - 1
                name_kind[count] = 2 if escaped else 1
                pos = end
            else:
                pos = _skip_value(src, pos, n, stack)
                if pos < 0:
                    return _POS_REJECT, count
            pos, more = _after_value(src, pos, n, 125)
            if more < 0:
                return _POS_REJECT, count
            if more == 0:
                break
        if not got_id:
            return _POS_REJECT, count
        count += 1
        pos, more = _after_value(src, pos, n, 93)
        if more < 0:
            return _POS_REJECT, count
        if more == 0:
            return pos, count


@jit
def _scan_annotations(
    src,
    pos,
    n,
    stack,
    t,
    ann_id,
    ann_img,
    ann_cat,
    bbox,
    area,
    crowd,
    ignore,
    fb_slot,
    fb_start,
    fb_end,
    n_fb,
):
    """The annotations array -> (end position or ``_POS_*``, count, n_fb).

    Undecided numbers are recorded like the results scanner's: slot
    ``i < 4 * cap`` is ``bbox.flat[i]``, otherwise ``area[i - 4 * cap]``.
    """
    cap = ann_id.shape[0]
    fb_cap = fb_slot.shape[0]
    pow10_int = t[5]
    if _ld(src, pos) != 91:
        return _POS_REJECT, 0, n_fb
    pos = _skip_ws(src, pos + 1, n)
    if pos < n and _ld(src, pos) == 93:
        return pos + 1, 0, n_fb
    count = 0
    while True:
        if pos >= n or _ld(src, pos) != 123 or count >= cap:
            return _POS_REJECT, count, n_fb
        pos = _skip_ws(src, pos + 1, n)
        seen = 0
        crowd[count] = 0
        ignore[count] = -1
        while True:
            pos, lo, hi, ok = _object_key(src, pos, n)
            if not ok:
                return _POS_REJECT, count, n_fb
            field = 0
            if hi == _U0:
                if lo == _K_ID:
                    field = _A_ID
                elif lo == _K_IMAGE_ID:
                    field = _A_IMG
                elif lo == _K_BBOX:
                    field = _A_BOX
                elif lo == _K_AREA:
                    field = _A_AREA
                elif lo == _K_ISCROWD:
                    field = _A_CROWD
                elif lo == _K_IGNORE:
                    field = _A_IGNORE
            elif lo == _K_CATEGORY and hi == _K_Y_ID:
                field = _A_CAT
            if field == 0:
                pos = _skip_value(src, pos, n, stack)
                if pos < 0:
                    return _POS_REJECT, count, n_fb
            else:
                if seen & field:
                    return _POS_REJECT, count, n_fb  # duplicate key
                seen |= field
                if field <= _A_CAT:
                    pos, ok, v = _read_int(src, pos, n, pow10_int)
                    if not ok:
                        return _POS_REJECT, count, n_fb
                    if field == _A_ID:
                        ann_id[count] = v
                    elif field == _A_IMG:
                        ann_img[count] = v
                    else:
                        ann_cat[count] = v
                elif field == _A_AREA:
                    start = pos
                    pos, st, f = _parse_number(src, pos, n, t)
                    if st == 1:
                        return _POS_REJECT, count, n_fb
                    area[count] = f
                    if st == 2:
                        if n_fb >= fb_cap:
                            return _POS_FALLBACK_FULL, count, n_fb
                        fb_slot[n_fb] = 4 * cap + count
                        fb_start[n_fb] = start
                        fb_end[n_fb] = pos
                        n_fb += 1
                elif field == _A_BOX:
                    if _ld(src, pos) != 91:
                        return _POS_REJECT, count, n_fb
                    for k in range(4):
                        pos = _skip_ws(src, pos + 1, n)
                        start = pos
                        pos, st, f = _parse_number(src, pos, n, t)
                        if st == 1:
                            return _POS_REJECT, count, n_fb
                        bbox[count, k] = f
                        if st == 2:
                            if n_fb >= fb_cap:
                                return _POS_FALLBACK_FULL, count, n_fb
                            fb_slot[n_fb] = 4 * count + k
                            fb_start[n_fb] = start
                            fb_end[n_fb] = pos
                            n_fb += 1
                        pos = _skip_ws(src, pos, n)
                        if pos >= n or _ld(src, pos) != (93 if k == 3 else 44):
                            return _POS_REJECT, count, n_fb
                    pos += 1
                elif field == _A_CROWD:
                    pos, v = _flag(src, pos, n, pow10_int, False)
                    if pos < 0:
                        return _POS_REJECT, count, n_fb
                    crowd[count] = v
                else:
                    pos, v = _flag(src, pos, n, pow10_int, True)
                    if pos < 0:
                        return _POS_REJECT, count, n_fb
                    ignore[count] = v
            pos, more = _after_value(src, pos, n, 125)
            if more < 0:
                return _POS_REJECT, count, n_fb
            if more == 0:
                break
        if (seen & _A_REQUIRED) != _A_REQUIRED:
            return _POS_REJECT, count, n_fb
        count += 1
        pos, more = _after_value(src, pos, n, 93)
        if more < 0:
            return _POS_REJECT, count, n_fb
        if more == 0:
            return pos, count, n_fb


@jit
def scan_ground_truth_kernel(
    buf,
    tables,
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
    fb_slot,
    fb_start,
    fb_end,
    stack,
):
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
    area : float64 (acap,)
    crowd : int8 (acap,)
        ``iscrowd`` (absent: 0).
    ignore : int8 (acap,)
        ``ignore``: -1 absent or null, else 0/1.
    fb_slot, fb_start, fb_end : int64 (fb_cap,)
        Undecided numbers: ``i < 4 * acap`` is ``bbox.flat[i]``, otherwise
        ``area[i - 4 * acap]``, and the number's byte span.
    stack : uint8 (MAX_DEPTH,)
        Scratch for nested values (``scan_constants.new_stack``).

    Returns
    -------
    status : int
        ``OK``, ``REJECT`` (not sure; use the full parser) or ``FALLBACK_FULL``
        (rerun with longer ``fb_*`` arrays).
    n_img, n_cat, n_ann, n_fb : int
        How many entries of each column were written.
    """
    n = buf.shape[0]
    src = _address(buf)
    t = (
        _address(tables[0]),
        _address(tables[1]),
        _address(tables[2]),
        _address(tables[3]),
        _address(tables[4]),
        _address(tables[5]),
    )
    n_img = 0
    n_cat = 0
    n_ann = 0
    n_fb = 0

    pos = 0
    if n >= 3 and _ld(src, 0) == 0xEF and _ld(src, 1) == 0xBB and _ld(src, 2) == 0xBF:
        pos = 3  # json.loads(bytes) decodes with utf-8-sig
    pos = _skip_ws(src, pos, n)
    if pos >= n or _ld(src, pos) != 123:
        return REJECT, 0, 0, 0, 0
    pos = _skip_ws(src, pos + 1, n)
    seen = 0
    while True:
        pos, lo, hi, ok = _object_key(src, pos, n)
        if not ok:
            return REJECT, n_img, n_cat, n_ann, n_fb  # also {}: no images
        section = 0
        if lo == _K_IMAGES and hi == _U0:
            section = _S_IMAGES
        elif lo == _K_ANNOTAT and hi == _K_ONS:
            section = _S_ANNOTATIONS
        elif lo == _K_CATEGOR and hi == _K_ES:
            section = _S_CATEGORIES
        if section & seen:
            return REJECT, n_img, n_cat, n_ann, n_fb  # duplicate key
        seen |= section
        if section == _S_IMAGES:
            pos, n_img = _scan_ids(
                src, pos, n, stack, t[5], img_id, name_start, name_end, name_kind, False
            )
        elif section == _S_CATEGORIES:
            pos, n_cat = _scan_ids(
                src, pos, n, stack, t[5], cat_id, name_start, name_end, name_kind, True
            )
        elif section == _S_ANNOTATIONS:
            pos, n_ann, n_fb = _scan_annotations(
                src,
                pos,
                n,
                stack,
                t,
                ann_id,
                ann_img,
                ann_cat,
                bbox,
                area,
                crowd,
                ignore,
                fb_slot,
                fb_start,
                fb_end,
                n_fb,
            )
        else:
            pos = _skip_value(src, pos, n, stack)
        if pos == _POS_FALLBACK_FULL:
            return FALLBACK_FULL, n_img, n_cat, n_ann, n_fb
        if pos < 0:
            return REJECT, n_img, n_cat, n_ann, n_fb
        pos, more = _after_value(src, pos, n, 125)
        if more < 0:
            return REJECT, n_img, n_cat, n_ann, n_fb
        if more == 0:
            break
    pos = _skip_ws(src, pos, n)
    if pos != n or (seen & (_S_IMAGES | _S_CATEGORIES)) != (_S_IMAGES | _S_CATEGORIES):
        return REJECT, n_img, n_cat, n_ann, n_fb
    return OK, n_img, n_cat, n_ann, n_fb
