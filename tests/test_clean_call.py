"""A library call is only a call (STYLE.md, principle 12).

``prcore.evaluate()`` starts no process, leaves no thread, registers no atexit
hook and changes no process-wide setting, in every install: with an empty
numba cache (it compiles), with a warm one, and on the ahead-of-time build
(``tests/test_native.py`` reruns the check there). It is safe to call from
several threads at once. And the layers import in one direction only.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from test_oracle_generated import generate

import prcore

PACKAGE = Path(prcore.__file__).parent

# Run in a fresh interpreter: records every process-wide thing an evaluation could touch.
CHECK = r"""
import atexit, gc, json, os, signal, sys, threading, warnings
import numpy as np
from numpy._core import multiarray

spawned = []
sys.addaudithook(
    lambda event, args: spawned.append(event)
    if event in ("subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn",
                 "os.system", "os.exec", "os.startfile")
    else None
)


def hugepage():
    value = multiarray._set_madvise_hugepage(True)
    multiarray._set_madvise_hugepage(value)
    return bool(value)


def state():
    return {
        "threads": sorted(t.name for t in threading.enumerate()),
        "native_threads": len(os.listdir("/proc/self/task")),
        "atexit": atexit._ncallbacks(),
        "gc": [gc.isenabled(), list(gc.get_threshold())],
        "signals": {str(s): repr(signal.getsignal(s)) for s in signal.valid_signals()
                    if signal.getsignal(s) is not None},
        "warnings": repr(warnings.filters),
        "environ": dict(os.environ),
        "hugepage": hugepage(),
        "nice": os.nice(0),
        "excepthook": repr(sys.excepthook),
    }


import prcore  # what importing does is not the call's business; the call's is
# The modules a first call imports: concurrent.futures imports logging, whose import
# registers logging.shutdown with atexit (an import's effect, not the call's).
import prcore.engine, prcore.result
if os.environ.get("PRCORE_NO_NATIVE"):
    # numba's own start-up, which the first JIT call triggers: it imports scipy's BLAS
    # where scipy is installed (OpenBLAS then starts its thread pool) and colorama
    # (an atexit hook). That is importing libraries, as importing numpy starts
    # OpenBLAS's threads; counted here as part of the import, not of the call.
    import numba
    from numba.core.registry import cpu_target
    cpu_target.target_context.refresh()
before = state()
result = prcore.evaluate(sys.argv[1], sys.argv[2])
result.sweep([0.3]); result.select_thresholds(best_f1=True)
# A joined thread's OS task can linger in /proc for a moment after join() returns.
import time
deadline = time.monotonic() + 5
while len(os.listdir("/proc/self/task")) > before["native_threads"] and time.monotonic() < deadline:
    time.sleep(0.01)
after = state()
print(json.dumps({"before": before, "after": after, "spawned": spawned,
                  "numba": "numba" in sys.modules}))
"""


def run_check(env: dict, gt, dt) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(gt), str(dt)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_clean(report: dict) -> None:
    assert report["spawned"] == [], "the call started a process"
    before, after = report["before"], report["after"]
    for key in before:
        assert after[key] == before[key], f"the call changed {key}: {before[key]} -> {after[key]}"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    gt, dets = generate(5, n_img=1500)  # large enough to split work over threads
    assert len(dets) > 20_000
    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "dt.json").write_text(json.dumps(dets))
    return folder / "gt.json", folder / "dt.json"


def test_a_call_with_an_empty_numba_cache_is_clean(files, tmp_path):
    env = dict(os.environ, PRCORE_NO_NATIVE="1", NUMBA_CACHE_DIR=str(tmp_path))
    report = run_check(env, *files)
    assert report["numba"]  # it compiled, in this process, on first use
    assert_clean(report)
    assert any(tmp_path.rglob("*.nbi")), "the compile went into numba's own cache"


def test_a_call_with_a_warm_numba_cache_is_clean(files):
    env = dict(os.environ, PRCORE_NO_NATIVE="1")
    run_check(env, *files)  # warm the cache
    assert_clean(run_check(env, *files))


def test_concurrent_calls_from_several_threads_agree(files):
    expected = prcore.evaluate(*files)

    def one(_):
        return prcore.evaluate(*files)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    for got in results:
        for name, array in expected.arrays().items():
            np.testing.assert_array_equal(got.arrays()[name], array)
        np.testing.assert_array_equal(got.stats, expected.stats)


# ---------------------------------------------------------------- one direction

# Each layer may import only itself and the layers before it (STYLE.md's sketch).
LAYERS = [
    {"prcore.errors", "prcore.params", "prcore._kernels"},
    {"prcore.io"},
    {"prcore.engine"},
    {"prcore.summary", "prcore.curves", "prcore.result", "prcore.report", "prcore.display"}
    | {"prcore.operating", "prcore.objects", "prcore.match_outcomes", "prcore.confusion"}
    | {"prcore.error_breakdown", "prcore.calibration", "prcore.html_report"},
    {"prcore.coco", "prcore.cocoeval", "prcore.mask"},
    {"prcore.cli", "prcore.warmup", "prcore.example", "prcore.__main__", "prcore"},
]


def _layer(module: str) -> int:
    for i, members in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members if m != "prcore"):
            return i
    if module == "prcore":
        return len(LAYERS) - 1
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("prcore"):
            found.add(node.module)
            if node.module == "prcore":  # from prcore import x: the submodule x
                found |= {
                    f"prcore.{a.name}"
                    for a in node.names
                    if (PACKAGE / a.name).exists() or (PACKAGE / f"{a.name}.py").exists()
                }
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("prcore")}
    return found


def test_layers_import_in_one_direction():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_build_hook.py" or "prebuilt" in path.parts:
            continue
        module = _module_name(path)
        here = _layer(module)
        for imported in _imports(path):
            if imported == "prcore" and module != "prcore":
                continue  # the package's own __version__ and top-level names
            if _layer(imported) > here:
                wrong.append(
                    f"{module} (layer {here}) imports {imported} (layer {_layer(imported)})"
                )
    assert not wrong, "\n".join(wrong)


SETTINGS = ("_set_madvise_hugepage", "gc.disable", "gc.freeze", "malloc_trim", "atexit",
            "signal.signal", "os.nice", "subprocess", "simplefilter", "filterwarnings",
            "numba.core")  # fmt: skip


def test_no_process_wide_tricks_in_the_library():
    """Outside the install-time and on-demand build code, nothing reaches for them."""
    build_code = {"_build_hook.py", "native.py"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in build_code or "prebuilt" in path.parts:
            continue
        text = path.read_text()
        found += [f"{path.relative_to(PACKAGE)}: {s}" for s in SETTINGS if s in text]
    assert not found, found
