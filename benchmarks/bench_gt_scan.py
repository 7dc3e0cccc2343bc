"""Micro-benchmark: ground-truth (COCO instances) file -> GroundTruth columns.

Generates a val2017-scale instances file (5,000 images, 36,800 annotations,
one polygon of 10..60 points each, 1% crowd RLEs: about 25 MB, like
val2017's instances file) and prints the median warm time of
:func:`prcore.io.coco_scan.scan_ground_truth` and of ``load_ground_truth(path)``
against the general path (``pydantic_core.from_json`` + ``ground_truth_from_dict``).

    python benchmarks/bench_gt_scan.py [--anns 36800] [--repeat 7]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import tempfile
import time

import numpy as np

from prcore.io.coco_scan import scan_ground_truth
from prcore.io.load import ground_truth_from_dict, load_ground_truth, parse_json


def make_ground_truth(n_img: int, n_ann: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    cat_ids = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
    img_ids = rng.choice(10**6, n_img, replace=False).tolist()
    images = [
        {
            "license": 3,
            "file_name": f"{i:012d}.jpg",
            "coco_url": f"http://x/{i}.jpg",
            "height": 480,
            "width": 640,
            "date_captured": "2013-11-14 17:02:52",
            "id": i,
        }
        for i in img_ids
    ]
    anns = []
    for k in range(n_ann):
        w, h = (float(v) for v in rng.uniform(4, 400, 2))
        crowd = int(rng.random() < 0.01)
        if crowd:
            seg = {
                "counts": "".join(chr(48 + c) for c in rng.integers(0, 75, 300).tolist()),
                "size": [480, 640],
            }
        else:
            seg = [np.round(rng.uniform(0, 640, 2 * int(rng.integers(10, 60))), 2).tolist()]
        anns.append(
            {
                "segmentation": seg,
                "area": w * h * 0.7,
                "iscrowd": crowd,
                "image_id": img_ids[int(rng.integers(n_img))],
                "bbox": [round(float(v), 2) for v in (*rng.uniform(0, 600, 2), w, h)],
                "category_id": int(rng.choice(cat_ids)),
                "id": k + 1,
            }
        )
    cats = [{"supercategory": "x", "id": c, "name": f"c{c}"} for c in cat_ids]
    doc = {
        "info": {"year": 2017},
        "licenses": [{"id": 1, "name": "x", "url": "y"}],
        "images": images,
        "annotations": anns,
        "categories": cats,
    }
    return json.dumps(doc).encode()


def median_time(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--anns", type=int, default=36800)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    data = make_ground_truth(args.images, args.anns)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gt.json")
        with open(path, "wb") as f:
            f.write(data)
        scan_ground_truth(data)  # compile / load the cached kernel
        load_ground_truth(path)

        def general():
            gc.disable()  # the general path builds millions of objects: time the parse, not the GC
            try:
                return ground_truth_from_dict(parse_json(data, path), path)
            finally:
                gc.enable()

        print(
            f"{platform.processor() or platform.machine()}, {len(data) / 1e6:.1f} MB, "
            f"{args.anns} annotations, median of {args.repeat}"
        )
        print(
            f"  scan_ground_truth(bytes)      {median_time(lambda: scan_ground_truth(data), args.repeat):.4f} s"
        )
        print(
            f"  load_ground_truth(path)       {median_time(lambda: load_ground_truth(path), args.repeat):.4f} s"
        )
        print(f"  from_json + dict (general)    {median_time(general, args.repeat):.4f} s")


if __name__ == "__main__":
    main()
