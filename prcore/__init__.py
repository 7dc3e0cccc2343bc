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


def evaluate(gt, dt, iou_type: str | None = None, params: Params | None = None):
    """Evaluate COCO detections exactly as pycocotools does.

    ``gt`` a COCO instances file, dict or loaded ground truth; ``dt`` a COCO
    results file, list of dicts or loaded detections; ``iou_type`` "bbox"
    (``params.iou_type`` when omitted). Returns an
    :class:`~prcore.result.EvaluationResult`; see :func:`prcore.engine.evaluate`.
    """
    from prcore.engine import evaluate as _evaluate
    from prcore.result import EvaluationResult

    return EvaluationResult.build(_evaluate(gt, dt, iou_type=iou_type, params=params))


def __getattr__(name):
    if name == "EvaluationResult":
        from prcore.result import EvaluationResult

        return EvaluationResult
    raise AttributeError(name)
