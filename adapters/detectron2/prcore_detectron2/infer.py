"""Run a detectron2 model over the ground truth's images and write COCO results JSON."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field

from prcore_detectron2.config import DETECTRON2_DEFAULT_SCORE_THRESH, ModelConfig, build_config
from prcore_detectron2.errors import AdapterInputError
from prcore_detectron2.ground_truth import InferenceSet, load_inference_set
from prcore_detectron2.shards import ShardWriter, merge_shards, shard_path


@dataclass(frozen=True)
class InferenceSpec:
    """Everything one run needs; plain values so it pickles to spawned ranks."""

    config_file: str
    gt: str
    images: str
    out: str
    weights: str | None = None
    device: str = "cpu"
    score_thresh: float = 0.0
    max_dets: int | None = None
    batch_size: int = 1
    num_workers: int = 2
    opts: tuple[str, ...] = ()
    progress: bool = True
    extra_meta: dict = field(default_factory=dict)


def meta_path(out: str) -> str:
    return out + ".meta.json"


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def validate(spec: InferenceSpec):
    """Check config, weights, GT and image files before any process starts."""
    cfg = build_config(
        spec.config_file,
        weights=spec.weights,
        device=spec.device,
        score_thresh=spec.score_thresh,
        max_dets=spec.max_dets,
        opts=spec.opts,
    )
    data = load_inference_set(spec.gt, spec.images)
    out_dir = os.path.dirname(os.path.abspath(spec.out))
    if not os.path.isdir(out_dir):
        raise AdapterInputError(f"{out_dir}: output directory not found")
    if spec.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise AdapterInputError("--device cuda: no CUDA device is available")
    return cfg, data


def _rank_slice(n: int, rank: int, world: int) -> slice:
    # detectron2's InferenceSampler: contiguous shards, so rank order is image order.
    size = (n - 1) // world + 1
    return slice(min(size * rank, n), min(size * (rank + 1), n))


def run_rank(spec: InferenceSpec, validated=None) -> None:
    """One rank's share: load, infer, stream to its shard; rank 0 merges and writes the sidecar."""
    import torch
    from detectron2.utils import comm

    rank, world = comm.get_rank(), comm.get_world_size()
    # A single process reuses the parent's validation; spawned ranks redo it.
    cfg, data = validated if validated is not None else validate(spec)
    if spec.device == "cpu" and world > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // comm.get_local_size()))
    images = data.images[_rank_slice(len(data.images), rank, world)]
    error: str | None = None
    stats = {"images": 0, "detections": 0, "seconds": 0.0, "model_seconds": 0.0}
    shard = shard_path(spec.out, rank, world)
    try:
        stats = _infer_images(cfg, spec, data, images, shard, show=spec.progress and rank == 0)
    except AdapterInputError as e:
        error = str(e)
    all_errors = comm.all_gather(error) if world > 1 else [error]
    all_stats = comm.all_gather(stats) if world > 1 else [stats]
    failed = [e for e in all_errors if e]
    if failed:
        if os.path.exists(shard):
            os.unlink(shard)
        raise AdapterInputError(failed[0])
    if rank == 0:
        merge_shards([shard_path(spec.out, r, world) for r in range(world)], spec.out)
        _write_meta(spec, cfg, data, all_stats, world)
    comm.synchronize()


def _infer_images(
    cfg: ModelConfig, spec: InferenceSpec, data: InferenceSet, images, shard: str, show: bool
):
    import torch
    from tqdm import tqdm

    from prcore_detectron2.loader import make_loader

    model = cfg.build_model()
    loader = make_loader(cfg, images, spec.batch_size, spec.num_workers)
    cuda = cfg.device.startswith("cuda")
    writer = ShardWriter(shard, data.category_ids)
    bar = tqdm(total=len(images), unit="img", desc="infer", disable=not show, smoothing=0.1)
    model_seconds = 0.0
    t0 = time.perf_counter()
    try:
        with torch.no_grad():
            for batch in loader:
                for d in batch:
                    if "error" in d:
                        raise AdapterInputError(d["error"])
                t = time.perf_counter()
                outputs = model(batch)
                # One device->host copy per batch, here; conversion and RLE
                # encoding happen in the writer thread.
                cpu = [o["instances"].to("cpu") for o in outputs]
                model_seconds += time.perf_counter() - t
                for d, inst in zip(batch, cpu):
                    writer.put(d["image_id"], inst)
                bar.update(len(batch))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return {
        "images": writer.n_images,
        "detections": writer.n_records,
        "seconds": seconds,
        "model_seconds": model_seconds,
    }


def _write_meta(
    spec: InferenceSpec, cfg: ModelConfig, data: InferenceSet, rank_stats: list[dict], world: int
):
    import detectron2
    import torch

    seconds = max(s["seconds"] for s in rank_stats)
    n_images = sum(s["images"] for s in rank_stats)
    device = cfg.device
    device_name = platform.processor() or platform.machine()
    if device.startswith("cuda"):
        device_name = torch.cuda.get_device_name(0)
    meta = {
        "results": os.path.abspath(spec.out),
        "config_file": spec.config_file,
        "config_kind": "LazyConfig" if cfg.lazy else "yacs",
        "config": cfg.dump(),
        "weights": cfg.weights,
        "ground_truth": os.path.abspath(data.gt_path),
        "images_dir": os.path.abspath(spec.images),
        "score_thresholds": cfg.score_thresholds(),
        "score_threshold_note": (
            f"detectron2's default score threshold {DETECTRON2_DEFAULT_SCORE_THRESH} drops "
            "low-score detections and truncates every precision-recall curve; this run used "
            f"--score-thresh {spec.score_thresh:g}"
        ),
        "detections_per_image": cfg.detections_per_image(),
        "device": device,
        "device_name": device_name,
        "world_size": world,
        "batch_size": spec.batch_size,
        "num_workers": spec.num_workers,
        "n_images": n_images,
        "n_detections": sum(s["detections"] for s in rank_stats),
        "seconds": seconds,
        "images_per_s": n_images / seconds if seconds > 0 else None,
        "per_rank": rank_stats,
        "versions": {"torch": torch.__version__, "detectron2": detectron2.__version__},
        "spec": {k: v for k, v in asdict(spec).items() if k != "extra_meta"},
        **spec.extra_meta,
    }
    tmp = meta_path(spec.out) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
    os.replace(tmp, meta_path(spec.out))


def run(
    spec: InferenceSpec,
    num_procs: int = 1,
    num_machines: int = 1,
    machine_rank: int = 0,
    dist_url: str = "auto",
) -> dict:
    """Validate, run on every rank, and return the sidecar (on the machine of rank 0)."""
    from prcore_detectron2.distributed import launch

    validated = validate(spec)
    for p in (spec.out, meta_path(spec.out)):
        # A previous run's output must not pass for this run's if this one fails.
        if os.path.exists(p):
            os.unlink(p)
    single = num_procs * num_machines == 1
    args = (spec, validated) if single else (spec,)  # a ModelConfig does not cross processes
    launch(run_rank, num_procs, num_machines, machine_rank, dist_url, spec.device, args=args)
    if machine_rank != 0:
        return {}
    with open(meta_path(spec.out), encoding="utf-8") as f:
        return json.load(f)
