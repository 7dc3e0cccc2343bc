"""prcore: exact, fast COCO evaluation with raw per-class precision-recall curves.

>>> import prcore
>>> result = prcore.evaluate("instances_val.json", "detections.json")
>>> result.stats            # pycocotools' 12 numbers
>>> result.curve("person")  # raw curve, scikit-learn convention
"""

from __future__ import annotations

__version__ = "0.1.0"

from prcore.errors import PrcoreInputError, PrcoreWarning
from prcore.params import Params

__all__ = [
    "EvaluationResult",
    "Params",
    "PrcoreInputError",
    "PrcoreWarning",
    "__version__",
    "evaluate",
]


def evaluate(gt, dt, iou_type: str = "bbox", params: Params | None = None):
    """Evaluate COCO detections exactly as pycocotools does; see :func:`prcore.engine.evaluate`."""
    from prcore.engine import evaluate as _evaluate

    return _evaluate(gt, dt, iou_type=iou_type, params=params)


def __getattr__(name):
    if name == "EvaluationResult":
        from prcore.result import EvaluationResult

        return EvaluationResult
    raise AttributeError(name)
