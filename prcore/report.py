"""The JSON report of an evaluation, as a pydantic model.

Kept apart from :mod:`prcore.result` so that evaluating never imports
pydantic; only writing or reading a report does.
"""

from __future__ import annotations

from pydantic import BaseModel

from prcore.params import Params
from prcore.summary import ClassRow


class EvaluationReport(BaseModel):
    """What ``--json`` writes: enough to reproduce and compare every number."""

    prcore_version: str
    iou_type: str
    stat_names: list[str]
    stats: list[float]
    per_class: list[ClassRow]
    params: Params
    n_images: int
    n_detections: int
