"""Every kind the model predicts: PrcoreEvaluator's bbox, segm and keypoints numbers
against detectron2's COCOEvaluator (official pycocotools path), on real model output.

The model runs once per test; both evaluators are fed the same outputs, so any
difference is the evaluation's, not torch's.
"""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest

KEYPOINT_CONFIG = "COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x.yaml"


def _outputs(model, loader) -> list[tuple[list, list]]:
    import torch

    with torch.no_grad():
        return [(inputs, model(inputs)) for inputs in loader]


def _both(name: str, pairs, tmp_path, **kwargs):
    from detectron2.evaluation import COCOEvaluator

    from prcore_detectron2 import PrcoreEvaluator

    ours = PrcoreEvaluator(name, distributed=False, **kwargs)
    coco = COCOEvaluator(
        name, distributed=False, output_dir=str(tmp_path / "coco"), use_fast_impl=False, **kwargs
    )
    for ev in (ours, coco):
        ev.reset()
        # A fresh copy each: COCOEvaluator's instances_to_coco_json shifts keypoints in place.
        for inputs, outputs in copy.deepcopy(pairs):
            ev.process(inputs, outputs)
    return ours, ours.evaluate(), coco.evaluate()


def _assert_same(ours_res, coco_res):
    assert list(ours_res) == list(coco_res)
    for kind, metrics in coco_res.items():
        assert list(ours_res[kind]) == list(metrics), kind
        for k, v in metrics.items():
            assert ours_res[kind][k] == pytest.approx(v, abs=1e-12, nan_ok=True), (kind, k)


def test_mask_rcnn_bbox_and_segm_equal_coco_evaluator(shapes, tmp_path, capsys):
    from detectron2.data import DatasetCatalog, build_detection_test_loader
    from detectron2.data.datasets import register_coco_instances
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from prcore_detectron2.config import build_config

    name = "prcore_shapes_val_kinds"
    if name not in DatasetCatalog.list():
        register_coco_instances(name, {}, shapes.gt, shapes.images)
    config = build_config(
        shapes.config,
        weights=shapes.weights,
        device="cpu",
        score_thresh=0.0,
        max_dets=None,
        opts=shapes.opts,
    )
    pairs = _outputs(config.build_model(), build_detection_test_loader(config.cfg, name))
    ours, ours_res, coco_res = _both(name, pairs, tmp_path)

    assert list(coco_res) == ["bbox", "segm"]
    _assert_same(ours_res, coco_res)
    assert any(k.startswith("AP-") for k in ours_res["segm"])
    assert ours_res["segm"]["AP50"] > 0  # the tiny model's masks are real output
    assert set(ours.results_by_kind) == {"bbox", "segm"}
    assert ours.result is ours.results_by_kind["bbox"]

    # Array for array against pycocotools on COCOEvaluator's results without boxes.
    with open(tmp_path / "coco" / "coco_instances_results.json") as f:
        dets = json.load(f)
    for d in dets:
        d.pop("bbox")
    gt = COCO(shapes.gt)
    ev = COCOeval(gt, gt.loadRes(dets), "segm")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    segm = ours.results_by_kind["segm"]
    np.testing.assert_array_equal(segm.stats, ev.stats)
    np.testing.assert_array_equal(segm.precision, ev.eval["precision"])
    np.testing.assert_array_equal(segm.scores, ev.eval["scores"])

    # The command's --analyze: each kind present in the written results.
    from prcore_detectron2.analyze import analysis_text

    capsys.readouterr()
    text = analysis_text(shapes.gt, str(tmp_path / "coco" / "coco_instances_results.json"))
    assert "== bbox ==" in text and "== segm ==" in text
    assert text.count("Average Precision") == 2 * 6
    assert f"{ev.stats[0]:.3f}" in text.split("== segm ==")[1]


def _write_keypoint_dataset(root, n_images: int = 6, seed: int = 3, size=(160, 128)) -> str:
    """One "person" category, 17 keypoints with invisible and unlabelled ones, on noise."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    w, h = size
    images, anns = [], []
    for i in range(n_images):
        image_id = 500 + 3 * i
        Image.fromarray(rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)).save(
            os.path.join(root, "images", f"kp_{i}.png")
        )
        images.append({"id": image_id, "file_name": f"kp_{i}.png", "height": h, "width": w})
        for _ in range(int(rng.integers(1, 4))):
            bw, bh = float(rng.uniform(30, 90)), float(rng.uniform(40, 110))
            x0, y0 = float(rng.uniform(0, w - bw)), float(rng.uniform(0, h - bh))
            v = rng.choice([0, 1, 2], size=17, p=[0.2, 0.2, 0.6])
            xs = np.where(v > 0, rng.uniform(x0, x0 + bw, 17), 0.0)
            ys = np.where(v > 0, rng.uniform(y0, y0 + bh, 17), 0.0)
            kps = [float(t) for p in zip(xs, ys, v) for t in p]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "bbox": [x0, y0, bw, bh],
                    "area": bw * bh * 0.6,
                    "iscrowd": 0,
                    "keypoints": kps,
                    "num_keypoints": int((v > 0).sum()),
                }
            )
    from detectron2.data.datasets.builtin_meta import COCO_PERSON_KEYPOINT_NAMES

    cats = [{"id": 1, "name": "person", "keypoints": list(COCO_PERSON_KEYPOINT_NAMES)}]
    path = os.path.join(root, "instances.json")
    with open(path, "w") as f:
        json.dump({"images": images, "annotations": anns, "categories": cats}, f)
    return path


def test_keypoint_rcnn_bbox_and_keypoints_equal_coco_evaluator(tmp_path):
    """Keypoint R-CNN R50-FPN with random weights: real, if meaningless, model output."""
    pytest.importorskip("torch")
    pytest.importorskip("detectron2")
    from detectron2 import model_zoo
    from detectron2.config import get_cfg
    from detectron2.data import DatasetCatalog, build_detection_test_loader
    from detectron2.data.datasets import register_coco_instances
    from detectron2.modeling import build_model

    import shapes as shapes_mod

    gt = _write_keypoint_dataset(str(tmp_path / "kp"))
    name = "prcore_keypoints_val"
    if name not in DatasetCatalog.list():
        from detectron2.data.datasets.builtin_meta import (
            COCO_PERSON_KEYPOINT_FLIP_MAP,
            COCO_PERSON_KEYPOINT_NAMES,
        )

        meta = {
            "keypoint_names": COCO_PERSON_KEYPOINT_NAMES,
            "keypoint_flip_map": COCO_PERSON_KEYPOINT_FLIP_MAP,
        }
        register_coco_instances(name, meta, gt, str(tmp_path / "kp" / "images"))
    cfg = get_cfg()
    cfg.merge_from_file(model_zoo.get_config_file(KEYPOINT_CONFIG))
    cfg.merge_from_list(shapes_mod.tiny_opts(num_classes=1))
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0
    cfg.TEST.DETECTIONS_PER_IMAGE = 20
    cfg.DATASETS.TRAIN = (name,)
    cfg.DATASETS.TEST = (name,)
    import torch

    torch.manual_seed(0)
    model = build_model(cfg).eval()
    pairs = _outputs(model, build_detection_test_loader(cfg, name))
    # Random weights rarely hit random persons; persons placed near the model's top
    # detections (keypoints jittered, some unlabelled) give a curve with matches.
    _persons_from_outputs(gt, pairs)
    ours, ours_res, coco_res = _both(name, pairs, tmp_path)

    assert list(coco_res) == ["bbox", "keypoints"]
    assert ours_res["keypoints"]["AP50"] > 0
    _assert_same(ours_res, coco_res)
    assert set(ours.results_by_kind) == {"bbox", "keypoints"}
    assert len(ours.results_by_kind["keypoints"].stats) == 10
    assert np.isfinite(ours_res["keypoints"]["AP"])  # detections met persons: a real curve


def _persons_from_outputs(gt_path: str, pairs, per_image: int = 2, seed: int = 4) -> None:
    rng = np.random.default_rng(seed)
    with open(gt_path) as f:
        gt = json.load(f)
    anns = []
    for inputs, outputs in pairs:
        for inp, out in zip(inputs, outputs):
            inst = out["instances"]
            boxes = inst.pred_boxes.tensor.numpy()[:per_image]
            kps = inst.pred_keypoints.numpy()[:per_image]
            for (x0, y0, x1, y1), kp in zip(boxes, kps):
                v = rng.choice([0, 2], size=len(kp), p=[0.2, 0.8])
                xy = kp[:, :2] + rng.normal(0, 1.5, size=(len(kp), 2))
                xy[v == 0] = 0
                w, h = float(x1 - x0), float(y1 - y0)
                anns.append(
                    {
                        "id": len(anns) + 1,
                        "image_id": inp["image_id"],
                        "category_id": 1,
                        "bbox": [float(x0), float(y0), w, h],
                        "area": w * h * 0.6,
                        "iscrowd": 0,
                        "keypoints": [float(t) for p in zip(xy[:, 0], xy[:, 1], v) for t in p],
                        "num_keypoints": int((v > 0).sum()),
                    }
                )
    gt["annotations"] = anns
    with open(gt_path, "w") as f:
        json.dump(gt, f)
