"""``PrcoreEvaluator``: detectron2's ``COCOEvaluator`` numbers (bbox, segm, keypoints), by prcore.

Plugs into ``inference_on_dataset`` and training loops (``DefaultTrainer.build_evaluator``)
and keeps the full :class:`prcore.EvaluationResult` for curves and thresholds.
"""

from __future__ import annotations

import logging
import math
import os
from collections import OrderedDict

from detectron2.evaluation import DatasetEvaluator

BBOX_METRICS = ("AP", "AP50", "AP75", "APs", "APm", "APl")
# COCOEvaluator._derive_coco_results: the leading stats each iou type reports.
METRICS = {
    "bbox": BBOX_METRICS,
    "segm": BBOX_METRICS,
    "keypoints": ("AP", "AP50", "AP75", "APm", "APl"),
}


def tasks_from_records(records) -> list[str]:
    """COCOEvaluator._tasks_from_predictions: bbox always, segm/keypoints where present."""
    tasks = {"bbox"}
    for r in records:
        if "segmentation" in r:
            tasks.add("segm")
        if "keypoints" in r:
            tasks.add("keypoints")
    return sorted(tasks)


def records_for(records: list[dict], iou_type: str) -> list[dict]:
    """The results as COCOEvaluator hands them to ``loadRes`` for ``iou_type``.

    _evaluate_predictions_on_coco drops ``bbox`` for segm, so that loadRes takes
    each result's area (for the area ranges) and box from its mask.
    """
    if iou_type != "segm":
        return records
    return [{k: v for k, v in r.items() if k != "bbox"} for r in records]


class PrcoreEvaluator(DatasetEvaluator):
    """COCO AP for a registered COCO-format dataset, as ``COCOEvaluator``.

    Evaluates every kind the model predicts (``tasks=None``): boxes always, masks
    when instances carry ``pred_masks``, keypoints when they carry
    ``pred_keypoints``, with ``COCOEvaluator``'s result layout
    (``results["segm"]["AP"]``, ``results["bbox"]["AP-<class>"]``, ...).

    Parameters
    ----------
    dataset_name : str
        A dataset in ``DatasetCatalog``; its metadata's ``json_file`` is the
        ground truth (converted with detectron2's ``convert_to_coco_json`` when
        it has none, as ``COCOEvaluator`` does).
    distributed : bool
        Gather predictions from all ranks to rank 0 before evaluating.
    output_dir : str, optional
        Where to write ``prcore_instances_results.json`` (the COCO results).
    tasks : sequence of str, optional
        The iou types to evaluate ("bbox", "segm", "keypoints"); by default
        those present in the predictions, as ``COCOEvaluator`` infers them.
    kpt_oks_sigmas : sequence of float, optional
        Keypoint OKS sigmas (``cfg.TEST.KEYPOINT_OKS_SIGMAS``); COCO's person
        sigmas when empty.

    Attributes
    ----------
    result : prcore.EvaluationResult or None
        The last bbox evaluation (rank 0 only): ``.curve()``, ``.select_thresholds()``, ...
    results_by_kind : dict of str to prcore.EvaluationResult
        The last evaluation of each iou type evaluated (rank 0 only).
    """

    def __init__(
        self,
        dataset_name: str,
        distributed: bool = True,
        output_dir: str | None = None,
        tasks=None,
        kpt_oks_sigmas=(),
    ):
        from detectron2.data import MetadataCatalog

        self._logger = logging.getLogger(__name__)
        self._distributed = distributed
        self._output_dir = output_dir
        meta = MetadataCatalog.get(dataset_name)
        if not hasattr(meta, "json_file"):
            from detectron2.data.datasets.coco import convert_to_coco_json

            if output_dir is None:
                raise ValueError(f"{dataset_name} has no json_file; pass output_dir to convert it")
            meta.json_file = os.path.join(output_dir, f"{dataset_name}_coco_format.json")
            convert_to_coco_json(dataset_name, meta.json_file)
        self._gt_path = meta.json_file
        self._metadata = meta
        self._tasks = tuple(tasks) if tasks else None
        for t in self._tasks or ():
            if t not in METRICS:
                raise ValueError(f"unknown task {t!r}; expected one of {', '.join(METRICS)}")
        self._kpt_oks_sigmas = tuple(float(s) for s in kpt_oks_sigmas)
        self.result = None
        self.results_by_kind: dict = {}
        self.reset()

    def reset(self) -> None:
        self._records: list[dict] = []

    def process(self, inputs, outputs) -> None:
        from detectron2.evaluation.coco_evaluation import instances_to_coco_json

        for inp, out in zip(inputs, outputs):
            if "instances" in out:
                instances = out["instances"].to("cpu")
                if instances.has("pred_keypoints"):
                    # instances_to_coco_json subtracts 0.5 from the keypoints in place, and
                    # .to("cpu") of a CPU tensor is no copy: without this, the model's outputs
                    # would change under any evaluator that reads them after this one.
                    instances.pred_keypoints = instances.pred_keypoints.clone()
                self._records.extend(instances_to_coco_json(instances, inp["image_id"]))

    def evaluate(self):
        import prcore

        records = self._records
        if self._distributed:
            from detectron2.utils import comm

            comm.synchronize()
            gathered = comm.gather(records, dst=0)
            if not comm.is_main_process():
                return {}
            records = [r for part in gathered for r in part]
        # COCOEvaluator._eval_predictions: contiguous id -> dataset id. Read here, not in
        # __init__: load_coco_json sets the map only when the dataset is first loaded.
        id_map = getattr(self._metadata, "thing_dataset_id_to_contiguous_id", None)
        if id_map:
            inverse = {v: k for k, v in id_map.items()}
            for r in records:
                r["category_id"] = inverse[r["category_id"]]
        if self._output_dir:
            import json

            os.makedirs(self._output_dir, exist_ok=True)
            with open(os.path.join(self._output_dir, "prcore_instances_results.json"), "w") as f:
                json.dump(records, f)
        tasks = self._tasks or tasks_from_records(records)
        if not records:
            self._logger.warning("No predictions from the model!")
            return OrderedDict((t, {m: float("nan") for m in METRICS[t]}) for t in tasks)
        self.results_by_kind = {}
        out = OrderedDict()
        for task in sorted(tasks):
            params = None
            if task == "keypoints" and self._kpt_oks_sigmas:
                params = prcore.Params(iou_type="keypoints", kpt_oks_sigmas=self._kpt_oks_sigmas)
            result = prcore.evaluate(
                self._gt_path, records_for(records, task), iou_type=task, params=params
            )
            self.results_by_kind[task] = result
            out[task] = self._derive(result, task)
        self.result = self.results_by_kind.get("bbox")
        return out

    def _derive(self, result, task: str) -> dict:
        # COCOEvaluator._derive_coco_results: percentages, -1 -> NaN, AP-<class>.
        out = {m: float(s * 100 if s >= 0 else "nan") for m, s in zip(METRICS[task], result.stats)}
        rows = result.per_class()
        if len(rows) > 1:
            classes = list(getattr(self._metadata, "thing_classes", []) or [])
            names = classes if len(classes) == len(rows) else [r.name for r in rows]
            for name, row in zip(names, rows):
                out[f"AP-{name}"] = float(row.ap * 100) if row.ap is not None else math.nan
        return out
