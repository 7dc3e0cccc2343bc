"""The detectron2 adapter's overhead: ``prcore-detectron2 infer`` against bare detectron2.

On the same synthetic images, model (a model-zoo config, seeded random weights unless
``--weights``) and device, interleaved and repeated, it times

- ``bare``: detectron2's ``inference_on_dataset(model, build_detection_test_loader(...),
  None)``, the model and its data loader with no evaluator at all;
- ``coco-evaluator``: the same with detectron2's ``COCOEvaluator`` collecting the
  results (``process`` only, as during an evaluation run; its scoring is not timed);
- ``prcore-detectron2``: the adapter's inference loop (``prcore_detectron2.infer.run``),
  which also converts every output to COCO records, RLE-encodes the masks and
  streams the results JSON to disk.

Each span starts with the data loader (its workers included) and ends when the last
result is written; building the model is outside it. The score threshold is 0.0 so
that every image carries ``--max-dets`` detections with masks: the most conversion
work per image a run can have.

    python benchmarks/bench_detectron2.py [--images 16] [--size 320x240] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "adapters", "detectron2", "tests"))

import shapes  # noqa: E402  (the adapter tests' synthetic images)

DEFAULT_CONFIG = "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.yaml"


def _opts(args) -> list[str]:
    opts = [
        "MODEL.ROI_HEADS.NUM_CLASSES", "3",
        "MODEL.RETINANET.NUM_CLASSES", "3",
        "INPUT.MIN_SIZE_TEST", str(min(args.width, args.height)),
        "INPUT.MAX_SIZE_TEST", str(max(args.width, args.height)),
        "DATALOADER.NUM_WORKERS", str(args.workers),
        "SEED", "0",
    ]  # fmt: skip
    if not args.weights:
        # Random weights under FrozenBN (identity statistics) overflow to boxes that are
        # all filtered out; GroupNorm keeps a random R-50 producing its 100 detections.
        opts += ["MODEL.RESNETS.NORM", "GN"]
    return opts


def _spec(args, gt: str, images: str, out: str):
    from prcore_detectron2.infer import InferenceSpec

    return InferenceSpec(
        config_file=args.config, gt=gt, images=images, out=out, weights=args.weights,
        device=args.device, score_thresh=0.0, max_dets=args.max_dets, batch_size=1,
        num_workers=args.workers, opts=tuple(_opts(args)), progress=False,
    )  # fmt: skip


def time_detectron2(config, dataset: str, with_coco_evaluator: bool, out_dir: str) -> float:
    from detectron2.data import build_detection_test_loader
    from detectron2.evaluation import COCOEvaluator, inference_on_dataset

    model = config.build_model()
    evaluator = None
    if with_coco_evaluator:
        evaluator = COCOEvaluator(dataset, tasks=("bbox",), distributed=False, output_dir=out_dir)
        evaluator.evaluate = lambda: {}  # collect only: the scoring is not part of inference
    t = time.perf_counter()
    inference_on_dataset(model, build_detection_test_loader(config.cfg, dataset), evaluator)
    return time.perf_counter() - t


def time_adapter(args, gt: str, images: str, out: str) -> tuple[float, int]:
    from prcore_detectron2.infer import run

    meta = run(_spec(args, gt, images, out))
    return meta["seconds"], meta["n_detections"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--size", default="320x240", help="WIDTHxHEIGHT of the synthetic images")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--weights", default="", help='checkpoint; "" for seeded random weights')
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=2, help="data-loader workers (both sides)")
    p.add_argument("--max-dets", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    args.width, args.height = (int(v) for v in args.size.split("x"))

    import torch
    from detectron2.data import DatasetCatalog
    from detectron2.data.datasets import register_coco_instances

    from prcore_detectron2.config import build_config

    root = tempfile.mkdtemp(prefix="prcore-d2-bench-")
    gt = shapes.write_dataset(root, args.images, seed=3, size=(args.width, args.height))
    images = os.path.join(root, "images")
    dataset = "prcore_bench_shapes"
    if dataset not in DatasetCatalog.list():
        register_coco_instances(dataset, {}, gt, images)
    config = build_config(
        args.config, weights=args.weights, device=args.device, score_thresh=0.0,
        max_dets=args.max_dets, opts=_opts(args),
    )  # fmt: skip

    # One untimed pass of each warms caches, the allocator and the page cache.
    time_detectron2(config, dataset, False, root)
    time_adapter(args, gt, images, os.path.join(root, "warm.json"))
    times: dict[str, list[float]] = {"bare": [], "coco-evaluator": [], "prcore-detectron2": []}
    n_dets = 0
    for r in range(args.repeat):
        times["bare"].append(time_detectron2(config, dataset, False, root))
        times["coco-evaluator"].append(time_detectron2(config, dataset, True, root))
        seconds, n_dets = time_adapter(args, gt, images, os.path.join(root, f"r{r}.json"))
        times["prcore-detectron2"].append(seconds)

    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else _cpu_name()
    bare = statistics.median(times["bare"])
    print(
        f"{args.config}, random weights={not args.weights}, {args.images} images "
        f"{args.size}, {n_dets} detections with masks, device {args.device} ({device}), "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{args.workers} loader workers, median of {args.repeat}\n"
    )
    print("| path | seconds | images/s | overhead vs bare |")
    print("|---|---|---|---|")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {t:.2f} | {args.images / t:.2f} | {100 * (t / bare - 1):+.1f}% |")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
