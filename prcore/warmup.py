"""Compile kernels into numba's cache in other processes, so that no one waits long.

Two jobs. The byte scanners (below) compile after a run, in the background.
And a cold first run, with nothing cached, has a helper process compile the
matching and accumulation kernels (:func:`compile_late_kernels_aside`) while
it parses the files and compiles the grouping kernels itself: on two cores
that takes about a third off the first run. ``PRCORE_NO_WARMUP=1`` turns
both off.

The scanners make parsing 10-40x faster than a JSON parser, but compiling
them takes several seconds, more than the general path (pydantic_core's JSON
parser) needs even for a val2017-sized file. So until they are in numba's
on-disk cache, :mod:`prcore.load` parses with the general path and calls
:func:`request`; once the evaluation is done (or at exit, for callers that
only load), :func:`start` compiles them in a detached background process, so
that the compile does not compete with the run that asked for it. The runs
after it take the fast path.

The same background process first builds the kernels ahead of time
(:mod:`prcore._kernels.native`) when no current build exists, so that later
processes need not import numba at all; only if that build cannot be done here
(no C compiler, no ``numba.pycc``) does it compile the scanners with the JIT.
A failed build is remembered per source version, and at most one build runs
at a time.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading

_requested = False
_native_requested = False
_native_checked = False
_started = False
_late: subprocess.Popen | None = None
_late_lock = threading.Lock()
# The helper needs about 4 s on two busy cores; past this, the run compiles itself.
_LATE_TIMEOUT_S = 60


def _allowed() -> bool:
    """Not turned off, and ``sys.executable -m ...`` starts a Python (not a frozen app)."""
    if os.environ.get("PRCORE_NO_WARMUP"):
        return False
    return bool(sys.executable) and not getattr(sys, "frozen", False)


_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _spawn(*args: str, detached: bool) -> subprocess.Popen | None:
    """``python -m prcore.warmup ARGS`` in a silent child process, or None."""
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "prcore.warmup", *args],
            cwd=_PACKAGE_PARENT,  # this prcore, not one in the caller's directory
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=detached,
        )
    except OSError:
        return None  # the kernels then compile where they are first called


def compile_late_kernels_aside() -> None:
    """Start a helper process compiling ``match_cells`` and ``accumulate_curves`` (once)."""
    global _late
    with _late_lock:
        if _late is None and _allowed():
            _late = _spawn("--late", detached=False)


def await_late_kernels() -> None:
    """Wait for the helper, if one was started, before its kernels are first called.

    Calling them earlier would compile them here as well. Any number of
    threads may wait; once the helper has exited this returns at once.
    Whatever the helper's fate, the call afterwards loads from the cache or
    compiles.
    """
    helper = _late
    if helper is None:
        return
    try:
        helper.wait(timeout=_LATE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()


def scanners_ready() -> bool:
    """The scanners and the id lookup compiled here or cached on disk."""
    from prcore._kernels import dense_index, scan_ground_truth_kernel, scan_results_kernel

    return all(k.ready() for k in (scan_results_kernel, scan_ground_truth_kernel, dense_index))


def request() -> None:
    """Compile the scanners in the background once this process's work is done."""
    global _requested
    if not _requested:
        _requested = True
        atexit.register(start)


def request_native() -> None:
    """Build the kernels ahead of time in the background once this process's work is done.

    Only when no build for the current source exists, none is running, none
    failed here before, and ``PRCORE_NO_NATIVE`` is unset.
    """
    global _native_checked, _native_requested
    from prcore._kernels import native

    if _native_checked:
        return
    _native_checked = True
    if native.build_wanted():
        _native_requested = True
        atexit.register(start)


def start_requested() -> None:
    """Start the background work now if it was requested (end of an evaluation, or
    a command about to exit without running ``atexit`` hooks)."""
    if _requested or _native_requested:
        start()


def start() -> None:
    """Start the requested background work in one detached process (once per process)."""
    global _started
    if not _started and _allowed():
        _started = True
        args = ("--native",) if _native_requested else ()
        _spawn(*args, detached=True)  # if it cannot start, the fast path simply stays off


def compile_scanners() -> None:
    """Run each scanner (and the id lookup) once on tiny input: numba compiles and caches it."""
    import numpy as np

    from prcore.coco_scan import scan_ground_truth
    from prcore.load import _dense_kernel
    from prcore.results_scan import scan_results

    ids = np.zeros(5, np.int64)
    _dense_kernel(ids, ids[:1])
    scan_results(b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]')
    scan_ground_truth(
        b'{"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}], "annotations": '
        b'[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1}]}'
    )


def build_native_or_compile_scanners() -> None:
    """The background job after a run: the AOT build, else the scanners' JIT compile."""
    from prcore._kernels import native

    try:
        os.nice(10)  # background work: the user's next run comes first
    except (AttributeError, OSError):
        pass
    if native.build_locked() in ("failed", "unavailable") and not scanners_ready():
        compile_scanners()


if __name__ == "__main__":
    if sys.argv[1:] == ["--late"]:
        from prcore.engine import compile_late_kernels

        compile_late_kernels()
    elif sys.argv[1:] == ["--native"]:
        build_native_or_compile_scanners()
    else:
        compile_scanners()
