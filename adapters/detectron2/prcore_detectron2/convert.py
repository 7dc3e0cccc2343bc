"""Model outputs -> COCO result records, exactly as detectron2's ``COCOEvaluator``."""

from __future__ import annotations

from collections.abc import Sequence

from prcore_detectron2.errors import AdapterInputError


def to_coco_records(instances, image_id: int, category_ids: Sequence[int]) -> list[dict]:
    """detectron2's ``instances_to_coco_json`` plus ``COCOEvaluator._eval_predictions``' id map.

    ``instances`` must already be on the CPU. Boxes become XYWH, masks
    compressed RLE with a str ``counts``, keypoints shifted by -0.5 (all done by
    ``instances_to_coco_json``); contiguous class ``i`` becomes ``category_ids[i]``.
    """
    from detectron2.evaluation.coco_evaluation import instances_to_coco_json

    records = instances_to_coco_json(instances, image_id)
    n_cats = len(category_ids)
    for r in records:
        c = r["category_id"]
        if not 0 <= c < n_cats:
            raise AdapterInputError(
                f"model predicted class {c}, but the ground truth has only {n_cats} categories "
                "(check MODEL.*.NUM_CLASSES)"
            )
        r["category_id"] = category_ids[c]
    return records
