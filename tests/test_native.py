"""The ahead-of-time build (``prcore._kernels.native``): built here, it serves
every kernel call without importing numba, with the JIT's numbers.

One build per module, into a cache directory of its own, by the command a
user runs for it (``prcore warmup --native``). Skipped where no C compiler is
found: the build needs one, and the JIT then serves every call.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from test_oracle_generated import generate

import prcore
from prcore import _kernels
from prcore._kernels import native
from prcore.example import example_paths

TESTS = Path(__file__).parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
_CC = (sysconfig.get_config_var("CC") or "cc").split()[0]
pytestmark = pytest.mark.skipif(
    shutil.which(_CC) is None and shutil.which("cc") is None,
    reason="no C compiler: the ahead-of-time build needs one (the JIT serves instead)",
)


def _env(cache: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PRCORE_NO_NATIVE", "PRCORE_NO_WARMUP")}
    return dict(env, NUMBA_CACHE_DIR=str(cache), **extra)


# What ``prcore warmup --native`` runs; it must build here, whatever build pip
# install put into the package.
BUILD_COMMAND = r"""
import sys
from prcore.cli import main
sys.exit(main(["warmup", "--native"]))
"""


@pytest.fixture
def no_prebuilt(monkeypatch, tmp_path):
    """This process's handles look only in a fresh NUMBA_CACHE_DIR, never the package's build."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("PRCORE_NO_NATIVE", raising=False)
    monkeypatch.setenv("PRCORE_NO_PREBUILT", "1")
    native.forget()
    yield tmp_path / "prcore-native"
    monkeypatch.undo()
    native.forget()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("native-cache")
    done = subprocess.run(
        [sys.executable, "-c", BUILD_COMMAND],
        env=_env(cache, PRCORE_NO_PREBUILT="1"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    directory = cache / "prcore-native"
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in directory.iterdir())
    assert files == [native.bundle_name() + SUFFIX, native.bundle_name() + ".lock"], files
    return cache


@contextmanager
def serving(cache: Path):
    """This process's kernel handles served by the build in ``cache``, then the JIT again."""
    saved = {k: os.environ.get(k) for k in ("NUMBA_CACHE_DIR", "PRCORE_NO_NATIVE")}
    os.environ["NUMBA_CACHE_DIR"] = str(cache)  # numba read its own copy at import
    os.environ.pop("PRCORE_NO_NATIVE", None)
    jits = {h: h._jit for h in _kernels.handles()}
    native.forget()
    for handle in _kernels.handles():
        handle._jit = None
    try:
        module = native.bundle()
        assert module is not None and Path(module.__file__).parent == cache / "prcore-native"
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        native.forget()
        for handle, jit in jits.items():
            handle._jit = jit or handle._jit


def test_oracle_suites_pass_on_the_build(built):
    """Named cases, generated datasets (every entry point), the hypothesis
    properties (datasets, then Params), the ground-truth scanner's cases (its
    segmentations too) and keypoint and mask evaluation against pycocotools, with
    every kernel from the build, numba never imported, every built variant used
    (tests/conftest.py checks the last two)."""
    suites = [
        "test_oracle_cases.py",
        "test_oracle_generated.py",
        "test_oracle_property.py",
        "test_oracle_params_property.py",
        "test_coco_scan.py",
        "test_keypoints.py",
        "test_segm.py",
        "test_segm_scan.py",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *suites],
        cwd=TESTS,
        env=_env(built, PRCORE_TEST_NATIVE="1"),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


FRESH_COMMAND = r"""
import json, sys
from prcore.cli import main
code = main(["eval", sys.argv[1], sys.argv[2], "--json", sys.argv[3]])
print(json.dumps({"code": code, "numba": "numba" in sys.modules}))
"""


def test_a_fresh_command_gives_the_jit_numbers_without_numba(built, tmp_path):
    gt, dt = example_paths()
    out = tmp_path / "native.json"
    done = subprocess.run(
        [sys.executable, "-c", FRESH_COMMAND, str(gt), str(dt), str(out)],
        env=_env(built),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "numba": False}
    expected = prcore.evaluate(gt, dt)  # this process: the JIT kernels
    assert json.loads(out.read_text())["stats"] == expected.stats.tolist()


def test_threaded_evaluation_on_the_build_equals_the_jit(built):
    """Big enough (over 20,000 detections) for matching to run split over threads."""
    gt, dets = generate(11, n_img=1200)
    assert len(dets) > 20_000
    expected = prcore.evaluate(gt, dets).arrays()
    with serving(built):
        got = prcore.evaluate(gt, dets).arrays()
        assert all(h._jit is None for h in _kernels.handles())  # nothing fell back
    assert set(got) == set(expected)
    for name, array in expected.items():
        np.testing.assert_array_equal(got[name], array)


def test_arguments_the_build_lacks_go_to_the_jit(built):
    table = np.array([3, 5, 9], np.int64)
    lookup = np.zeros(0, np.int64)
    ids = np.array([3, 5, 7, 9], np.int64)
    out = np.zeros(4, np.int32)
    with serving(built):
        assert _kernels.dense_index(ids, table, lookup, out) == 2
        assert out.tolist() == [0, 1, 0, 2]
        assert _kernels.dense_index._jit is None  # served by the build
        for odd in (ids.astype(np.int32), np.repeat(ids, 2)[::2]):  # another dtype; strided
            out[:] = -1
            assert _kernels.dense_index(odd, table, lookup, out) == 2
            assert out.tolist() == [0, 1, 0, 2]
        assert _kernels.dense_index._jit is not None  # ... those went to numba's JIT
        frozen = np.zeros(2, np.int32)
        frozen.flags.writeable = False
        with pytest.raises(Exception, match="(?i)read.?only|immutable|readonly"):
            _kernels.dense_index(np.array([1, 2]), np.array([1, 2]), lookup, frozen)
        assert frozen.tolist() == [0, 0]


def test_the_build_releases_the_gil(built):
    """While a worker thread is inside a built kernel, this thread runs Python.

    No timing: with the switch interval set far beyond the test's length, the
    interpreter never takes the GIL from a thread; this thread gets it only when
    the worker gives it up, which, between the worker's marks around the call,
    only a GIL-releasing kernel does. A build holding the GIL lets this thread
    see no call from the inside, however many the worker makes.
    """
    n = 4_000_000
    ids = np.arange(n, dtype=np.int64) % 1000
    table = np.arange(1000, dtype=np.int64)
    lookup = np.zeros(0, np.int64)
    out = np.full(n, -1, np.int32)
    state = {"call": -1, "inside": False}  # written by the worker only
    seen = [0] * 50  # per call: this thread's turns while the worker was inside it
    returned = []
    with serving(built):
        small = np.zeros(4, np.int32)
        assert _kernels.dense_index(ids[:4].copy(), table, lookup, small) == -1  # look up the build

        def work():
            for i in range(len(seen)):
                state["call"], state["inside"] = i, True
                returned.append(_kernels.dense_index(ids, table, lookup, out))
                state["inside"] = False
                if seen[i]:
                    return

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)
        try:
            worker = threading.Thread(target=work)
            worker.start()
            while worker.is_alive():
                if state["inside"]:  # the worker is between its marks: inside the call
                    seen[state["call"]] += 1
                time.sleep(0)  # gives the GIL up, so the worker can get past its call
            worker.join()
        finally:
            sys.setswitchinterval(interval)
        assert _kernels.dense_index._jit is None  # the build ran, not the (also nogil) JIT
    assert returned and set(returned) == {-1}
    assert np.array_equal(out, ids)  # the table is 0..999: each id is its own position
    assert any(seen), f"no turn of this thread inside any of {len(returned)} calls"


def test_a_broken_file_is_not_loaded(no_prebuilt):
    no_prebuilt.mkdir()
    (no_prebuilt / (native.bundle_name() + SUFFIX)).write_bytes(b"not a shared object")
    assert native.bundle_path() is not None
    assert native.bundle() is None  # the JIT serves


def test_the_key_follows_the_kernel_source_and_the_signatures(tmp_path):
    here = Path(native.__file__).parent
    for path in here.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    assert native._source_key(tmp_path) == native._source_key(here)
    with open(tmp_path / "match.py", "a") as f:
        f.write("\n")
    assert native._source_key(tmp_path) != native._source_key(here)


def test_argument_checks_are_exact():
    array = native._checker("i8[1]")
    assert array(np.zeros(3, np.int64))
    for other in (
        np.zeros(3, np.int32),
        np.zeros(3, ">i8"),
        np.zeros((3, 1), np.int64),
        np.zeros(6, np.int64)[::2],
        np.zeros(3, np.int64).view(np.memmap),
        np.int64(3),
        [1, 2, 3],
    ):
        assert not array(other), other
    frozen = np.zeros(3, np.int64)
    frozen.flags.writeable = False
    assert not array(frozen)
    assert native._checker("i8[1]r")(frozen)
    unaligned = np.zeros(25, np.uint8)[1:].view(np.int64)
    assert not unaligned.flags.aligned and not array(unaligned)
    integer, real, flag = native._checker("i8"), native._checker("f8"), native._checker("b1")
    assert integer(3) and integer(np.int64(3)) and not integer(True) and not integer(1 << 63)
    assert not integer(np.int32(3)) and not integer(3.0)
    assert real(0.5) and real(np.float64(0.5)) and not real(1) and not real(np.float32(0.5))
    assert flag(True) and flag(np.bool_(False)) and not flag(1)
    pair = native._checker(("i8[1]", "f8"))
    assert pair((np.zeros(1, np.int64), 1.0)) and not pair([np.zeros(1, np.int64), 1.0])
    assert not pair((np.zeros(1, np.int64),))
    for codes in native.SIGNATURES.values():  # every code in the table has a checker
        for signature in codes:
            for code in signature:
                native._checker(code)


def test_one_build_at_a_time(no_prebuilt):
    name = native.bundle_name()
    no_prebuilt.mkdir(parents=True)
    with native._build_lock(no_prebuilt, name) as held:  # another build is running
        assert held
        assert native.build_locked() is None


@pytest.fixture(scope="module")
def failed_build(tmp_path_factory):
    """``prcore warmup --native`` where the C compiler that numba.pycc uses is missing,
    then an evaluation of the example with the same environment."""
    cache = tmp_path_factory.mktemp("no-compiler")
    env = _env(cache, PRCORE_NO_PREBUILT="1", CC=str(cache / "no-such-cc"))
    build = subprocess.run(
        [sys.executable, "-m", "prcore", "warmup", "--native"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    gt, dt = example_paths()
    out = cache / "report.json"
    evaluation = subprocess.run(
        [sys.executable, "-c", FRESH_COMMAND, str(gt), str(dt), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return cache, build, evaluation, out


def test_a_failed_build_says_why_and_the_jit_serves(failed_build):
    cache, build, evaluation, out = failed_build
    assert build.returncode == 1, build.stdout + build.stderr
    assert build.stdout == ""
    first = build.stderr.splitlines()[0]
    assert first.startswith("prcore: error: warmup failed: RuntimeError: "), build.stderr
    assert "compiler" in first
    # nothing half-built is left to load: only the lock
    files = sorted(p.name for p in (cache / "prcore-native").iterdir())
    assert files == [native.bundle_name() + ".lock"], files
    # the next run is served by numba's JIT, with the same numbers
    assert evaluation.returncode == 0, evaluation.stderr
    report = json.loads(evaluation.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "numba": True}
    gt, dt = example_paths()
    assert json.loads(out.read_text())["stats"] == prcore.evaluate(gt, dt).stats.tolist()


def test_a_failed_build_is_one_line(failed_build):
    _, build, _, _ = failed_build
    assert len(build.stderr.splitlines()) == 1, build.stderr


def test_a_new_build_replaces_this_pythons_older_ones_only(no_prebuilt):
    no_prebuilt.mkdir()
    older = no_prebuilt / f"{native._PREFIX}0123{SUFFIX}"
    other_python = no_prebuilt / f"{native._PREFIX}0123.cpython-399-x86_64-linux-gnu.so"
    current = no_prebuilt / f"{native.bundle_name()}{SUFFIX}"
    for path in (older, other_python, current):
        path.write_bytes(b"x")
    native._remove_other_builds(no_prebuilt, native.bundle_name())  # a shared directory
    assert older.exists() and other_python.exists()  # another install may use them
    old = time.time() - 8 * 86400
    os.utime(older, (old, old))
    native._remove_other_builds(no_prebuilt, native.bundle_name())
    assert not older.exists() and other_python.exists() and current.exists()


IMPORTS = r"""
import sys
import prcore
from prcore._kernels import native
heavy = [m for m in ("numba", "llvmlite", "pydantic", "matplotlib") if m in sys.modules]
print(",".join(heavy))
"""


def test_finding_the_build_imports_nothing_heavy():
    """What pip install's build hook and every run import before the first kernel call."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS], capture_output=True, text=True, cwd=TESTS.parent
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_call_on_the_build_is_clean(built, tmp_path):
    """tests/test_clean_call.py's check, with every kernel from the build: no process,
    no thread left, no atexit hook, no process-wide setting changed, numba never imported."""
    from test_clean_call import assert_clean, run_check

    gt, dets = generate(5, n_img=1500)  # large enough to split work over threads
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    report = run_check(_env(built), tmp_path / "gt.json", tmp_path / "dt.json")
    assert not report["numba"]
    assert_clean(report)
