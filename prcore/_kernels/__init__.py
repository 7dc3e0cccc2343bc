"""Numba kernels: pure functions over arrays, no Python objects, no I/O.

Every kernel is compiled with the one decorator in :mod:`prcore._kernels.jit`
and registered once, in :data:`prcore._kernels.native.KERNELS`. Callers outside
this package import its handle from here (``from prcore._kernels import
match_cells``), not the module's dispatcher: a handle runs the ahead-of-time
build where one is present (:mod:`prcore._kernels.native`, no numba import) and
numba's JIT otherwise.
"""

from prcore._kernels.native import KERNELS, Kernel, handle


def __getattr__(name: str) -> Kernel:
    if name not in KERNELS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return handle(name)


def handles() -> list[Kernel]:
    """A handle for every registered kernel."""
    return [handle(name) for name in KERNELS]
