"""``prcore warmup``: pay the kernels' compile ahead of time, for whoever asks.

A library call never compiles anything behind the user's back: the kernels
come from the ahead-of-time build that ``pip install`` makes, or compile on
first use into numba's own cache (``cache=True``). This command does that
first-use compile now, by running every kernel once on tiny input through the
JIT; with ``--native`` it (re)builds the ahead-of-time module into the user's
cache instead, which needs a C compiler.
"""

from __future__ import annotations

import os

_GROUND_TRUTH = (
    b'{"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "a"}], '
    b'"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], '
    b'"area": 16, "iscrowd": 0}, {"id": 2, "image_id": 2, "category_id": 1, '
    b'"bbox": [1, 1, 3, 3], "area": 9, "iscrowd": 1}]}'
)
_RESULTS = (
    b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 3], "score": 0.9}, '
    b'{"image_id": 2, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5}]'
)


def compile_kernels() -> None:
    """Run every kernel once through numba's JIT, so that its cache holds them."""
    import tempfile

    from prcore import _kernels
    from prcore._kernels import native

    previous = os.environ.get("PRCORE_NO_NATIVE")
    os.environ["PRCORE_NO_NATIVE"] = "1"  # this command's own process: compile the JIT path
    native.forget()
    try:
        with tempfile.TemporaryDirectory(prefix="prcore-warmup-") as tmp:
            gt, dt = os.path.join(tmp, "gt.json"), os.path.join(tmp, "dt.json")
            with open(gt, "wb") as f:
                f.write(_GROUND_TRUTH)
            with open(dt, "wb") as f:
                f.write(_RESULTS)
            from prcore.engine import evaluate
            from prcore.result import EvaluationResult

            EvaluationResult.build(evaluate(gt, dt)).sweep([0.5])  # the read-only table too
            _evaluate_each_kind(evaluate, tmp)
    finally:
        if previous is None:
            del os.environ["PRCORE_NO_NATIVE"]
        else:
            os.environ["PRCORE_NO_NATIVE"] = previous
        native.forget()
    missing = [h.name for h in _kernels.handles() if not h.jit.signatures]
    if missing:
        raise RuntimeError(f"not compiled by the warmup run: {', '.join(missing)}")


def _evaluate_each_kind(evaluate, tmp: str) -> None:
    """The kernels that only other iou types use (OKS, masks): one tiny evaluation each,
    with every kind of mask (polygons of two parts, uncompressed and compressed RLE,
    a result's polygon), and a mask results file (its scanner)."""
    import json

    from prcore.params import Params

    square = [[0, 0, 0, 4, 4, 4, 4, 0], [5, 5, 5, 7, 7, 7]]
    masks = {
        "images": [{"id": 1, "width": 8, "height": 8}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16,
             "iscrowd": 0, "segmentation": square},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 1, 5], "area": 5,
             "iscrowd": 1, "segmentation": {"size": [8, 8], "counts": [9, 5, 50]}},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [2, 2, 1, 4], "area": 4,
             "iscrowd": 0, "segmentation": {"size": [8, 8], "counts": "b04Z1"}},
        ],
    }  # fmt: skip
    results = [
        {"image_id": 1, "category_id": 1, "bbox": [2, 2, 1, 4], "score": 0.9,
         "segmentation": {"size": [8, 8], "counts": "b04Z1"}},
        {"image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "score": 0.5,
         "segmentation": [[1, 1, 1, 4, 4, 4, 4, 1]]},
    ]  # fmt: skip
    evaluate(masks, results, iou_type="segm")
    gt, dt = os.path.join(tmp, "masks_gt.json"), os.path.join(tmp, "masks_dt.json")
    with open(gt, "w") as f:
        json.dump(masks, f)
    with open(dt, "w") as f:
        json.dump(results[:1], f)
    evaluate(gt, dt, iou_type="segm")

    gt = {
        "images": [{"id": 1, "width": 8, "height": 8}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16,
             "iscrowd": 0, "keypoints": [1, 1, 2], "num_keypoints": 1},
        ],
    }  # fmt: skip
    dt = [{"image_id": 1, "category_id": 1, "keypoints": [1, 2, 1], "score": 0.9}]
    evaluate(gt, dt, params=Params(iou_type="keypoints", kpt_oks_sigmas=[0.5]))


def warm_up(native: bool = False) -> str:
    """Compile the JIT kernels, or with ``native`` build the ahead-of-time module; say what."""
    if not native:
        compile_kernels()
        return "compiled the kernels into numba's cache"
    from prcore._kernels import native as aot

    path = aot.build_locked()
    aot.forget()
    if path is None:
        return "another process is building the kernels ahead of time; try again shortly"
    return f"built the kernels ahead of time: {path}"
