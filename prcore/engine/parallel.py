"""Share work across the cores for the length of one call."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

_THREADS = max(1, min(os.cpu_count() or 1, 8))
# Below this many items a single thread is faster than starting others.
_MIN_PARALLEL = 20000
# Ranges per thread: the threads take the next range as they finish, so that cells
# that cost more than their share of items (large masks, crowded images) do not
# leave a core idle at the end.
_RANGES_PER_THREAD = 4


def run_split(kernel, offsets: np.ndarray, args: tuple, scratch=lambda: ()) -> None:
    """Run ``kernel(*args, *scratch(), lo, hi)`` over group ranges on all cores.

    ``offsets`` (G + 1) delimit the groups; ranges are cut to balance items,
    several per thread, handed out as threads come free. The kernels release
    the GIL (``nogil``) and write disjoint slices, so threads share the work
    without ``numba.prange``. Each range gets its own scratch. The threads live
    for this call only: a library call leaves no thread behind.
    """
    n_groups = len(offsets) - 1
    total = int(offsets[-1]) if n_groups else 0
    if _THREADS == 1 or total < _MIN_PARALLEL:
        kernel(*args, *scratch(), 0, n_groups)
        return
    n_ranges = _THREADS * _RANGES_PER_THREAD
    cuts = np.searchsorted(offsets, np.linspace(0, total, n_ranges + 1)[1:-1])
    bounds = [0, *cuts.tolist(), n_groups]
    ranges = [(lo, hi) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]
    with ThreadPoolExecutor(min(_THREADS, len(ranges)), thread_name_prefix="prcore") as pool:
        futures = [pool.submit(kernel, *args, *scratch(), lo, hi) for lo, hi in ranges]
        for f in futures:
            f.result()


@contextmanager
def in_background(fn: Callable, *args) -> Iterator[Callable]:
    """Run ``fn(*args)`` on another thread during a ``with`` block.

    Yields a function that waits for and returns the result (raising what
    ``fn`` raised). Leaving the block waits for the thread, also when the block
    raises (``fn``'s own error is then dropped): no thread outlives the call.
    On one core, ``fn`` runs when its result is asked for.
    """
    if _THREADS == 1:
        yield lambda: fn(*args)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="prcore") as pool:
        yield pool.submit(fn, *args).result
