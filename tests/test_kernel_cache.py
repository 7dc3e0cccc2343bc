"""Kernels loaded from numba's on-disk cache give the same numbers, loaded lightly.

Two fresh processes share an empty cache folder: the first compiles every
kernel, the second loads them from disk without refreshing numba's target
context (see ``prcore._kernels.jit``). Both must write the arrays this
process computes, and the second must not have refreshed numba's target context.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import prcore
from prcore.example import example_paths

SCRIPT = r"""
import json, sys
import numpy as np
from numba.core import base
refreshes = []
_refresh = base.BaseContext.refresh
base.BaseContext.refresh = lambda self: (refreshes.append(1), _refresh(self))[1]
import prcore
from prcore import warmup
from prcore.example import example_paths

warmup.compile_scanners()
result = prcore.evaluate(*example_paths())
np.savez(sys.argv[1], **result.arrays())
from prcore._kernels.match import match_cells
from prcore.engine import _KERNELS
print(json.dumps({
    "cache_hits": sum(match_cells._cache_hits.values()),
    "misses": sum(sum(k.jit._cache_misses.values()) for k in _KERNELS),
    "refreshed": bool(refreshes),
}))
"""


def _fresh_run(out, cache_dir) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PRCORE_NO_WARMUP="1")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cached_kernels_load_lightly_and_agree(tmp_path):
    expected = prcore.evaluate(*example_paths()).arrays()
    cold = _fresh_run(tmp_path / "cold.npz", tmp_path / "cache")
    warm = _fresh_run(tmp_path / "warm.npz", tmp_path / "cache")
    assert cold["cache_hits"] == 0  # compiled
    assert cold["refreshed"]  # compiling refreshes the context: the counter works
    assert warm["cache_hits"] == 1  # loaded from disk (by the preload thread or the call)
    assert warm["misses"] == 0  # no engine kernel compiled again
    assert not warm["refreshed"]  # ... without the full target-context refresh
    for run in ("cold", "warm"):
        with np.load(tmp_path / f"{run}.npz") as got:
            assert set(got.files) == set(expected)
            for name, array in expected.items():
                np.testing.assert_array_equal(got[name], array)


LATE = r"""
import json, sys
import numpy as np
import prcore
from prcore import warmup
warmup._started = True  # no background compile of the scanners after this run
from prcore.example import example_paths
from prcore._kernels.accumulate import accumulate_curves
from prcore._kernels.match import match_cells

result = prcore.evaluate(*example_paths())
np.savez(sys.argv[1], **result.arrays())
print(json.dumps({
    "hits": sum(match_cells._cache_hits.values()) + sum(accumulate_curves._cache_hits.values()),
    "misses": sum(match_cells._cache_misses.values())
    + sum(accumulate_curves._cache_misses.values()),
}))
"""


def test_helper_compiles_exactly_the_signatures_a_run_loads(tmp_path):
    """What a cold first run's helper process compiles (compile_late_kernels) is what
    the evaluation then loads: no second compile of match_cells or accumulate_curves."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PRCORE_NO_WARMUP="1")
    subprocess.run([sys.executable, "-m", "prcore.warmup", "--late"], env=env, check=True)
    done = subprocess.run(
        [sys.executable, "-c", LATE, str(tmp_path / "run.npz")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == {"hits": 2, "misses": 0}
    expected = prcore.evaluate(*example_paths()).arrays()
    with np.load(tmp_path / "run.npz") as got:
        for name, array in expected.items():
            np.testing.assert_array_equal(got[name], array)


def test_cold_run_with_its_helper_gives_the_same_arrays(tmp_path):
    """A cold first run (empty cache, helper on) waits for its helper and agrees."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("PRCORE_NO_WARMUP", None)
    done = subprocess.run(
        [sys.executable, "-c", LATE, str(tmp_path / "run.npz")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["misses"] == 0  # all from the helper
    expected = prcore.evaluate(*example_paths()).arrays()
    with np.load(tmp_path / "run.npz") as got:
        for name, array in expected.items():
            np.testing.assert_array_equal(got[name], array)


SCANNED = r"""
import json
import prcore
from prcore.example import example_paths
from prcore._kernels.coco_scan import scan_ground_truth_kernel
from prcore._kernels.ids import dense_index
from prcore._kernels.results_scan import scan_results_kernel

prcore.evaluate(*example_paths())
kernels = (scan_ground_truth_kernel, scan_results_kernel, dense_index)
print(json.dumps({
    "hits": [sum(k._cache_hits.values()) for k in kernels],
    "misses": [sum(k._cache_misses.values()) for k in kernels],
}))
"""


def test_background_compile_caches_what_the_next_run_loads(tmp_path):
    """The scanners' background compile (python -m prcore.warmup) caches exactly the
    signatures the next run calls: it scans and looks ids up without compiling."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PRCORE_NO_WARMUP="1")
    subprocess.run([sys.executable, "-m", "prcore.warmup"], env=env, check=True)
    done = subprocess.run(
        [sys.executable, "-c", SCANNED], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["misses"] == [0, 0, 0]
    assert all(h >= 1 for h in counts["hits"])
