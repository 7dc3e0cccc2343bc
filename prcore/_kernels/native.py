"""numba's ahead-of-time build of the kernels: one extension module that loads without numba.

A fresh ``prcore`` command would spend about 0.3 s importing numba, starting its
runtime and loading cached kernels before it does any work; the Rust peers
spend none of that. So ``pip install`` builds every kernel with numba's AOT
compiler (``numba.pycc``, see ``prcore/_build_hook.py``), for exactly the
argument types prcore passes (:data:`KERNELS`), into one extension module in
the package. ``prcore warmup --native`` builds it on demand into the user's
cache. A process that finds it loads it with one ``dlopen`` and never imports
numba. Nothing is ever built behind the user's back.

It is the same numba code from the same source, compiled with the same
options (no fastmath, the GIL released), so its results are the JIT's bit for
bit; tests check that. AOT entry points do not check their arguments, so
:class:`Kernel` does: a call whose types were not built goes to numba's JIT
kernel (``cache=True``: compiled on first use, then loaded from numba's cache),
as does every call when the module is missing, stale (the kernels' source,
the Python minor version or the machine changed), unloadable, or turned off
with ``PRCORE_NO_NATIVE=1``. ``PRCORE_NO_PREBUILT=1`` ignores the build that
``pip install`` put into the package (:data:`PREBUILT`; for benchmarks and tests).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import platform
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

# The one registry of kernels: each kernel that Python calls, by name, with its
# module and every argument-type tuple that prcore passes it. The handles in
# prcore._kernels, the ahead-of-time build and its argument checks all read it.
# Codes: i1 i4 i8 u1 u8 f8 b1 for int8 ... bool; "T[n]" a C-contiguous, aligned,
# writable n-d array of T ("T[n]r": may be read-only); a bare code a scalar; a
# tuple a tuple of those. tests/test_native.py reruns the oracle suites on the
# build and checks that they call nothing else and use every variant.
_COLUMNS = ("u8[1]", "u8[1]", "i8[1]", "u1[1]", "f8[1]", "u8[1]")  # the scanners' power tables
KERNELS: dict[str, tuple[str, tuple[tuple, ...]]] = {
    "accumulate_curves": ("accumulate", (
        # the match table's arrays may be read-only (the result's are)
        ("i8[1]r", "i4[1]r", "f8[1]r", "i4[1]r", "u1[3]r", "i8[2]r", "f8[1]", "i8[1]", "f8",
         "f8[5]", "f8[4]", "f8[5]", "i8[1]", "i8[1]", "i8[1]", "i8[1]", "f8[1]", "i8", "i8"),
    )),
    "scan_ground_truth_kernel": ("coco_scan", (
        ("u1[1]r", _COLUMNS, "i8[1]", "i8[1]", "i8[1]", "i8[1]", "i1[1]", "i8[1]", "i8[1]",
         "i8[1]", "f8[2]", "f8[1]", "i8[1]", "i1[1]", "f8[1]", "i8[1]", "b1[1]", "f8[1]", "b1",
         "i8[2]", "f8[1]", "i8[1]", "i8[1]", "i1[1]", "i8[2]", "b1", "i8[1]", "i8[1]", "i8[1]",
         "u1[1]"),
    )),
    "dense_index": ("ids", (
        ("i8[1]", "i8[1]", "i8[1]", "i4[1]"),
    )),
    "box_iou_cells": ("similarity", (
        ("i8[1]", "i4[1]", "f8[2]", "i8[1]", "f8[2]", "b1[1]", "i8[1]", "f8[1]", "f8[2]", "i8",
         "i8"),
    )),
    "oks_terms": ("similarity", (
        ("i8[1]", "i4[1]", "f8[1]", "i8[1]", "i8[1]", "f8[1]", "i8[1]", "f8[2]", "f8[1]", "f8[1]",
         "i8[1]", "i8", "i8[1]", "i8[1]", "f8[1]", "i8", "i8"),
    )),
    "oks_sums": ("similarity", (
        ("i8[1]", "f8[1]", "f8[1]", "i8", "i8"),
    )),
    "match_cells": ("match", (
        ("i8[1]", "i4[1]", "f8[1]", "i8[1]", "f8[1]", "b1[1]", "b1[1]", "i8[1]", "i8[1]", "f8[1]",
         "f8[1]", "f8[2]", "u1[3]", "i4[3]", "f8[1]", "i8[1]", "b1[2]", "b1[1]", "i8[3]", "i8",
         "i8"),
    )),
    "radix_sort": ("order", (
        ("u8[1]", "i4[1]", "u8[1]", "i4[1]", "i8[1]"),
    )),
    "scatter_by_key": ("order", (
        ("i4[1]", "i4[1]", "i8[1]", "i4[1]"),
        ("i8[1]", "i8[1]", "i8[1]", "i8[1]"),
    )),
    "descending_score_keys": ("order", (
        ("f8[1]", "i4[1]", "u8[1]"),
    )),
    "cell_keys": ("order", (
        ("i4[1]", "i4[1]", "i8[1]", "i8[1]", "i8", "i8", "b1", "i4[1]", "i4[1]", "i8[1]", "i8[1]",
         "i8[1]", "i8[1]"),
    )),
    "scatter_selected": ("order", (
        ("i4[1]", "i8[1]", "i4[1]"),
    )),
    "place_in_cells": ("order", (
        ("i4[1]", "i8[1]", "i8[1]", "i8", "f8[1]", "i4[1]", "i4[1]", "i4[1]", "f8[1]", "i4[1]",
         "i8[1]"),
        ("i4[1]", "i4[1]", "i8[1]", "i8", "f8[1]", "i4[1]", "i4[1]", "i4[1]", "f8[1]", "i4[1]",
         "i8[1]"),
    )),
    "scan_results_kernel": ("results_scan", (
        ("u1[1]r", _COLUMNS, "i8[1]", "i8[1]", "f8[2]", "f8[1]", "f8[1]", "i8[1]", "b1",
         "i8[1]", "i8[1]", "i8[1]", "u1[1]", "i8", "i8"),
    )),
    "scan_mask_results_kernel": ("masks_scan", (
        ("u1[1]r", _COLUMNS, "i8[1]", "i8[1]", "f8[1]", "f8[2]", "u1[1]", "i8[2]", "i8[2]",
         "i8[1]", "i8[1]", "i8[1]", "u1[1]"),
    )),
    # RLE masks (maskApi.c), prcore._kernels.rle, as segm evaluation calls them; counts are
    # u4 (maskApi.c's uint). prcore.mask's own (encode, decode, rle_iou) stay JIT-only.
    "rle_from_strings": ("rle", (
        ("u1[1]r", "i8[1]r", "i8[1]r", "i8[1]r", "i8[1]r", "b1", "u4[1]", "i8[1]", "i8[1]",
         "f8[2]"),
    )),
    "rle_to_strings": ("rle", (
        ("u4[1]r", "i8[1]r", "u1[1]", "i8[1]"),
    )),
    "rle_area": ("rle", (
        ("u4[1]r", "i8[1]r", "i8[1]"),
    )),
    "rle_to_bbox": ("rle", (
        ("u4[1]r", "i8[1]r", "i8[1]r", "i8[1]r", "f8[2]"),
    )),
    "rle_check_area": ("rle", (
        ("u4[1]r", "i8[1]r", "i8[1]r"),
    )),
    "polys_rle_bounds": ("rle", (
        ("f8[1]r", "i8[1]r", "i8[1]r", "i8[1]"),
    )),
    "polys_to_merged_rle": ("rle", (
        ("f8[1]r", "i8[1]r", "i8[1]r", "i8[1]r", "i8[1]r", "i8[1]", "u4[1]", "i8[1]", "i8[1]",
         "u4[1]", "i8[1]"),
    )),
    "mask_iou_cells": ("rle", (
        ("i8[1]r", "i4[1]r", "u1[1]r", "i8[1]r", "i8[1]r", "i8[1]r", "i8[1]r", "b1", "i8[1]r",
         "i8[1]r", "u4[1]r", "i8[1]r", "f8[2]r", "b1[1]r", "i8[1]r", "f8[1]", "i8", "i8",
         "u4[1]"),
    )),
}  # fmt: skip
SIGNATURES = {name: sigs for name, (_, sigs) in KERNELS.items()}
_DTYPES = {"i1": "int8", "i4": "int32", "i8": "int64", "u1": "uint8", "u4": "uint32", "u8": "uint64", "f8": "float64", "b1": "bool"}  # fmt: skip
# Generic x86-64 / aarch64 code, so that a cache shared between machines
# never meets an instruction its CPU lacks; the kernels are scalar code.
_TARGET_CPU = ""  # pycc: the architecture's generic model
_PREFIX = "prcore_native_"


def _source_key(kernels: Path = Path(__file__).parent) -> str:
    """What the build depends on: the kernels' source (this table included), Python and
    the machine; "" when that cannot be read.

    Not numba's version: the build does not use numba once built. Not numpy's
    either: a numpy whose C API the build cannot use makes its import fail,
    and ``prcore warmup --native`` rebuilds it.
    """
    digest = hashlib.sha256()
    try:
        sources = sorted(kernels.glob("*.py"))
        for path in sources:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    except OSError:
        return ""
    if not sources:
        return ""
    # Python by minor version: the extension suffix pins the ABI, and a patch
    # release of the same Python loads the same build.
    py = f"{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}"
    digest.update(f"{py}|{platform.machine()}|{_TARGET_CPU}".encode())
    return digest.hexdigest()[:20]


# Once, at import: a build made later from edited or upgraded source must not be
# loaded by a process whose checkers come from this table.
_KEY = _source_key()
_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


PREBUILT = Path(__file__).parent / "prebuilt"  # where ``pip install`` puts its build


def bundle_dirs() -> list[Path]:
    """Where builds are written (numba's cache directory for the kernels, else the
    user's cache), in the order they are looked up; :data:`PREBUILT` is looked up last."""
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    if cache_dir:
        return [Path(cache_dir) / "prcore-native"]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [_own_cache(), Path(xdg) / "prcore"]


def _own_cache() -> Path:
    return Path(__file__).parent / "__pycache__"


def bundle_name() -> str | None:
    """The build's module name for this process's kernel source, or None when unknown."""
    return _PREFIX + _KEY if _KEY else None


def _candidates() -> list[Path]:
    name = bundle_name()
    if name is None:
        return []
    found = []
    prebuilt = [] if os.environ.get("PRCORE_NO_PREBUILT") else [PREBUILT]
    for directory in [*bundle_dirs(), *prebuilt]:
        path = directory / (name + _SUFFIX)
        try:
            if path.is_file():
                found.append(path)
        except OSError:
            continue
    return found


def bundle_path() -> Path | None:
    """The first file of a build for this source, if any (loadable or not)."""
    found = _candidates()
    return found[0] if found else None


_lock = threading.Lock()
_UNSET = object()
_loaded = _UNSET  # the module, or None, once looked up


def bundle():
    """The loaded build, or None (missing, stale, unloadable or turned off)."""
    global _loaded
    module = _loaded
    if module is _UNSET:
        with _lock:
            if _loaded is _UNSET:
                _loaded = _load()
            module = _loaded
    return module


def _load():
    if os.environ.get("PRCORE_NO_NATIVE"):
        return None
    for path in _candidates():
        module = _load_file(path)
        if module is not None:
            return module
    return None


def _load_file(path: Path):
    """The module in ``path``, or None when it does not load or lacks an entry point."""
    try:
        spec = importlib.util.spec_from_file_location(path.name.split(".")[0], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception:  # a broken or foreign file: the JIT kernels serve
        return None
    if not all(hasattr(module, _entry(n, i)) for n, s in SIGNATURES.items() for i in range(len(s))):
        return None
    return module


def _entry(name: str, i: int) -> str:
    return f"{name}__{i}"


def _parse(code: str) -> tuple[str, int, bool]:
    """A scalar or array code as (dtype code, ndim (0: a scalar), may be read-only)."""
    readonly = code.endswith("]r")
    if code.endswith(("]", "]r")):
        return code[:2], int(code[3 : -2 if readonly else -1]), readonly
    return code, 0, False


def _checker(code):
    """A predicate: does this argument have the type ``code`` stands for, exactly."""
    if isinstance(code, tuple):
        parts = tuple(_checker(c) for c in code)
        n = len(parts)
        return lambda a: (
            type(a) is tuple and len(a) == n and all(c(x) for c, x in zip(parts, a, strict=True))
        )
    kind, ndim, readonly = _parse(code)
    if ndim:
        dtype = np.dtype(_DTYPES[kind])

        def array(a) -> bool:
            if type(a) is not np.ndarray or a.dtype != dtype or a.ndim != ndim:
                return False
            flags = a.flags
            return flags.c_contiguous and flags.aligned and (flags.writeable or readonly)

        return array
    if kind == "b1":
        return lambda a: type(a) is bool or type(a) is np.bool_
    if kind == "f8":
        return lambda a: type(a) is float or type(a) is np.float64
    if kind == "i8":
        return lambda a: (type(a) is int and -(1 << 63) <= a < 1 << 63) or type(a) is np.int64
    raise ValueError(f"no scalar argument type {code!r}")


class Kernel:
    """A kernel by name: its AOT build for the argument types built, numba's JIT otherwise."""

    __slots__ = ("name", "module", "served", "_variants", "_jit")

    def __init__(self, name: str) -> None:
        self.name = name
        self.module = KERNELS[name][0]
        self.served: set[int] = set()  # which built variants have served a call
        self._variants: tuple | None = None
        self._jit = None

    def __repr__(self) -> str:
        return f"Kernel({self.name!r})"

    def __call__(self, *args):
        variants = self._variants
        if variants is None:
            variants = self._variants = self._native_variants()
        for i, (checks, entry) in enumerate(variants):
            if len(args) == len(checks) and all(c(a) for c, a in zip(checks, args, strict=True)):
                self.served.add(i)
                return entry(*args)
        return self.jit(*args)

    def _native_variants(self) -> tuple:
        module = bundle()
        if module is None:
            return ()
        return tuple(
            (tuple(_checker(c) for c in codes), getattr(module, _entry(self.name, i)))
            for i, codes in enumerate(SIGNATURES[self.name])
        )

    @property
    def jit(self):
        """numba's dispatcher for this kernel (importing numba)."""
        if self._jit is None:
            module = importlib.import_module(f"prcore._kernels.{self.module}")
            self._jit = getattr(module, self.name)
        return self._jit


def _numba_type(code):
    from numba.core import types

    if isinstance(code, tuple):
        return types.Tuple([_numba_type(c) for c in code])
    kind, ndim, readonly = _parse(code)
    dtype = getattr(types, "boolean" if kind == "b1" else _DTYPES[kind])
    return types.Array(dtype, ndim, "C", readonly=readonly) if ndim else dtype


def _writable_dir() -> Path | None:
    import tempfile

    for directory in bundle_dirs():
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-").close()
            return directory
        except OSError:
            continue
    return None


@contextmanager
def _build_lock(directory: Path, name: str, wait_s: float = 0.0):
    """Hold the build lock for ``name`` in ``directory``: yields False when another
    process holds it for over ``wait_s`` (or this platform has no ``flock``). The
    kernel drops a dead holder's lock, so no lock ever goes stale."""
    import time

    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no builds
        yield False
        return
    try:
        fd = os.open(directory / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o644)
    except OSError:
        yield False
        return
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        yield True
    finally:
        os.close(fd)


def build_locked() -> Path | None:
    """:func:`build` into the first writable cache directory, one build at a time.

    Returns the build's file (made now, or found made by another process), or
    None when another build holds the lock. Raises when there is no writable
    cache directory or the build fails (no C compiler, no ``numba.pycc``).
    """
    name = bundle_name()
    directory = _writable_dir()
    if name is None or directory is None:
        raise RuntimeError("no writable cache directory, or the kernels' source cannot be read")
    with _build_lock(directory, name, wait_s=1.0) as held:
        if not held:
            return None
        for path in _candidates():
            if _load_file(path) is not None:
                return path
        return build(directory)


def build(directory: Path) -> Path:
    """Build the AOT module for the current source into ``directory``; return its file.

    Needs numba's ``pycc`` and a C compiler, and raises when either is
    missing. Written under a temporary name and renamed, so that a reader
    never sees half a file; older builds in ``directory`` are removed.
    """
    import tempfile
    import warnings

    name = bundle_name()
    if name is None:
        raise RuntimeError("the kernels' source cannot be read")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc is "pending deprecation"; the JIT stays the fallback
        from numba.core.compiler import Flags
        from numba.pycc import CC
        from numba.pycc import compiler as pycc_compiler

    class _GilReleasingFlags(Flags):
        """pycc's flags, plus ``nogil`` as :func:`prcore._kernels.jit.jit` compiles with."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True

    with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as out:
        cc = CC(name)
        cc.output_dir = out
        cc.target_cpu = _TARGET_CPU
        for kernel_name, (module_name, _) in KERNELS.items():
            module = importlib.import_module(f"prcore._kernels.{module_name}")
            func = getattr(module, kernel_name).py_func
            for i, codes in enumerate(SIGNATURES[kernel_name]):
                cc.export(_entry(kernel_name, i), tuple(_numba_type(c) for c in codes))(func)
        plain_flags = pycc_compiler.Flags
        pycc_compiler.Flags = _GilReleasingFlags
        try:
            cc.compile()
        finally:
            pycc_compiler.Flags = plain_flags
        built = Path(out) / cc.output_file
        if _load_file(built) is None:  # e.g. numpy's C API at odds with this numpy
            raise ImportError(f"the built module {built.name} does not load here")
        target = directory / (name + _SUFFIX)
        os.replace(built, target)
    _remove_other_builds(directory, name)
    return target


_SHARED_KEEP_S = 7 * 86400


def _remove_other_builds(directory: Path, name: str) -> None:
    """Drop other source versions' builds for this Python (the suffix names it; other
    Pythons sharing a checkout keep theirs): all of them in this package's own
    directories (``__pycache__``, :data:`PREBUILT`), and in a shared one
    (NUMBA_CACHE_DIR, ~/.cache), which other installs may be using, those
    untouched for a week. Lock files stay."""
    import time

    own = directory.resolve() in (_own_cache().resolve(), PREBUILT.resolve())
    for path in directory.glob(_PREFIX + "*"):
        if path.name.startswith(name + ".") or not path.name.endswith(_SUFFIX):
            continue
        try:
            if own or time.time() - path.stat().st_mtime > _SHARED_KEEP_S:
                path.unlink()
        except OSError:
            pass


_handles: dict[str, Kernel] = {}


def handle(name: str) -> Kernel:
    """The one handle of the registered kernel ``name`` (made on first request)."""
    found = _handles.get(name)
    if found is None:
        found = _handles.setdefault(name, Kernel(name))
    return found


def forget() -> None:
    """Look the build up again at the next call (after a build in this process, and in tests)."""
    global _loaded
    with _lock:
        _loaded = _UNSET
        for made in _handles.values():
            made._variants = None
