"""``prcore warmup``: compiles, in its own process, exactly what a run needs.

After the command, a fresh evaluation through numba's JIT loads every kernel
from the cache and compiles nothing: numba counts no cache miss, and the cache
directory is byte for byte what the warmup left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from prcore._kernels.native import KERNELS
from prcore.example import example_paths

# A fresh evaluation of the example (and of keypoints and masks) on the JIT: which kernels it
# called, and
# numba's count of signatures loaded from the cache (hits) or compiled (misses).
EVALUATE = r"""
import json, sys
import prcore
from prcore import _kernels
result = prcore.evaluate(sys.argv[1], sys.argv[2])
# the kernels only other iou types call (OKS), on a case unlike the warmup's own
gt = {"images": [{"id": 5}], "categories": [{"id": 2, "name": "p"}], "annotations": [
    {"id": 9, "image_id": 5, "category_id": 2, "bbox": [1, 1, 9, 9], "area": 50, "iscrowd": 0,
     "keypoints": [2, 2, 2, 4, 4, 0], "num_keypoints": 1}]}
dt = [{"image_id": 5, "category_id": 2, "keypoints": [2, 3, 1, 5, 5, 1], "score": 0.5}]
prcore.evaluate(gt, dt, params=prcore.Params(iou_type="keypoints", kpt_oks_sigmas=[0.2, 0.3]))
# and the mask kernels: polygons of two parts, uncompressed and compressed RLE, a result polygon
gt = {"images": [{"id": 3, "height": 9, "width": 6}], "categories": [{"id": 2, "name": "p"}],
      "annotations": [
    {"id": 1, "image_id": 3, "category_id": 2, "bbox": [0, 0, 3, 3], "area": 9, "iscrowd": 0,
     "segmentation": [[0, 0, 0, 3, 3, 3], [4, 4, 4, 6, 5, 6]]},
    {"id": 2, "image_id": 3, "category_id": 2, "bbox": [1, 1, 1, 5], "area": 5, "iscrowd": 1,
     "segmentation": {"size": [9, 6], "counts": [10, 5, 39]}},
    {"id": 3, "image_id": 3, "category_id": 2, "bbox": [2, 2, 1, 4], "area": 4, "iscrowd": 0,
     "segmentation": {"size": [9, 6], "counts": "b04P1"}}]}
dt = [{"image_id": 3, "category_id": 2, "bbox": [2, 2, 1, 4], "score": 0.8,
       "segmentation": {"size": [9, 6], "counts": "b04P1"}},
      {"image_id": 3, "category_id": 2, "bbox": [0, 0, 2, 2], "score": 0.4,
       "segmentation": [[0, 0, 0, 2, 2, 2, 2, 0]]}]
prcore.evaluate(gt, dt, iou_type="segm")
import os, tempfile
with tempfile.TemporaryDirectory() as tmp:  # a mask results file: its scanner
    paths = [os.path.join(tmp, name) for name in ("gt.json", "dt.json")]
    for path, doc in zip(paths, (gt, dt[:1])):
        with open(path, "w") as f:
            json.dump(doc, f)
    prcore.evaluate(*paths, iou_type="segm")
used = {
    h.name: [sum(h._jit.stats.cache_hits.values()), sum(h._jit.stats.cache_misses.values())]
    for h in _kernels.handles() if h._jit is not None
}
print(json.dumps({"used": used, "served_by_build": sorted(
    h.name for h in _kernels.handles() if h.served)}))
"""


def _snapshot(cache: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``cache``: (size, mtime in ns)."""
    return {
        str(p.relative_to(cache)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(cache.rglob("*"))
        if p.is_file()
    }


def test_warmup_compiles_what_an_evaluation_needs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PRCORE_NO_NATIVE"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "prcore", "warmup"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "prcore: compiled the kernels into numba's cache\n"
    before = _snapshot(tmp_path)
    # an index per kernel module: the warmup wrote into this cache, not another
    modules = {Path(name).name.split(".")[0] for name in before if name.endswith(".nbi")}
    assert {module for module, _ in KERNELS.values()} <= modules, sorted(before)

    gt, dt = example_paths()
    run = subprocess.run(
        [sys.executable, "-c", EVALUATE, str(gt), str(dt)],
        env=dict(env, PRCORE_NO_NATIVE="1"),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["served_by_build"] == []  # every call went to the JIT ...
    assert set(report["used"]) == set(KERNELS)  # ... for every kernel
    for name, (hits, misses) in report["used"].items():
        assert hits > 0 and misses == 0, (name, hits, misses)
    assert _snapshot(tmp_path) == before  # nothing written, nothing rewritten
