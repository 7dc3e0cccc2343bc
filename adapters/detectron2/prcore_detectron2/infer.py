"""Run a detectron2 model over the ground truth's images and write COCO results JSON."""

from __future__ import annotations

import glob
import json
import os
import platform
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

from prcore_detectron2.config import DETECTRON2_DEFAULT_SCORE_THRESH, ModelConfig, build_config
from prcore_detectron2.console import held_library_output
from prcore_detectron2.errors import AdapterInputError
from prcore_detectron2.ground_truth import InferenceSet, load_inference_set
from prcore_detectron2.shards import shard_glob


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
    # The command's: spawned ranks hold library warnings and logs as the command does
    # (see console.py), so that a failed run prints one line.
    hold_library_output: bool = False
    extra_meta: dict = field(default_factory=dict)


def meta_path(out: str) -> str:
    return out + ".meta.json"


def remove_outputs(out: str) -> None:
    """Remove a previous run's results file, sidecar and any leftover partial files."""
    if os.path.isdir(out):
        raise AdapterInputError(f"{out}: --out is a directory")
    leftovers = glob.glob(shard_glob(out)) + [out + ".tmp", meta_path(out) + ".tmp"]
    for p in (out, meta_path(out), *leftovers):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise AdapterInputError(
                f"{p}: cannot remove the previous run's file ({e.strerror})"
            ) from None


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


def run_rank(spec: InferenceSpec, validated=None) -> None:
    """One rank's share: detectron2's loader and ``inference_on_dataset`` with a
    :class:`ResultsWriter`, which streams to this rank's shard and, on rank 0, merges
    them; rank 0 then writes the sidecar."""
    from detectron2.utils import comm

    hold = spec.hold_library_output and comm.get_world_size() > 1  # a spawned rank
    with held_library_output(replay=comm.get_rank() == 0) if hold else nullcontext():
        _run_rank(spec, validated)


def _run_rank(spec: InferenceSpec, validated) -> None:
    import torch
    from detectron2.evaluation import inference_on_dataset
    from detectron2.utils import comm

    from prcore_detectron2.loader import make_loader
    from prcore_detectron2.results_writer import ResultsWriter, gather_outcome

    world = comm.get_world_size()
    writer = None
    try:
        # A single process reuses the parent's validation; spawned ranks redo it.
        cfg, data = validated if validated is not None else validate(spec)
        if spec.device == "cpu" and world > 1:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // comm.get_local_size()))
        model = cfg.build_model()
        loader = make_loader(cfg, data.dicts, spec.batch_size, spec.num_workers)
        show = spec.progress and comm.is_main_process()
        writer = ResultsWriter(spec.out, data.category_ids, loader.n_images, progress=show)
        results = inference_on_dataset(model, loader, writer)
    except AdapterInputError as e:
        if writer is not None:
            writer.fail(str(e))  # raises
        gather_outcome(str(e), {})  # raises: this rank failed before any results
        raise
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if comm.is_main_process():
        _write_meta(spec, cfg, data, results["results"]["per_rank"], world)
    comm.synchronize()


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

    # First of all, so that a previous run's results never pass for this one's,
    # whatever makes this run fail.
    remove_outputs(spec.out)
    validated = validate(spec)
    single = num_procs * num_machines == 1
    args = (spec, validated) if single else (spec,)  # a ModelConfig does not cross processes
    launch(run_rank, num_procs, num_machines, machine_rank, dist_url, spec.device, args=args)
    if machine_rank != 0:
        return {}
    with open(meta_path(spec.out), encoding="utf-8") as f:
        return json.load(f)
