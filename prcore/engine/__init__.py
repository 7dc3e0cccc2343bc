"""Columns -> match table -> COCO's precision, recall and scores arrays.

``similarity`` (one per kind) and ``match`` (one greedy matcher) make the
match table; ``accumulate`` turns it into pycocotools' arrays; ``evaluate``
runs the steps in order.
"""

from prcore.engine.accumulate import accumulate
from prcore.engine.evaluate import Evaluation, evaluate, resolve_params
from prcore.engine.match import MatchDetails, MatchTable, match

__all__ = [
    "Evaluation",
    "MatchDetails",
    "MatchTable",
    "accumulate",
    "evaluate",
    "match",
    "resolve_params",
]
