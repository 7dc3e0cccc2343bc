"""The tools under comparison: one function each, (gt_path, dt_path, iou_type) -> stats.

Each function is the tool's fastest documented drop-in path for evaluation with
default settings, timed from file paths (reading and parsing included) to
pycocotools' stats (12 for bbox and segm, 10 for keypoints). Each tool is told
the iou type its documented way: pycocotools' ``COCOeval(gt, dt, iouType)``
for the drop-ins, hotcoco's ``coco eval --iou-type``, vernier's ``Bbox()`` /
``Segm()`` / ``Keypoints()`` kernel selectors, prcore's ``iou_type``. Imports
stay inside the functions, so that a worker process loads only the tool it
measures.

    python benchmarks/peers.py TOOL GT DT [IOU_TYPE]   # print the tool's stats
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable

# Distribution name of each tool, for its version.
DISTRIBUTIONS = {
    "prcore": "prcore",
    "prcore-jit": "prcore",
    "pycocotools": "pycocotools",
    "faster-coco-eval": "faster-coco-eval",
    "hotcoco": "hotcoco",
    "ultrafast-pycocotools": "ultrafast-pycocotools",
    "vernier": "vernier",
}


@contextlib.contextmanager
def quiet_stdout():
    """Silence stdout at the file-descriptor level (compiled cores print past sys.stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def prcore_stats(gt: str, dt: str, iou_type: str = "bbox") -> list[float]:
    import prcore

    return [float(v) for v in prcore.evaluate(gt, dt, iou_type=iou_type).stats]


def prcore_jit_stats(gt: str, dt: str, iou_type: str = "bbox") -> list[float]:
    """prcore without its ahead-of-time kernel build: numba's JIT kernels from its cache
    (what a machine without a C compiler runs)."""
    os.environ["PRCORE_NO_NATIVE"] = "1"  # read when the first kernel is called
    return prcore_stats(gt, dt, iou_type)


def _cocoeval_stats(coco_cls, eval_cls, gt: str, dt: str, iou_type: str, load_res: str = "loadRes"):
    """pycocotools' sequence, for every tool that copies its interface."""
    with quiet_stdout():
        coco_gt = coco_cls(gt)
        coco_dt = getattr(coco_gt, load_res)(dt)
        ev = eval_cls(coco_gt, coco_dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(v) for v in ev.stats]


def pycocotools_stats(gt: str, dt: str, iou_type: str = "bbox") -> list[float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    return _cocoeval_stats(COCO, COCOeval, gt, dt, iou_type)


def faster_coco_eval_stats(gt: str, dt: str, iou_type: str = "bbox") -> list[float]:
    # COCOeval_faster is the C++ evaluator that init_as_pycocotools() installs.
    from faster_coco_eval import COCO, COCOeval_faster

    return _cocoeval_stats(COCO, COCOeval_faster, gt, dt, iou_type)


def hotcoco_stats(gt: str, dt: str, iou_type: str = "bbox") -> list[float]:
    from hotcoco import COCO, COCOeval

    return _cocoeval_stats(COCO, COCOeval, gt, dt, iou_type, load_res="load_res")


def ultrafast_pycocotools_stats(gt: str, dt: str, iou_type: str = "bbox") -> list[float]:
    from ultrafast_pycocotools import COCO, COCOeval

    return _cocoeval_stats(COCO, COCOeval, gt, dt, iou_type)


def vernier_stats(gt: str, dt: str, iou_type: str = "bbox") -> list[float]:
    # The native Evaluator; parity_mode="strict" is vernier's pycocotools-exact mode
    # (its native default, "corrected", fixes pycocotools' quirks instead). Keypoints()
    # without sigmas takes pycocotools' 17 person sigmas.
    from pathlib import Path

    from vernier.instance import Bbox, Evaluator, Keypoints, Segm

    kernel = {"bbox": Bbox, "segm": Segm, "keypoints": Keypoints}[iou_type]()
    evaluator = Evaluator(iou=kernel, parity_mode="strict")
    summary = evaluator.evaluate(Path(gt).read_bytes(), Path(dt).read_bytes())
    return [float(v) for v in summary.stats]


STATS: dict[str, Callable[[str, str, str], list[float]]] = {
    "prcore": prcore_stats,
    "prcore-jit": prcore_jit_stats,
    "pycocotools": pycocotools_stats,
    "faster-coco-eval": faster_coco_eval_stats,
    "hotcoco": hotcoco_stats,
    "ultrafast-pycocotools": ultrafast_pycocotools_stats,
    "vernier": vernier_stats,
}

TOOLS = list(STATS)


def _console_script(name: str) -> str | None:
    """The tool's console script beside this interpreter (not a pyenv/conda shim)."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.access(path, os.X_OK) else None


def cli_command(tool: str, gt: str, dt: str, iou_type: str = "bbox") -> list[str]:
    """argv of a fresh process that imports the tool, evaluates and prints the stats.

    The tool's own command line where it ships one with its Python package
    (prcore, hotcoco's ``coco``); otherwise ``python`` running the function above.
    """
    if tool in ("prcore", "prcore-jit"):
        script = _console_script("prcore")
        argv = [script] if script else [sys.executable, "-m", "prcore"]
        jit_only = ["env", "PRCORE_NO_NATIVE=1"] if tool == "prcore-jit" else []
        return [*jit_only, *argv, "eval", gt, dt, "--iou-type", iou_type]
    if tool == "hotcoco" and _console_script("coco"):
        return [_console_script("coco"), "eval", "--gt", gt, "--dt", dt, "--iou-type", iou_type]
    return [sys.executable, os.path.abspath(__file__), tool, gt, dt, iou_type]


def main() -> None:
    tool, gt, dt = sys.argv[1:4]
    iou_type = sys.argv[4] if len(sys.argv) > 4 else "bbox"
    print(STATS[tool](gt, dt, iou_type))


if __name__ == "__main__":
    main()
