"""``prcore warmup``: compiles every kernel into numba's cache, in its own process."""

from __future__ import annotations

import os
import subprocess
import sys


def test_warmup_compiles_every_kernel_into_the_cache(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "prcore", "warmup"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "compiled the kernels" in done.stdout
    # numba's cache now holds an index per kernel module (each module's kernels are cached)
    modules = {p.name.split(".")[0] for p in tmp_path.rglob("*.nbi")}
    assert {"accumulate", "match", "order", "similarity", "ids", "results_scan", "coco_scan"} <= modules
