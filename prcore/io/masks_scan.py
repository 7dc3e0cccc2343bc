"""Fast path from a mask results file's bytes to columns (detectron2's segm results).

:func:`scan_mask_results` reads each record's ``image_id``, ``category_id``,
``score``, ``bbox`` (where there is one) and ``segmentation`` (``size`` and
the span of its compressed ``counts`` string) in one byte-level pass. The
strings stay in the file's bytes, where :func:`prcore._kernels.rle.rle_from_strings`
decodes them. On every file it accepts, its numbers are bit-identical to
``json.loads``'; it returns ``None`` whenever it is not sure, and the caller
parses the file in full. It reads syntax only: the values' rules are
:mod:`prcore.io.schema`'s and the loader's.
"""

from __future__ import annotations

import mmap
import sys
from dataclasses import dataclass

import numpy as np

from prcore._kernels import scan_mask_results_kernel
from prcore._kernels.scan_constants import (
    FALLBACK_FULL,
    OK,
    checked_mode,
    new_stack,
    settle_undecided,
    tables,
)

# The shortest record, {"image_id":0,"category_id":0,"score":0,"segmentation":{"size":[0,0],
# "counts":""}}, plus its comma bounds how many records a file of a given size can hold.
_MIN_RECORD_BYTES = 88


@dataclass(frozen=True, eq=False)
class MaskResultColumns:
    """The records of a mask results file as columns, in file order.

    Attributes
    ----------
    buf : uint8 (L,)
        The file's bytes (read-only; a view of the caller's data).
    image_id, category_id : int64 (N,)
    score : float64 (N,)
    bbox : float64 (N, 4)
        As written, where ``has_box``; undefined elsewhere.
    has_box : bool (N,)
    size : int64 (N, 2)
        Each mask's ``[height, width]``.
    span : int64 (N, 2)
        Its ``counts`` string: ``buf[span[i, 0]:span[i, 1]]``, JSON escapes as written.
    escaped : bool
        Whether any of those strings holds an escape.
    """

    buf: np.ndarray
    image_id: np.ndarray
    category_id: np.ndarray
    score: np.ndarray
    bbox: np.ndarray
    has_box: np.ndarray
    size: np.ndarray
    span: np.ndarray
    escaped: bool

    def __len__(self) -> int:
        return len(self.score)


def _kernel():
    if checked_mode():
        from prcore._kernels.masks_scan import scan_mask_results_kernel_checked

        return scan_mask_results_kernel_checked
    return scan_mask_results_kernel


def scan_mask_results(
    data: bytes | bytearray | memoryview | mmap.mmap,
) -> MaskResultColumns | None:
    """Columns of a mask results JSON document, or None when not sure.

    None unless the document is an array of objects that each hold exactly
    one ``image_id`` and ``category_id`` (JSON integers within int64),
    ``score`` (a JSON number) and ``segmentation`` (an object with
    ``size``, two JSON integers, and ``counts``, a string), and at most one
    ``bbox`` (four JSON numbers), none of those keys written with escapes.
    Other keys may hold any valid JSON except NaN/Infinity.
    """
    if sys.byteorder != "little":
        return None  # the tokenizer reads 8 bytes at a time as little-endian words
    view = memoryview(data)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    view = view.cast("B")
    buf = np.frombuffer(view, dtype=np.uint8)
    buf.flags.writeable = False
    cap = buf.shape[0] // _MIN_RECORD_BYTES + 1
    # np.empty maps pages lazily: only the rows actually written cost memory.
    image_id = np.empty(cap, np.int64)
    category_id = np.empty(cap, np.int64)
    score = np.empty(cap, np.float64)
    bbox = np.empty((cap, 4), np.float64)
    has_box = np.empty(cap, np.uint8)
    size = np.empty((cap, 2), np.int64)
    span = np.empty((cap, 2), np.int64)
    kernel = _kernel()
    fb_cap = 1024 + cap // 64
    while True:
        fb = tuple(np.empty(fb_cap, np.int64) for _ in range(3))
        status, count, n_fb, escaped = kernel(
            buf, tables(), image_id, category_id, score, bbox, has_box, size, span, *fb,
            new_stack(),
        )  # fmt: skip
        if status != FALLBACK_FULL:
            break
        fb_cap = 5 * cap  # every number undecided: the most there can be
    if status != OK:
        return None
    settle_undecided(view, cap, bbox.reshape(-1), score, *(a[:n_fb] for a in fb))
    n = count
    return MaskResultColumns(
        buf,
        image_id[:n],
        category_id[:n],
        score[:n],
        bbox[:n],
        has_box[:n].astype(bool),
        size[:n],
        span[:n],
        bool(escaped),
    )
