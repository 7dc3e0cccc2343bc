"""The one jit decorator every kernel uses.

``cache=True`` so the compile cost is paid once per machine (numba's own
on-disk cache), ``nogil=True`` so kernels can run beside other threads, and
never ``fastmath``: reassociating floating point would break bit-exactness
with pycocotools.
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
