"""The one jit decorator every kernel uses.

``cache=True`` so the compile cost is paid once per machine, ``nogil=True`` so
kernels can run beside other threads, and never ``fastmath``: reassociating
floating point would break bit-exactness with pycocotools.

Loading a kernel from numba's cache normally refreshes the whole target
context first, which imports and registers every numba implementation module
(about 0.2 s and 60 MB in a fresh process) although a cached kernel needs only
the NRT. :class:`_CacheLoadingOnlyTheRuntime` skips that refresh; a cache miss
still compiles through numba's own pipeline, which refreshes for itself.
"""

from __future__ import annotations

import numba

try:  # numba internals; without them kernels load the standard way
    from numba.core.caching import FunctionCache
    from numba.core.runtime import rtsys
except ImportError:  # pragma: no cover - other numba versions
    FunctionCache = None


if FunctionCache is not None:

    class _CacheLoadingOnlyTheRuntime(FunctionCache):
        """numba's ``FunctionCache`` whose loads initialise only the NRT."""

        def load_overload(self, sig, target_context):
            rtsys.initialize(target_context)  # what the loaded code links against
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)


def _load_lightly(dispatcher):
    """Swap the dispatcher's cache for the light-loading one, where numba allows."""
    cache = getattr(dispatcher, "_cache", None)
    if FunctionCache is None or type(cache) is not FunctionCache:
        return dispatcher
    try:
        dispatcher._cache = _CacheLoadingOnlyTheRuntime(dispatcher.py_func)
    except Exception:  # pragma: no cover - keep numba's own cache
        pass
    return dispatcher


def jit(*args, **kwargs):
    """``numba.njit`` with prcore's fixed options (cache, nogil, no fastmath)."""
    options = {"cache": True, "nogil": True}
    options.update(kwargs)
    if args and callable(args[0]) and len(args) == 1 and not kwargs:
        return _load_lightly(numba.njit(**options)(args[0]))
    decorate = numba.njit(*args, **options)
    return lambda func: _load_lightly(decorate(func))


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


def preload(kernels) -> None:
    """Load every signature of ``kernels`` that numba's disk cache holds; never compile.

    Run in a background thread at the start of an evaluation, it overlaps the
    loading (LLVM object loading and linking, which releases the GIL) with
    the file scans; a kernel called before its turn simply loads itself.
    """
    if FunctionCache is None:
        return
    from numba.core import sigutils
    from numba.core.compiler_lock import global_compiler_lock

    for kernel in kernels:
        cache = getattr(kernel, "_cache", None)
        if not isinstance(cache, _CacheLoadingOnlyTheRuntime) or kernel.overloads:
            continue
        try:
            index = cache._cache_file._load_index()
            magic = kernel.targetctx.codegen().magic_tuple()
            for sig, key_magic, _ in index:
                if key_magic != magic:
                    continue
                with global_compiler_lock:
                    args, _ = sigutils.normalize_signature(sig)
                    if tuple(args) in kernel.overloads:
                        continue
                    cres = cache.load_overload(sig, kernel.targetctx)
                    if cres is None:  # stale entry: the call will compile, as usual
                        continue
                    kernel._cache_hits[sig] += 1
                    kernel.targetctx.insert_user_function(
                        cres.entry_point, cres.fndesc, [cres.library]
                    )
                    kernel.add_overload(cres)
        except Exception:  # pragma: no cover - numba internals differ; calls load as usual
            continue
