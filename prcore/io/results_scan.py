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
import mmap
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from prcore._kernels import scan_results_kernel
from prcore._kernels.scan_constants import FALLBACK_FULL, OK, PAUSED, new_stack, power_tables

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

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.image_id, self.category_id, self.bbox, self.score


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, ...]:
    return power_tables()


# Below this size one thread beats two (thread hand-off, the boundary search).
SPLIT_MIN_BYTES = 4 << 20
# Pieces each thread scans before dropping their pages (a memory-mapped file).
CHUNK_BYTES = 8 << 20


def scan_results(
    data: bytes | bytearray | memoryview | mmap.mmap,
    *,
    split_min_bytes: int = SPLIT_MIN_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
    drop_pages: bool = False,
) -> ResultColumns | None:
    """Columns of a COCO results JSON document, or None when not sure.

    Parameters
    ----------
    data : bytes-like
        The whole file, UTF-8 (an initial byte-order mark is allowed, as
        ``json.loads`` allows it for bytes).
    split_min_bytes : int
        From this size on, two threads scan the two halves of the records
        (the result is the same; tests set 0 to split every document).
    chunk_bytes : int
        Each thread scans its records in pieces of about this many bytes
        (the result is the same; tests make it tiny).
    drop_pages : bool
        ``data`` is a read-only shared memory map of a file (as
        :mod:`prcore.io.load` makes): the pages of each finished piece are then
        dropped from the process (``MADV_DONTNEED``; they stay in the page
        cache and fault back in if read again), so that a large file never
        counts whole in the peak memory. Never for private or anonymous
        maps, whose contents that would discard.

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
    release = _page_release(data) if drop_pages else None
    boundary = -1
    if buf.shape[0] >= split_min_bytes and (os.cpu_count() or 1) > 1:
        boundary = _record_boundary(buf, buf.shape[0] // 2)
    if boundary < 0:
        return _columns(view, _scan_span(buf, 0, -1, chunk_bytes, release), OK)
    with ThreadPoolExecutor(1, thread_name_prefix="prcore-scan") as pool:  # this call's only
        tail_future = pool.submit(_scan_span, buf, boundary, -1, chunk_bytes, release)
        head = _scan_span(buf, 0, boundary, chunk_bytes, release)
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
    return ResultColumns(*(column[:n] for column in head.columns))


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


def _page_release(data):
    """``release(lo, hi)``: drop the mapped pages wholly inside ``[lo, hi)``, or None."""
    if not isinstance(data, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    page = mmap.PAGESIZE

    def release(lo: int, hi: int) -> None:
        first = -(-lo // page) * page
        last = hi // page * page
        if last > first:
            try:
                data.madvise(mmap.MADV_DONTNEED, first, last - first)
            except (OSError, ValueError):
                pass  # only a memory saving

    return release


@dataclass(frozen=True, eq=False)
class _Piece:
    """One kernel call's undecided numbers, for columns viewed from row ``row`` on."""

    row: int
    cap: int
    slots: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


@dataclass(frozen=True, eq=False)
class _Span:
    """One thread's scan, piece by piece: columns sized ``cap``, the first ``count`` filled."""

    status: int
    count: int
    cap: int
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    pieces: tuple[_Piece, ...]


def _scan_span(
    buf: np.ndarray, start: int, stop: int, chunk_bytes: int = CHUNK_BYTES, release=None
) -> _Span:
    """Scan the records from ``start`` (0: the whole document) up to ``stop`` (-1: the end).

    In pieces: each piece ends at a guessed record boundary about
    ``chunk_bytes`` on, which the kernel confirms by pausing there (a wrong
    guess, inside a value, makes it scan on to the end itself). The next
    piece resumes at that record, writing the columns from the next row.
    """
    n = buf.shape[0]
    cap = (n - start) // _MIN_RECORD_BYTES + 1
    tables = _tables()
    # np.empty maps pages lazily: only the rows actually written cost memory.
    columns = (
        np.empty(cap, np.int64),
        np.empty(cap, np.int64),
        np.empty((cap, 4), np.float64),
        np.empty(cap, np.float64),
    )
    end = n if stop < 0 else stop
    row, pos, pieces = 0, start, []
    stack = new_stack()
    while True:
        piece_stop = stop
        if end - pos > 2 * chunk_bytes:
            guess = _record_boundary(buf, pos + chunk_bytes)
            if 0 < guess < end:
                piece_stop = guess
        views = tuple(column[row:] for column in columns)
        piece_cap = cap - row
        fb_cap = 1024 + piece_cap // 64
        while True:
            fb = tuple(np.empty(fb_cap, np.int64) for _ in range(3))
            status, count, n_fb = scan_results_kernel(
                buf, tables, *views, *fb, stack, pos, piece_stop
            )
            if status != FALLBACK_FULL:
                break
            fb_cap = 5 * piece_cap  # every number undecided: the most there can be
        pieces.append(_Piece(row, piece_cap, *(a[:n_fb] for a in fb)))
        row += count
        if status != PAUSED or piece_stop == stop:
            return _Span(status, row, cap, columns, tuple(pieces))
        if release is not None:
            release(pos, piece_stop)
        pos = piece_stop


def _columns(view: memoryview, span: _Span, expected: int) -> ResultColumns | None:
    """The span's filled columns, undecided numbers settled; None unless ``expected``."""
    if span.status != expected:
        return None
    image_id, category_id, bbox, score = span.columns
    for p in span.pieces:
        if len(p.slots) and not _settle_undecided(
            view, p.cap, bbox[p.row :].reshape(-1), score[p.row :], p.slots, p.starts, p.ends
        ):
            return None
    n = span.count
    return ResultColumns(image_id[:n], category_id[:n], bbox[:n], score[:n])


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
