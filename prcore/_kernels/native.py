"""numba's ahead-of-time build of the kernels: one extension module that loads without numba.

A fresh ``prcore`` command spends about 0.3 s importing numba, starting its
runtime and loading cached kernels before it does any work; the Rust peers
spend none of that. So, once per machine, numba's AOT compiler
(``numba.pycc``) builds every kernel, for exactly the argument types prcore
passes (:data:`SIGNATURES`), into one extension module beside numba's own
cache. A process that finds it loads it with one ``dlopen`` and never imports
numba. :mod:`prcore.warmup` builds it in the background after a run that did
without it, or on demand with ``python -m prcore.warmup --native``.

It is the same numba code from the same source, compiled with the same
options (no fastmath, the GIL released), so its results are the JIT's bit for
bit; tests check that. AOT entry points do not check their arguments, so
:class:`Kernel` does: a call whose types were not built goes to numba's JIT
kernel, as does every call when the module is missing, stale (the kernels'
source, numba or Python changed), or turned off with ``PRCORE_NO_NATIVE=1``.
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
from pathlib import Path

import numpy as np

# Each kernel that Python calls, by module, with every argument-type tuple
# that prcore passes it. Codes: i1 i4 i8 u1 u8 f8 b1 for int8 ... bool;
# "T[n]" a C-contiguous, aligned, writable n-d array of T ("T[n]r": may be
# read-only); a bare code a scalar; a tuple a tuple of those.
# tests/test_native.py checks that evaluations pass nothing else.
MODULES = {
    "accumulate_curves": "accumulate",
    "scan_ground_truth_kernel": "coco_scan",
    "dense_index": "ids",
    "match_cells": "match",
    "radix_sort": "order",
    "scatter_by_key": "order",
    "descending_score_keys": "order",
    "cell_keys": "order",
    "scatter_selected": "order",
    "place_in_cells": "order",
    "scan_results_kernel": "results_scan",
}
_COLUMNS = ("u8[1]", "u8[1]", "i8[1]", "u1[1]", "f8[1]", "u8[1]")  # the scanners' power tables
SIGNATURES: dict[str, tuple[tuple, ...]] = {
    "accumulate_curves": (
        ("i8[1]", "i4[1]", "f8[1]", "i4[1]", "u1[3]", "i8[2]", "f8[1]", "i8[1]", "f8", "f8[5]",
         "f8[4]", "f8[5]", "i8[1]", "i8[1]", "i8[1]", "i8[1]", "f8[1]", "i8", "i8"),
    ),
    "scan_ground_truth_kernel": (
        ("u1[1]r", _COLUMNS, "i8[1]", "i8[1]", "i8[1]", "i8[1]", "i1[1]", "i8[1]", "i8[1]",
         "i8[1]", "f8[2]", "f8[1]", "i1[1]", "i1[1]", "i8[1]", "i8[1]", "i8[1]", "u1[1]"),
    ),
    "dense_index": (
        ("i8[1]", "i8[1]", "i8[1]", "i4[1]"),
        ("i8[1]", "i8[1]", "i8[1]", "i8[1]"),
    ),
    "match_cells": (
        ("i8[1]", "i4[1]", "f8[2]", "i8[1]", "f8[2]", "f8[1]", "b1[1]", "i8[1]", "f8[1]", "f8[2]",
         "u1[3]", "f8[2]", "f8[1]", "f8[2]", "f8[1]", "i8[1]", "b1[2]", "b1[1]", "i8[3]", "i8",
         "i8"),
    ),
    "radix_sort": (
        ("u8[1]", "i4[1]", "u8[1]", "i4[1]", "i8[1]"),
        ("u8[1]", "i8[1]", "u8[1]", "i8[1]", "i8[1]"),
    ),
    "scatter_by_key": (
        ("i4[1]", "i4[1]", "i8[1]", "i4[1]"),
        ("i8[1]", "i8[1]", "i8[1]", "i8[1]"),
    ),
    "descending_score_keys": (
        ("f8[1]", "i4[1]", "u8[1]"),
        ("f8[1]", "i8[1]", "u8[1]"),
    ),
    "cell_keys": (
        ("i4[1]", "i4[1]", "i8[1]", "i8[1]", "i8", "i8", "b1", "i4[1]", "i4[1]", "i8[1]", "i8[1]",
         "i8[1]", "i8[1]"),
        ("i8[1]", "i8[1]", "i8[1]", "i8[1]", "i8", "i8", "b1", "i8[1]", "i8[1]", "i8[1]", "i8[1]",
         "i8[1]", "i8[1]"),
    ),
    "scatter_selected": (
        ("i4[1]", "i8[1]", "i4[1]"),
        ("i8[1]", "i8[1]", "i8[1]"),
    ),
    "place_in_cells": (
        ("i4[1]", "i8[1]", "i8[1]", "i8", "f8[1]", "i4[1]", "i4[1]", "i4[1]", "f8[1]", "i4[1]",
         "i8[1]"),
        ("i4[1]", "i4[1]", "i8[1]", "i8", "f8[1]", "i4[1]", "i4[1]", "i4[1]", "f8[1]", "i4[1]",
         "i8[1]"),
        ("i8[1]", "i8[1]", "i8[1]", "i8", "f8[1]", "i8[1]", "i8[1]", "i8[1]", "f8[1]", "i8[1]",
         "i8[1]"),
    ),
    "scan_results_kernel": (
        ("u1[1]r", _COLUMNS, "i8[1]", "i8[1]", "f8[2]", "f8[1]", "i8[1]", "i8[1]", "i8[1]",
         "u1[1]", "i8", "i8"),
    ),
}  # fmt: skip
_DTYPES = {"i1": "int8", "i4": "int32", "i8": "int64", "u1": "uint8", "u8": "uint64", "f8": "float64", "b1": "bool"}  # fmt: skip
# Generic x86-64 / aarch64 code, so that a cache shared between machines
# never meets an instruction its CPU lacks; the kernels are scalar code.
_TARGET_CPU = ""  # pycc: the architecture's generic model
_PREFIX = "prcore_native_"


def _source_key() -> str:
    """What the build depends on: the kernels' source, numba, llvmlite, Python, the machine."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in ("numba", "llvmlite"):
        spec = importlib.util.find_spec(name)  # finds, does not import
        if spec is None or not spec.origin:
            return ""
        digest.update((Path(spec.origin).parent / "_version.py").read_bytes())
    digest.update(f"{sys.version}|{platform.machine()}|{_TARGET_CPU}".encode())
    return digest.hexdigest()[:20]


def bundle_dirs() -> list[Path]:
    """Where the build may live, in the order looked up: numba's cache directory for the kernels."""
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    if cache_dir:
        return [Path(cache_dir) / "prcore-native"]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [Path(__file__).parent / "__pycache__", Path(xdg) / "prcore"]


def bundle_name() -> str | None:
    """The build's module name for the current source, or None when that cannot be known."""
    key = _source_key()
    return _PREFIX + key if key else None


def bundle_path() -> Path | None:
    """The current build's file, when one exists."""
    name = bundle_name()
    if name is None:
        return None
    for directory in bundle_dirs():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES[:1]:
            path = directory / (name + suffix)
            if path.is_file():
                return path
    return None


_lock = threading.Lock()
_loaded: list = []  # [module or None], once looked up


def bundle():
    """The loaded build, or None (missing, stale, unloadable or turned off)."""
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            _loaded.append(_load())
    return _loaded[0]


def _load():
    if os.environ.get("PRCORE_NO_NATIVE"):
        return None
    path = bundle_path()
    if path is None:
        return None
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


def _checker(code):
    """A predicate: does this argument have the type ``code`` stands for, exactly."""
    if isinstance(code, tuple):
        parts = tuple(_checker(c) for c in code)
        n = len(parts)
        return lambda a: (
            type(a) is tuple and len(a) == n and all(c(x) for c, x in zip(parts, a, strict=True))
        )
    if code.endswith(("]", "]r")):
        dtype = np.dtype(_DTYPES[code[:2]])
        ndim = int(code[3:-2] if code.endswith("r") else code[3:-1])
        writable = not code.endswith("r")

        def array(a) -> bool:
            if type(a) is not np.ndarray or a.dtype != dtype or a.ndim != ndim:
                return False
            flags = a.flags
            return flags.c_contiguous and flags.aligned and (flags.writeable or not writable)

        return array
    if code == "b1":
        return lambda a: type(a) is bool or type(a) is np.bool_
    if code == "f8":
        return lambda a: type(a) is float or type(a) is np.float64
    if code == "i8":
        return lambda a: (type(a) is int and -(1 << 63) <= a < 1 << 63) or type(a) is np.int64
    raise ValueError(f"no scalar argument type {code!r}")


class Kernel:
    """A kernel by name: its AOT build for the argument types built, numba's JIT otherwise."""

    __slots__ = ("name", "module", "_variants", "_jit")

    def __init__(self, name: str) -> None:
        self.name = name
        self.module = MODULES[name]
        self._variants: tuple | None = None
        self._jit = None

    def __repr__(self) -> str:
        return f"Kernel({self.name!r})"

    def __call__(self, *args):
        variants = self._variants
        if variants is None:
            variants = self._variants = self._native_variants()
        for checks, entry in variants:
            if len(args) == len(checks) and all(c(a) for c, a in zip(checks, args, strict=True)):
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

    @property
    def native(self) -> bool:
        """Served by the AOT build (for the argument types it was built for)."""
        return bundle() is not None

    def ready(self) -> bool:
        """A call needs no compile: the AOT build serves it, or numba has it compiled or cached."""
        if self.native:
            return True
        from prcore._kernels.jit import compiled_or_cached

        return compiled_or_cached(self.jit)


def _numba_type(code):
    from numba.core import types

    if isinstance(code, tuple):
        return types.Tuple([_numba_type(c) for c in code])
    dtype = getattr(types, "boolean" if code[:2] == "b1" else _DTYPES[code[:2]])
    if code.endswith(("]", "]r")):
        readonly = code.endswith("r")
        ndim = int(code[3:-2] if readonly else code[3:-1])
        return types.Array(dtype, ndim, "C", readonly=readonly)
    return dtype


_LOCK_STALE_S = 900  # a build takes well under a minute; an older lock is a dead build's


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


def _marker(directory: Path, name: str, kind: str) -> Path:
    return directory / f"{name}.{kind}"


def build_wanted() -> bool:
    """No build for the current source exists, none is running, none failed, none is refused."""
    import time

    name = bundle_name()
    if os.environ.get("PRCORE_NO_NATIVE") or name is None or bundle_path() is not None:
        return False
    for directory in bundle_dirs():
        if _marker(directory, name, "failed").exists():
            return False
        try:
            if time.time() - _marker(directory, name, "lock").stat().st_mtime < _LOCK_STALE_S:
                return False
        except OSError:
            pass
    return True


def build_locked() -> Path | None:
    """:func:`build`, one at a time, remembering a failure so that later runs do not retry.

    Returns the built file, or None (another build holds the lock, no
    writable cache directory, or the build failed: the ``.failed`` file then
    says why).
    """
    import time

    name = bundle_name()
    directory = _writable_dir()
    if name is None or directory is None:
        return None
    lock = _marker(directory, name, "lock")
    try:
        if time.time() - lock.stat().st_mtime >= _LOCK_STALE_S:
            lock.unlink(missing_ok=True)
    except OSError:
        pass
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except OSError:
        return None
    try:
        return build(directory)
    except Exception as exc:  # no compiler, no pycc, a numba that differs: the JIT serves
        _marker(directory, name, "failed").write_text(f"{type(exc).__name__}: {exc}\n")
        return None
    finally:
        lock.unlink(missing_ok=True)


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
        raise RuntimeError("numba or llvmlite is not installed")
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
        for kernel_name, module_name in MODULES.items():
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
        target = directory / built.name
        os.replace(built, target)
    for old in directory.glob(_PREFIX + "*"):
        if not old.name.startswith(name + "."):
            old.unlink(missing_ok=True)
    return target


def forget() -> None:
    """Look the build up again at the next call (after a build in this process, and in tests)."""
    from prcore import _kernels

    with _lock:
        _loaded.clear()
        for handle in _kernels.HANDLES:
            handle._variants = None
