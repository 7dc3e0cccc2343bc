"""``prcore-detectron2 infer`` end to end, on real detectron2 and torch (CPU)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("detectron2")

from prcore_detectron2.cli import main  # noqa: E402


def _load(path):
    with open(path) as f:
        return json.load(f)


def test_results_are_valid_coco_json(shapes, reference_results):
    from pycocotools import mask as mask_util

    gt = _load(shapes.gt)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    dets = _load(reference_results)
    assert len(dets) > len(gt["images"])
    assert {d["category_id"] for d in dets} <= {3, 7, 11}
    assert {d["image_id"] for d in dets} <= set(sizes)
    for d in dets:
        assert len(d["bbox"]) == 4 and d["bbox"][2] >= 0 and d["bbox"][3] >= 0
        assert 0.0 <= d["score"] <= 1.0
        rle = d["segmentation"]
        assert tuple(rle["size"]) == sizes[d["image_id"]]
        assert isinstance(rle["counts"], str)
        assert (
            mask_util.decode({**rle, "counts": rle["counts"].encode()}).shape
            == sizes[d["image_id"]]
        )
    # The default score threshold is 0.0, so low scores reach the file.
    assert min(d["score"] for d in dets) < 0.05
    meta = _load(reference_results + ".meta.json")
    assert meta["score_thresholds"]["MODEL.ROI_HEADS.SCORE_THRESH_TEST"] == 0.0
    assert "0.05" in meta["score_threshold_note"]
    assert meta["n_images"] == len(gt["images"]) and meta["n_detections"] == len(dets)
    assert meta["images_per_s"] > 0 and meta["device"] == "cpu"
    assert not [
        p for p in os.listdir(os.path.dirname(reference_results)) if p.endswith((".tmp", ".part"))
    ]


def test_same_records_as_detectron2_coco_evaluator(shapes, reference_results, tmp_path):
    """Ids mapped back, boxes, scores, masks: identical to COCOEvaluator's own results file."""
    from detectron2.data import DatasetCatalog, build_detection_test_loader
    from detectron2.data.datasets import register_coco_instances
    from detectron2.evaluation import COCOEvaluator, inference_on_dataset

    from prcore_detectron2 import PrcoreEvaluator
    from prcore_detectron2.config import build_config

    name = "prcore_shapes_val"
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
    cfg = config.cfg
    model = config.build_model()
    # PrcoreEvaluator first: it must not depend on the dataset being loaded already.
    ours = PrcoreEvaluator(name, distributed=False, output_dir=str(tmp_path / "prcore"))
    coco = COCOEvaluator(
        name,
        tasks=("bbox",),
        distributed=False,
        output_dir=str(tmp_path / "coco"),
        use_fast_impl=False,
    )
    # Two passes: DatasetEvaluators refuses two evaluators that both report "bbox".
    loader = build_detection_test_loader(cfg, name)
    ours_bbox = inference_on_dataset(model, loader, ours)["bbox"]
    coco_bbox = inference_on_dataset(model, loader, coco)["bbox"]

    # COCOEvaluator's results file vs the command's: the command runs detectron2's own
    # path (load_coco_json, build_detection_test_loader, inference_on_dataset), so with
    # the same model and thread count they are equal record for record, bit for bit:
    # order, ids mapped back, boxes, scores and RLE masks.
    d2 = _load(tmp_path / "coco" / "coco_instances_results.json")
    assert d2 and {"bbox", "score", "segmentation"} <= set(d2[0])
    assert _load(reference_results) == d2
    assert _load(tmp_path / "prcore" / "prcore_instances_results.json") == d2

    # PrcoreEvaluator: the same numbers as COCOEvaluator, plus the result object.
    assert ours.result is not None
    assert set(coco_bbox) == set(ours_bbox)
    assert any(k.startswith("AP-") for k in ours_bbox)
    for k, v in coco_bbox.items():
        assert v == pytest.approx(ours_bbox[k], abs=1e-12, nan_ok=True), k
    assert ours.result.select_thresholds(best_f1=True).to_text()


def test_prcore_stats_equal_pycocotools(shapes, reference_results):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    import prcore

    gt = COCO(shapes.gt)
    ev = COCOeval(gt, gt.loadRes(reference_results), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    res = prcore.evaluate(shapes.gt, reference_results)
    np.testing.assert_array_equal(res.stats, ev.stats)
    np.testing.assert_array_equal(res.precision, ev.eval["precision"])
    assert res.stats[1] > 0.2  # the tiny model has learnt something


def test_analyze_prints_summary_table_and_thresholds(shapes, tmp_path, capsys):
    out = str(tmp_path / "r.json")
    assert main(shapes.infer_args(out, "--analyze")) == 0
    text = capsys.readouterr().out
    assert "Average Precision" in text and "triangle" in text and "best F1" in text


def test_sweep_table(shapes, tmp_path, capsys):
    out = str(tmp_path / "r.json")
    args = shapes.infer_args(out, "--sweep", "MODEL.ROI_HEADS.NMS_THRESH_TEST=0.3,0.7")
    assert main(args) == 0
    text = capsys.readouterr().out
    lines = text.strip().splitlines()
    assert lines[0].split()[0] == "MODEL.ROI_HEADS.NMS_THRESH_TEST"
    assert [ln.split()[0] for ln in lines[2:]] == ["0.3", "0.7"]
    files = sorted(p for p in os.listdir(tmp_path) if p.endswith(".json") and "meta" not in p)
    assert len(files) == 2
    metas = [_load(tmp_path / (f + ".meta.json")) for f in files]
    assert {m["sweep"]["value"] for m in metas} == {"0.3", "0.7"}


def test_batches_match_single_images(shapes, reference_results, tmp_path):
    """--batch-size 4 (the synthetic images share one size, so no extra padding)."""
    out = str(tmp_path / "b4.json")
    assert main(shapes.infer_args(out, "--batch-size", "4")) == 0
    one, four = _load(reference_results), _load(out)
    assert [(d["image_id"], d["category_id"]) for d in one] == [
        (d["image_id"], d["category_id"]) for d in four
    ]
    np.testing.assert_allclose([d["score"] for d in one], [d["score"] for d in four], atol=1e-5)
    assert _load(out + ".meta.json")["batch_size"] == 4


def test_two_cpu_processes_match_one(shapes, reference_results, tmp_path):
    """Two ranks (InferenceSampler's contiguous ranges, merged in rank order) give the
    single run's file; the GT lists its images in reverse, and both follow image ids,
    as load_coco_json orders them."""
    gt = _load(shapes.gt)
    gt["images"].reverse()
    reversed_gt = tmp_path / "gt.json"
    reversed_gt.write_text(json.dumps(gt))
    out = str(tmp_path / "r2.json")
    args = shapes.infer_args(out, "--num-gpus", "2")
    args[args.index("--gt") + 1] = str(reversed_gt)
    assert main(args) == 0
    one, two = _load(reference_results), _load(out)
    assert len(one) == len(two)
    for a, b in zip(one, two):
        assert (a["image_id"], a["category_id"]) == (b["image_id"], b["category_id"])
        np.testing.assert_allclose(a["bbox"], b["bbox"], rtol=0, atol=1e-3)
        assert abs(a["score"] - b["score"]) < 1e-5
    meta = _load(out + ".meta.json")
    assert meta["world_size"] == 2 and len(meta["per_rank"]) == 2
    assert sum(r["images"] for r in meta["per_rank"]) == meta["n_images"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith((".tmp", ".part"))]


LAZY_CONFIG = "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.py"
# Random weights: GroupNorm instead of FrozenBN's identity statistics keeps the random
# R-50 finite, so it returns its full quota of detections.
LAZY_OPTS = (
    "model.roi_heads.num_classes=3",
    "model.backbone.bottom_up.stem.norm=GN",
    "model.backbone.bottom_up.stages.norm=GN",
    "dataloader.test.mapper.augmentations.0.short_edge_length=128",
    "dataloader.test.mapper.augmentations.0.max_size=160",
)


def test_lazy_config_matches_detectron2s_own_lazy_evaluation(shapes, tmp_path):
    """A LazyConfig (.py) model: our thresholds applied, records equal to detectron2's own
    LazyConfig evaluation path (instantiate(cfg.dataloader.test) + COCOEvaluator)."""
    from detectron2.config import instantiate
    from detectron2.data import DatasetCatalog
    from detectron2.data.datasets import register_coco_instances
    from detectron2.evaluation import COCOEvaluator, inference_on_dataset

    from prcore_detectron2.config import build_config

    out = str(tmp_path / "lazy.json")
    args = [
        "infer", "--config-file", LAZY_CONFIG, "--gt", shapes.gt, "--images", shapes.images,
        "--out", out, "--weights", "", "--device", "cpu", "--no-progress",
        "--num-workers", "1", "--max-dets", "20", *LAZY_OPTS,
    ]  # fmt: skip
    assert main(args) == 0
    dets = _load(out)
    meta = _load(out + ".meta.json")
    assert meta["config_kind"] == "LazyConfig"
    assert meta["score_thresholds"] == {"model.roi_heads.box_predictor.test_score_thresh": 0.0}
    assert meta["detections_per_image"] == 20
    per_image = np.bincount([d["image_id"] - 1000 for d in dets])
    assert per_image.max() == 20 and {d["category_id"] for d in dets} <= {3, 7, 11}

    name = "prcore_shapes_val_lazy"
    if name not in DatasetCatalog.list():
        register_coco_instances(name, {}, shapes.gt, shapes.images)
    config = build_config(LAZY_CONFIG, weights="", device="cpu", score_thresh=0.0,
                          max_dets=20, opts=LAZY_OPTS)  # fmt: skip
    config.cfg.dataloader.test.dataset.names = name
    config.cfg.dataloader.test.num_workers = 0
    coco = COCOEvaluator(name, tasks=("bbox",), distributed=False,
                         output_dir=str(tmp_path / "c"), use_fast_impl=False)  # fmt: skip
    inference_on_dataset(config.build_model(), instantiate(config.cfg.dataloader.test), coco)
    d2 = _load(tmp_path / "c" / "coco_instances_results.json")
    assert len(d2) == len(dets)
    for a, b in zip(d2, dets):
        assert (a["image_id"], a["category_id"]) == (b["image_id"], b["category_id"])
        np.testing.assert_allclose(a["bbox"], b["bbox"], rtol=0, atol=1e-3)
        assert abs(a["score"] - b["score"]) < 1e-5
