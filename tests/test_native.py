"""The ahead-of-time build (``prcore._kernels.native``): built here, it serves
every kernel call without importing numba, with the JIT's numbers.

One build per module, into a cache directory of its own, by the same
background job a real run starts (``python -m prcore.warmup --native``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import prcore
from prcore import _kernels
from prcore._kernels import native
from prcore.example import example_paths

TESTS = Path(__file__).parent


def _env(cache: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PRCORE_NO_NATIVE", "PRCORE_NO_WARMUP")}
    return dict(env, NUMBA_CACHE_DIR=str(cache), **extra)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("native-cache")
    done = subprocess.run(
        [sys.executable, "-m", "prcore.warmup", "--native"],
        env=_env(cache),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in (cache / "prcore-native").iterdir())
    assert len(files) == 1 and files[0].startswith(native.bundle_name() + "."), files
    return cache


@pytest.fixture
def served(built, monkeypatch):
    """This process's kernel handles served by the build (and back to the JIT after)."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(built))
    monkeypatch.delenv("PRCORE_NO_NATIVE", raising=False)
    native.forget()
    jits = {h: h._jit for h in _kernels.HANDLES}
    for handle in _kernels.HANDLES:
        handle._jit = None
    assert native.bundle() is not None
    yield
    monkeypatch.undo()
    native.forget()
    for handle, jit in jits.items():
        handle._jit = jit or handle._jit


def test_oracle_suites_pass_on_the_build(built):
    """Named cases, generated datasets (every entry point) and the hypothesis
    properties against pycocotools, with every kernel from the build."""
    suites = ["test_oracle_cases.py", "test_oracle_generated.py", "test_oracle_property.py"]
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


def test_arguments_the_build_lacks_go_to_the_jit(served):
    table = np.array([3, 5, 9], np.int64)
    lookup = np.zeros(0, np.int64)
    ids = np.array([3, 5, 7, 9], np.int64)
    out = np.zeros(4, np.int32)
    assert _kernels.dense_index(ids, table, lookup, out) == 2
    assert out.tolist() == [0, 1, 0, 2]
    assert _kernels.dense_index._jit is None  # served by the build
    for odd in (ids.astype(np.int32), np.repeat(ids, 2)[::2]):  # another dtype; strided
        out[:] = -1
        assert _kernels.dense_index(odd, table, lookup, out) == 2
        assert out.tolist() == [0, 1, 0, 2]
    assert _kernels.dense_index._jit is not None  # ... those went to numba's JIT


def test_read_only_output_is_never_handed_to_the_build(served):
    out = np.zeros(2, np.int32)
    out.flags.writeable = False
    args = (np.array([1, 2]), np.array([1, 2]), np.zeros(0, np.int64), out)
    with pytest.raises(Exception):  # numba refuses to write a read-only array
        _kernels.dense_index(*args)
    assert out.tolist() == [0, 0]


def test_the_build_releases_the_gil(served):
    n = 4_000_000
    ids = np.arange(n, dtype=np.int64) % 1000
    table = np.arange(0, 1000, dtype=np.int64)
    out = np.empty(n, np.int32)
    span = []

    def work():
        for _ in range(4):
            t0 = time.perf_counter()
            _kernels.dense_index(ids, table, np.zeros(0, np.int64), out)
            span.append((t0, time.perf_counter()))

    worker = threading.Thread(target=work)
    beats = []
    worker.start()
    while worker.is_alive():
        beats.append(time.perf_counter())
    worker.join()
    inside = sum(1 for b in beats for t0, t1 in span if t0 < b < t1)
    assert inside > 100  # this thread ran while the kernel did


def test_a_broken_or_stale_file_is_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("PRCORE_NO_NATIVE", raising=False)
    directory = tmp_path / "prcore-native"
    directory.mkdir()
    (directory / (native.bundle_name() + ".cpython-311-x86_64-linux-gnu.so")).write_bytes(b"x")
    native.forget()
    try:
        assert native.bundle() is None  # not a shared object: the JIT serves
        monkeypatch.setattr(native, "_source_key", lambda: "another-source")
        native.forget()
        assert native.bundle_path() is None and native.bundle() is None
    finally:
        monkeypatch.undo()
        native.forget()


def test_builds_are_wanted_once_and_failures_remembered(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("PRCORE_NO_NATIVE", raising=False)
    assert native.build_wanted()
    name = native.bundle_name()
    directory = tmp_path / "prcore-native"
    directory.mkdir()
    lock = directory / f"{name}.lock"
    lock.touch()
    assert not native.build_wanted()  # one is running
    assert native.build_locked() is None  # and holds the lock
    lock.unlink()

    def no_compiler(_directory):
        raise OSError("no C compiler here")

    monkeypatch.setattr(native, "build", no_compiler)
    assert native.build_locked() is None
    assert "no C compiler here" in (directory / f"{name}.failed").read_text()
    assert not lock.exists()
    assert not native.build_wanted()  # not retried on every run
    monkeypatch.setenv("PRCORE_NO_NATIVE", "1")
    (directory / f"{name}.failed").unlink()
    assert not native.build_wanted()
