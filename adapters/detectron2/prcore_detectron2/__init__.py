"""detectron2 adapter for prcore: inference to COCO results, and a DatasetEvaluator.

``PrcoreEvaluator`` is imported lazily so ``import prcore_detectron2`` stays cheap.
"""

__all__ = ["PrcoreEvaluator"]


def __getattr__(name):
    if name == "PrcoreEvaluator":
        from prcore_detectron2.evaluator import PrcoreEvaluator

        return PrcoreEvaluator
    raise AttributeError(name)
