"""prcore's views of a results file: summary, per-class table, threshold picks, per kind."""

from __future__ import annotations

import json


def analysis_text(gt: str, results: str) -> str:
    """Each kind's summary, per-class table and threshold picks, bbox first.

    segm is scored on the records without their ``bbox``, as COCOEvaluator does
    (the mask's area decides the area range), so the numbers match its mask AP.
    """
    import prcore
    from prcore_detectron2.evaluator import records_for, tasks_from_records

    with open(results) as f:
        records = json.load(f)
    kinds = tasks_from_records(records)
    parts: list[str] = []
    for kind in kinds:
        dt = results if kind != "segm" else records_for(records, kind)
        result = prcore.evaluate(gt, dt, iou_type=kind)
        if len(kinds) > 1:
            if parts:
                parts.append("")
            parts += [f"== {kind} ==", ""]
        parts += [
            result.summary(),
            "",
            result.per_class_table(),
            "",
            result.select_thresholds(best_f1=True).to_text(),
        ]
        note = result.truncation()
        if note:
            parts += ["", note]
    return "\n".join(parts)
