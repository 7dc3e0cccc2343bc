"""Fast path from a COCO results file's bytes to numpy columns.

:func:`scan_results` reads the four fields pycocotools uses (``image_id``,
``category_id``, ``bbox``, ``score``), and asked for them each record's
``keypoints``, in one byte-level pass, without building Python objects. On every file it accepts, its columns are bit-identical to
``json.loads`` followed by ``np.asarray(..., np.float64)``. It returns ``None``
whenever it is not sure (unusual types, duplicate keys, escaped keys that
might be its own, NaN, malformed JSON, ...), and the caller then parses the
file in full and validates it record by record, which also yields the precise
error. It reads syntax only: the values' rules (finite numbers, width and
height ``>= 0``) are :mod:`prcore.io.schema`'s, which the caller applies to the
columns.
"""

from __future__ import annotations

import mmap
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from prcore._kernels import scan_results_kernel
from prcore._kernels.scan_constants import (
    FALLBACK_FULL,
    OK,
    PAUSED,
    checked_mode,
    new_stack,
    settle_undecided,
    tables,
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
        ``[x, y, width, height]``, as written.
    score : float64 (N,)
    keypoints : float64 (K,) or None
        Every record's ``keypoints`` one after the other (``keypoints=True``).
    keypoint_offsets : int64 (N + 1,) or None
        Record ``i``'s are ``keypoints[keypoint_offsets[i]:keypoint_offsets[i + 1]]``.
    """

    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    keypoints: np.ndarray | None = None
    keypoint_offsets: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.score)

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.image_id, self.category_id, self.bbox, self.score


# Below this size one thread beats two (thread hand-off, the boundary search).
SPLIT_MIN_BYTES = 4 << 20


def scan_results(
    data: bytes | bytearray | memoryview | mmap.mmap,
    *,
    keypoints: bool = False,
    split_min_bytes: int = SPLIT_MIN_BYTES,
) -> ResultColumns | None:
    """Columns of a COCO results JSON document, or None when not sure.

    Parameters
    ----------
    data : bytes-like
        The whole file, UTF-8 (an initial byte-order mark is allowed, as
        ``json.loads`` allows it for bytes).
    keypoints : bool
        Also read each record's ``keypoints``, an array of JSON numbers that
        every record must hold (of any length, empty included: the values'
        rules are the schema's).
    split_min_bytes : int
        From this size on, two threads scan the two halves of the records
        (the result is the same; tests set 0 to split every document).

    Returns
    -------
    ResultColumns or None
        None unless the document is an array of objects that each hold
        exactly one ``image_id`` and ``category_id`` (JSON integers within
        int64), ``bbox`` (an array of four JSON numbers) and ``score`` (a JSON
        number), and none of those keys is written with escapes. Other keys
        may hold any valid JSON except NaN/Infinity. Numbers too large for a
        double come back as infinities, as ``float()`` gives them.
    """
    if sys.byteorder != "little":
        return None  # the kernel reads 8 bytes at a time as little-endian words
    view = memoryview(data)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    view = view.cast("B")
    buf = np.frombuffer(view, dtype=np.uint8)
    buf.flags.writeable = False  # one kernel signature for bytes and bytearray alike
    boundary = -1
    if buf.shape[0] >= split_min_bytes and (os.cpu_count() or 1) > 1:
        boundary = _record_boundary(buf, buf.shape[0] // 2)
    if boundary < 0:
        return _columns(view, _scan_span(buf, 0, -1, keypoints), OK)
    with ThreadPoolExecutor(1, thread_name_prefix="prcore-scan") as pool:  # this call's only
        tail_future = pool.submit(_scan_span, buf, boundary, -1, keypoints)
        head = _scan_span(buf, 0, boundary, keypoints)
        tail = tail_future.result()
    if head.status != PAUSED:
        # The guess was inside a value: the head scan went on to the end alone.
        return _columns(view, head, OK)
    first, second = _columns(view, head, PAUSED), _columns(view, tail, OK)
    if first is None or second is None:
        return None
    # The head's columns are sized for the whole file: append the tail's rows there.
    n1, n = len(first), len(first) + len(second)
    for column, rows in zip(head.columns, second.as_tuple()):
        column[n1:n] = rows
    joined = [column[:n] for column in head.columns]
    if keypoints:  # the tail's values after the head's, its offsets shifted
        k1 = int(first.keypoint_offsets[-1])
        k = k1 + len(second.keypoints)
        values, offsets = head.keypoints
        values[k1:k] = second.keypoints
        offsets[n1 + 1 : n + 1] = second.keypoint_offsets[1:] + k1
        joined += [values[:k], offsets[: n + 1]]
    return ResultColumns(*joined)


def _record_boundary(buf: np.ndarray, near: int) -> int:
    """A guess at a record start at or after ``near``: the ``{`` of ``} , {``.

    Only a guess (the bytes may sit inside a string or a nested value): the
    head scan confirms it by pausing exactly there, or scans on to the end.
    """
    n = buf.shape[0]
    window = buf[near : near + (1 << 16)]
    for i in np.flatnonzero(window == 125)[:64].tolist():  # '}'
        j = near + i + 1
        while j < n and buf[j] in _WHITESPACE:
            j += 1
        if j < n and buf[j] == 44:  # ','
            j += 1
            while j < n and buf[j] in _WHITESPACE:
                j += 1
            if j < n and buf[j] == 123:  # '{'
                return j
    return -1


_WHITESPACE = frozenset(b" \t\n\r")


def _kernel():
    """The results kernel's handle, or its bounds-checked variant (tests)."""
    if checked_mode():
        from prcore._kernels.results_scan import scan_results_kernel_checked

        return scan_results_kernel_checked
    return scan_results_kernel


@dataclass(frozen=True, eq=False)
class _Span:
    """One thread's scan: columns sized ``cap``, the first ``count`` filled, and the
    numbers the kernel left undecided."""

    status: int
    count: int
    cap: int
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    undecided: tuple[np.ndarray, np.ndarray, np.ndarray]
    keypoints: tuple[np.ndarray, np.ndarray] | None = None  # values, offsets


def _scan_span(buf: np.ndarray, start: int, stop: int, keypoints: bool = False) -> _Span:
    """Scan the records from ``start`` (0: the whole document) up to ``stop`` (-1: the end).

    With ``stop``, the kernel pauses there if a record begins there; if that
    offset was inside a value, it scans on to the end itself. ``keypoints``:
    read them too.
    """
    n = buf.shape[0]
    cap = (n - start) // _MIN_RECORD_BYTES + 1
    if keypoints:  # a number and its comma take two bytes at least
        kpt = (np.empty((n - start) // 2 + 1, np.float64), np.empty(cap + 1, np.int64))
    else:
        kpt = (np.empty(0, np.float64), np.empty(0, np.int64))
    # np.empty maps pages lazily: only the rows actually written cost memory.
    columns = (
        np.empty(cap, np.int64),
        np.empty(cap, np.int64),
        np.empty((cap, 4), np.float64),
        np.empty(cap, np.float64),
    )
    kernel = _kernel()
    fb_cap = 1024 + cap // 64
    while True:
        fb = tuple(np.empty(fb_cap, np.int64) for _ in range(3))
        status, count, n_fb = kernel(
            buf, tables(), *columns, *kpt, keypoints, *fb, new_stack(), start, stop
        )
        if status != FALLBACK_FULL:
            break
        fb_cap = 5 * cap + kpt[0].shape[0]  # every number undecided: the most there can be
    undecided = tuple(a[:n_fb] for a in fb)
    return _Span(status, count, cap, columns, undecided, kpt if keypoints else None)


def _columns(view: memoryview, span: _Span, expected: int) -> ResultColumns | None:
    """The span's filled columns, undecided numbers settled; None unless ``expected``."""
    if span.status != expected:
        return None
    image_id, category_id, bbox, score = span.columns
    slots, starts, ends = span.undecided
    n = span.count
    if span.keypoints is None:
        settle_undecided(view, span.cap, bbox.reshape(-1), score, slots, starts, ends)
        return ResultColumns(image_id[:n], category_id[:n], bbox[:n], score[:n])
    values, offsets = span.keypoints
    mine = slots >= 5 * span.cap  # a keypoint's number; the others a box's or a score's
    rest = ~mine
    settle_undecided(view, span.cap, bbox.reshape(-1), score, slots[rest], starts[rest], ends[rest])
    settle_undecided(view, 0, values, values, slots[mine] - 5 * span.cap, starts[mine], ends[mine])
    k = int(offsets[n])
    return ResultColumns(
        image_id[:n], category_id[:n], bbox[:n], score[:n], values[:k], offsets[: n + 1]
    )
