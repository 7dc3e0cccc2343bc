"""The one jit decorator every kernel uses.

``cache=True`` so the compile cost is paid once per machine, ``nogil=True`` so
kernels can run beside other threads, and never ``fastmath``: reassociating
floating point would break bit-exactness with pycocotools.
"""

from __future__ import annotations

import numba


def jit(*args, **kwargs):
    """``numba.njit`` with prcore's fixed options (cache, nogil, no fastmath)."""
    options = {"cache": True, "nogil": True}
    options.update(kwargs)
    if args and callable(args[0]) and len(args) == 1 and not kwargs:
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)


def compiled_or_cached(kernel) -> bool:
    """True when calling ``kernel`` needs no compile.

    That is, it was compiled in this process, or numba's on-disk cache holds
    an index for its current source (the same check numba makes on load).
    """
    if kernel.signatures:
        return True
    try:
        return bool(kernel._cache._cache_file._load_index())
    except Exception:  # no cache, unreadable cache, or a numba without these internals
        return False
