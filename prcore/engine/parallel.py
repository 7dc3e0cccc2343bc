"""Share a kernel's work across the cores for the length of one call."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_THREADS = max(1, min(os.cpu_count() or 1, 8))
# Below this many items a single thread is faster than starting others.
_MIN_PARALLEL = 20000


def run_split(kernel, offsets: np.ndarray, args: tuple, scratch=lambda: ()) -> None:
    """Run ``kernel(*args, *scratch(), lo, hi)`` over group ranges on all cores.

    ``offsets`` (G + 1) delimit the groups; ranges are cut to balance items.
    The kernels release the GIL (``nogil``) and write disjoint slices, so
    threads share the work without ``numba.prange``. Each thread gets its own
    scratch. The threads live for this call only: a library call leaves no
    thread behind.
    """
    n_groups = len(offsets) - 1
    total = int(offsets[-1]) if n_groups else 0
    if _THREADS == 1 or total < _MIN_PARALLEL:
        kernel(*args, *scratch(), 0, n_groups)
        return
    cuts = np.searchsorted(offsets, np.linspace(0, total, _THREADS + 1)[1:-1])
    bounds = [0, *cuts.tolist(), n_groups]
    ranges = [(lo, hi) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]
    with ThreadPoolExecutor(len(ranges), thread_name_prefix="prcore") as pool:
        futures = [pool.submit(kernel, *args, *scratch(), lo, hi) for lo, hi in ranges]
        for f in futures:
            f.result()
