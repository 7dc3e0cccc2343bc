"""Fast path from a COCO results file's bytes to numpy columns.

:func:`scan_results` reads the four fields pycocotools uses (``image_id``,
``category_id``, ``bbox``, ``score``) in one byte-level pass, without building
Python objects. On every file it accepts, its columns are bit-identical to
``json.loads`` followed by ``np.asarray(..., np.float64)``. It returns ``None``
whenever it is not sure (unusual types, duplicate keys, escaped keys, NaN,
malformed JSON, ...), and the caller then parses the file in full and
validates it record by record, which also yields the precise error.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from prcore._kernels.results_scan import (
    FALLBACK_FULL,
    OK,
    power_tables,
    scan_results_kernel,
)

# The shortest record, {"image_id":0,"category_id":0,"bbox":[0,0,0,0],"score":0},
# plus its comma bounds how many records a file of a given size can hold.
_MIN_RECORD_BYTES = 58


@dataclass(frozen=True, eq=False)
class ResultColumns:
    """The detections of a results file as columns, in file order.

    Attributes
    ----------
    image_id : int64 (N,)
    category_id : int64 (N,)
    bbox : float64 (N, 4)
        ``[x, y, width, height]``; width and height are ``>= 0``.
    score : float64 (N,)
    """

    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.score)


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, ...]:
    return power_tables()


def scan_results(data: bytes | bytearray | memoryview) -> ResultColumns | None:
    """Columns of a COCO results JSON document, or None when not sure.

    Parameters
    ----------
    data : bytes-like
        The whole file, UTF-8 (an initial byte-order mark is allowed, as
        ``json.loads`` allows it for bytes).

    Returns
    -------
    ResultColumns or None
        None unless the document is an array of objects that each hold
        exactly one ``image_id`` and ``category_id`` (JSON integers within
        int64), ``bbox`` (an array of four JSON numbers with non-negative
        width and height) and ``score`` (a JSON number), every number finite
        and no key written with escapes. Other keys may hold any valid JSON
        except NaN/Infinity.
    """
    if sys.byteorder != "little":
        return None  # the kernel reads 8 bytes at a time as little-endian words
    view = memoryview(data)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    view = view.cast("B")
    buf = np.frombuffer(view, dtype=np.uint8)
    buf.flags.writeable = False  # one kernel signature for bytes and bytearray alike
    cap = buf.shape[0] // _MIN_RECORD_BYTES + 1
    tables = _tables()
    # np.empty maps pages lazily: only the rows actually written cost memory.
    image_id = np.empty(cap, np.int64)
    category_id = np.empty(cap, np.int64)
    bbox = np.empty((cap, 4), np.float64)
    score = np.empty(cap, np.float64)
    fb_cap = 1024 + cap // 64
    while True:
        fb_slot, fb_start, fb_end = (np.empty(fb_cap, np.int64) for _ in range(3))
        status, count, n_fb = scan_results_kernel(
            buf, tables, image_id, category_id, bbox, score, fb_slot, fb_start, fb_end
        )
        if status != FALLBACK_FULL:
            break
        fb_cap = 5 * cap  # every number undecided: the most there can be
    if status != OK:
        return None
    if n_fb and not _settle_undecided(
        view, cap, bbox.reshape(-1), score, fb_slot[:n_fb], fb_start, fb_end
    ):
        return None
    return ResultColumns(
        image_id=image_id[:count],
        category_id=category_id[:count],
        bbox=bbox[:count],
        score=score[:count],
    )


def _settle_undecided(view, cap, bbox, score, slots, starts, ends) -> bool:
    """Convert the numbers the kernel could not round with Python's float().

    CPython's float() is correctly rounded, like json.loads; an integer token
    gives the same double through float() as through int() then numpy.
    Returns False when a value is not finite or is a negative width/height.
    """
    for slot, s, e in zip(slots.tolist(), starts.tolist(), ends.tolist()):
        value = float(bytes(view[s:e]))
        if not math.isfinite(value):
            return False
        if slot < 4 * cap:
            if slot % 4 >= 2 and value < 0.0:
                return False
            bbox[slot] = value
        else:
            score[slot - 4 * cap] = value
    return True
