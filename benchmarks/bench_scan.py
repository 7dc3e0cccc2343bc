"""Micro-benchmark: results-file bytes -> numpy columns.

Generates a val2017-scale results file (430k detections; float32-valued
scores and boxes written by ``json.dumps``, as detectron2's COCOEvaluator
writes them) and prints the median warm time of :func:`prcore.io.results_scan.scan_results`
against ``json.loads`` + numpy, and of the schema's check of the columns
(:func:`prcore.io.schema.detection_error`), which the loader runs after the scan.
With ``PRCORE_SCAN_CHECKED=1`` it times the bounds-checked kernels.

    python benchmarks/bench_scan.py [--n 430000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

from prcore._kernels.scan_constants import checked_mode
from prcore.io import schema
from prcore.io.results_scan import scan_results


def make_results(n: int, seed: int = 0, decimals: int | None = None) -> bytes:
    """A detectron2-like results file with n detections on 5000 images.

    ``decimals=None`` writes float32-valued doubles in full (``repr``, up to
    17 significant digits), as detectron2's COCOEvaluator does; an integer
    rounds boxes to that many decimals and scores to two more, as tools that
    shrink their results files do.
    """
    rng = np.random.default_rng(seed)
    image_id = np.sort(rng.integers(1, 600_000, size=5000))[rng.integers(0, 5000, size=n)]
    image_id.sort()
    category_id = rng.integers(1, 91, size=n)
    xy = rng.uniform(0, 600, size=(n, 2)).astype(np.float32)
    wh = rng.uniform(0, 400, size=(n, 2)).astype(np.float32)
    bbox = np.concatenate([xy, wh], axis=1).astype(np.float64)
    score = rng.uniform(0.05, 1.0, size=n).astype(np.float32).astype(np.float64)
    if decimals is not None:
        bbox = bbox.round(decimals)
        score = score.round(decimals + 2)
    records = [
        {"image_id": int(i), "category_id": int(c), "bbox": b, "score": s}
        for i, c, b, s in zip(
            image_id.tolist(), category_id.tolist(), bbox.tolist(), score.tolist()
        )
    ]
    return json.dumps(records).encode()


def via_json(data: bytes):
    records = json.loads(data)
    return (
        np.asarray([r["image_id"] for r in records], dtype=np.int64),
        np.asarray([r["category_id"] for r in records], dtype=np.int64),
        np.asarray([r["bbox"] for r in records], dtype=np.float64).reshape(-1, 4),
        np.asarray([r["score"] for r in records], dtype=np.float64),
    )


def check_columns(cols) -> str | None:
    """What the loader runs on the scanner's columns: the schema's rules."""
    return schema.detection_error(cols.bbox, cols.score)


def median_time(fn, data, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=430_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
        + (", bounds-checked kernels" if checked_mode() else "")
    )
    t0 = time.perf_counter()
    scan_results(b"[]")  # first call: loads (or compiles) the kernel
    print(f"scan_results first call (kernel load): {time.perf_counter() - t0:.3f} s")
    for label, decimals in (("detectron2 float32 repr", None), ("rounded to 2 decimals", 2)):
        data = make_results(args.n, decimals=decimals)
        cols = scan_results(data)
        assert cols is not None
        ref = via_json(data)
        for got, want in zip((cols.image_id, cols.category_id, cols.bbox, cols.score), ref):
            assert got.dtype == want.dtype
            assert np.array_equal(got.view(np.uint8), want.view(np.uint8))
        t_scan = median_time(scan_results, data, args.repeat)
        t_check = median_time(check_columns, cols, args.repeat)
        t_json = median_time(via_json, data, max(3, args.repeat // 2))
        print(f"{label}: {args.n} detections, {len(data) / 1e6:.1f} MB")
        print(f"  scan_results warm median:  {t_scan:.3f} s  ({len(data) / t_scan / 1e6:.0f} MB/s)")
        print(f"  schema check of columns:   {t_check:.4f} s")
        print(f"  json.loads + numpy median: {t_json:.3f} s  ({t_json / t_scan:.1f}x slower)")


if __name__ == "__main__":
    main()
