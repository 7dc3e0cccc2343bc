"""How prcore's arrays get their memory: plain pages, not transparent huge pages."""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

try:  # numpy's switch for madvise(MADV_HUGEPAGE) on large arrays (private, numpy >= 1.20)
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # pragma: no cover - numpy 1.x
    try:
        from numpy.core.multiarray import _set_madvise_hugepage
    except ImportError:
        _set_madvise_hugepage = None

_PAGES_LOCK = threading.Lock()
_PAGES_USERS = 0
_PAGES_PREVIOUS = True


@contextmanager
def plain_pages():
    """Allocate this call's arrays without asking for transparent huge pages.

    numpy madvises every large array for huge pages; under the kernel's default THP
    defrag policy (``madvise``) each such fault may compact memory synchronously. On a
    machine whose memory other processes have just churned, that cost prcore 0.3-0.6 s
    of system time per run at scale 4 (1.7 M detections), one third of the run. The
    arrays live for one call, so plain pages are cheaper. The setting is restored when
    the last concurrent call leaves.
    """
    global _PAGES_USERS, _PAGES_PREVIOUS
    if _set_madvise_hugepage is None:
        yield
        return
    with _PAGES_LOCK:
        if _PAGES_USERS == 0:
            _PAGES_PREVIOUS = _set_madvise_hugepage(False)
        _PAGES_USERS += 1
    try:
        yield
    finally:
        with _PAGES_LOCK:
            _PAGES_USERS -= 1
            if _PAGES_USERS == 0:
                _set_madvise_hugepage(_PAGES_PREVIOUS)


def _load_malloc_trim():
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def release_eagerly() -> bool:
    """Whether to give memory back to the system as soon as a phase is done with it.

    Only while numba is loaded (the JIT kernels), whose runtime keeps about
    0.1 GiB resident: that is where the peak is tight. With the ahead-of-time
    build numba is never imported and the peak has room, and on a VM each
    release (``madvise``, ``malloc_trim``) and the fresh page faults after it
    cost up to 0.5 s of system time at scale 4 (measured; benchmarks/).
    """
    return "numba" in sys.modules


def return_free_memory() -> None:
    """Give the heap's free pages back to the system (glibc ``malloc_trim``), where
    :func:`release_eagerly` says so.

    Matching frees tens of MB of per-detection temporaries of a few MB each;
    glibc keeps such blocks in its heap, resident, while the accumulation's
    output arrays (larger) are mapped fresh beside them. Trimming first keeps
    them from adding up in the peak memory. Elsewhere a no-op.
    """
    if _malloc_trim is not None and release_eagerly():
        _malloc_trim(0)
