"""What the byte scanners share with their Python callers, without numba.

Status codes, the nesting-stack scratch, the exact power-of-ten tables, the
settling of undecided numbers and the checked mode: the callers in
:mod:`prcore.io.results_scan` and :mod:`prcore.io.coco_scan` need them whether
the kernels come from numba's JIT or from the ahead-of-time build
(:mod:`prcore._kernels.native`), and importing them must not import numba.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

# Status codes of scan_results_kernel (scan_ground_truth_kernel uses the first three).
OK = 0
REJECT = 1
FALLBACK_FULL = 2
PAUSED = 3  # stopped at a record boundary the caller named (see scan_results_kernel)

# Power-of-ten table range, as in Go's strconv (eisel_lemire.go).
POW10_MIN = -348
POW10_MAX = 347

MAX_DEPTH = 256  # json.loads recurses; stay far below its recursion limit

# Kinds of a ground-truth segmentation, as scan_ground_truth_kernel reads it (seg_kind).
SEG_POLYGONS = 0  # [[x0, y0, x1, y1, ...], ...]
SEG_RUNS = 1  # uncompressed RLE: {"size": [h, w], "counts": [runs]}


def checked_mode() -> bool:
    """Whether the scanners run their bounds-checked variants (``PRCORE_SCAN_CHECKED=1``).

    Every raw load of those variants checks its index and raises ``IndexError``
    rather than read outside its array (see :mod:`prcore._kernels.json_tokens`).
    They are for tests, and compile through numba's JIT only.
    """
    return os.environ.get("PRCORE_SCAN_CHECKED", "") not in ("", "0")


def new_stack() -> np.ndarray:
    """Scratch for the scanners' nesting stack."""
    return np.empty(MAX_DEPTH, np.uint8)


def power_tables() -> tuple[np.ndarray, ...]:
    """Exact tables for the kernel, built with Python integers.

    Returns
    -------
    tables : tuple ``(pow_hi, pow_lo, pow_e2, pow_exact, exact, pow10_int)``
    pow_hi, pow_lo : uint64 (POW10_MAX - POW10_MIN + 1,)
        High and low words of ``floor(10**q * 2**(127 - pow_e2[q]))``, a
        128-bit number in ``[2**127, 2**128)``; truncation (never rounding up)
        is what the Eisel-Lemire error bound assumes.
    pow_e2 : int64 (same,)
        ``floor(log2(10**q))``.
    pow_exact : uint8 (same,)
        Whether the 128 bits hold ``10**q`` exactly (``0 <= q <= 55``).
    exact : float64 (23,)
        ``1e0 .. 1e22``, the powers of ten a double holds exactly.
    pow10_int : uint64 (20,)
        ``10**k`` as integers.
    """
    count = POW10_MAX - POW10_MIN + 1
    hi = np.empty(count, np.uint64)
    lo = np.empty(count, np.uint64)
    e2 = np.empty(count, np.int64)
    is_exact = np.zeros(count, np.uint8)
    mask = (1 << 64) - 1
    for i, q in enumerate(range(POW10_MIN, POW10_MAX + 1)):
        if q >= 0:
            p = 10**q
            e = p.bit_length() - 1
            t = p << (127 - e) if e <= 127 else p >> (e - 127)
            is_exact[i] = (t << (e - 127) if e >= 127 else t >> (127 - e)) == p
        else:
            d = 10**-q
            e = -d.bit_length()  # 10**-q is never a power of two
            t = (1 << (127 - e)) // d
        hi[i] = t >> 64
        lo[i] = t & mask
        e2[i] = e
    exact = np.array([10.0**k for k in range(23)], dtype=np.float64)
    pow10_int = np.array([10**k for k in range(20)], dtype=np.uint64)
    return hi, lo, e2, is_exact, exact, pow10_int


@lru_cache(maxsize=1)
def tables() -> tuple[np.ndarray, ...]:
    """:func:`power_tables`, built once per process."""
    return power_tables()


def settle_undecided(
    data: memoryview,
    cap: int,
    first: np.ndarray,
    second: np.ndarray,
    slots: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
) -> None:
    """Convert the numbers a kernel left undecided with Python's ``float()``.

    CPython's ``float()`` is correctly rounded, like ``json.loads``; an integer
    token gives the same double through ``float()`` as through ``int()`` then
    numpy. Slot ``i < 4 * cap`` is ``first[i]`` (a box column, flat), otherwise
    ``second[i - 4 * cap]`` (a score or area column); ``data[starts[k]:ends[k]]``
    is the number's token.
    """
    for slot, s, e in zip(slots.tolist(), starts.tolist(), ends.tolist()):
        value = float(bytes(data[s:e]))
        if slot < 4 * cap:
            first[slot] = value
        else:
            second[slot - 4 * cap] = value
