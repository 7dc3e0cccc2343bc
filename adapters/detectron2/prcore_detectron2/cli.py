"""``prcore-detectron2``: detectron2 inference to COCO results, then prcore's analysis."""

from __future__ import annotations

import argparse
import os
import sys

from prcore.errors import PrcoreInputError
from prcore_detectron2.console import PROG, held_library_output
from prcore_detectron2.errors import AdapterInputError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser(
        "infer",
        help="run a detectron2 model over a COCO ground truth's images",
        description=(
            "Run a detectron2 model over the images listed in a COCO ground truth and write "
            "COCO results JSON exactly as detectron2's COCOEvaluator would (XYWH boxes, "
            "compressed-RLE masks, keypoints, category ids mapped back through the GT's "
            "sorted ids), plus a sidecar <out>.meta.json."
        ),
    )
    i.add_argument(
        "--config-file",
        required=True,
        help="yacs (.yaml) or LazyConfig (.py) config: a path, or a name under "
        "detectron2's model-zoo configs/",
    )
    i.add_argument("--gt", required=True, help="COCO instances JSON listing the images")
    i.add_argument("--images", required=True, help="directory the GT's file_name is relative to")
    i.add_argument("--out", required=True, help="results JSON to write")
    i.add_argument(
        "--weights",
        default=None,
        help='checkpoint for DetectionCheckpointer; "" for none (random init, '
        "seeded); default: the config's MODEL.WEIGHTS",
    )
    i.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    i.add_argument(
        "--num-gpus",
        type=int,
        default=1,
        help="processes per machine (GPUs with cuda; CPU processes with gloo on cpu)",
    )
    i.add_argument("--num-machines", type=int, default=1)
    i.add_argument("--machine-rank", type=int, default=0)
    i.add_argument(
        "--dist-url",
        default="auto",
        help="torch.distributed init URL; 'auto' picks a free local port. Shards are "
        "written next to --out, which must be on a filesystem all machines share",
    )
    i.add_argument("--batch-size", type=int, default=1, help="images per model call")
    i.add_argument(
        "--num-workers",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="DataLoader workers decoding images",
    )
    i.add_argument(
        "--score-thresh",
        type=float,
        default=0.0,
        help="test-time score threshold (default 0.0). detectron2's own default, "
        "0.05, drops the low-score detections and truncates every "
        "precision-recall curve",
    )
    i.add_argument(
        "--max-dets",
        type=int,
        default=None,
        help="TEST.DETECTIONS_PER_IMAGE (default: the config's, 100)",
    )
    i.add_argument(
        "--analyze",
        action="store_true",
        help="evaluate the results with prcore: summary, per-class table, thresholds",
    )
    i.add_argument(
        "--sweep",
        default=None,
        metavar="KEY=v1,v2,...",
        help="run once per value of a config key; print COCO stats and time per value",
    )
    i.add_argument("--no-progress", action="store_true", help="no progress bar")
    i.add_argument(
        "opts",
        nargs=argparse.REMAINDER,
        metavar="OPTS",
        help="config overrides: KEY VALUE pairs (yacs) or key=value items (LazyConfig)",
    )
    return p


def _infer(args) -> int:
    from prcore_detectron2.infer import InferenceSpec, default_device, remove_outputs, run
    from prcore_detectron2.sweep import parse_sweep, remove_sweep_outputs, run_sweep

    # Before anything can fail: a failed run must leave no results file, not even an
    # old one (a sweep's are its per-value files).
    if args.sweep:
        sweep = parse_sweep(args.sweep)
        remove_sweep_outputs(args.out, sweep)
    else:
        remove_outputs(args.out)
    for name in ("num_gpus", "num_machines", "batch_size"):
        if getattr(args, name) < 1:
            raise AdapterInputError(f"--{name.replace('_', '-')} must be at least 1")
    opts = tuple(o for o in args.opts if o != "--")
    launch_kw = dict(
        num_procs=args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
    )
    with held_library_output():
        spec = InferenceSpec(
            config_file=args.config_file,
            gt=args.gt,
            images=args.images,
            out=args.out,
            weights=args.weights,
            device=args.device or default_device(),
            score_thresh=args.score_thresh,
            max_dets=args.max_dets,
            batch_size=args.batch_size,
            num_workers=max(0, args.num_workers),
            opts=opts,
            progress=not args.no_progress,
            hold_library_output=True,
        )
        if args.sweep:
            table = run_sweep(spec, sweep, **launch_kw)
        else:
            meta = run(spec, **launch_kw)
    if args.sweep:
        print(table)
        return 0
    if not meta:
        return 0
    print(
        f"wrote {meta['n_detections']} detections for {meta['n_images']} images to {args.out} "
        f"({meta['images_per_s']:.2f} images/s on {meta['device']}, "
        f"score threshold {args.score_thresh:g})",
        file=sys.stderr,
    )
    if args.analyze:
        from prcore_detectron2.analyze import analysis_text

        print(analysis_text(args.gt, args.out))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _infer(args)
    except (AdapterInputError, PrcoreInputError) as e:  # prcore's: --analyze / --sweep
        # One line, whatever the message quotes (a library's multi-line error text).
        message = " ".join(line.strip() for line in str(e).splitlines())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
