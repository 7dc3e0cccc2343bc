"""pycocotools' ``loadRes`` rules for a result's box and area, for every iou type.

``COCO.loadRes`` picks one rule for the whole list from its first record: a
non-empty ``bbox`` there means every result keeps its box and gets area
``w * h`` (detectron2's keypoint and mask results carry a box); else a
``segmentation`` there means every area is the mask's and a result without
a box gets the mask's (``toBbox``); else ``keypoints`` there means every box
is the keypoints' extent, with that extent's area. The area decides which area range an unmatched detection
falls in, so a box evaluation of keypoint results depends on the rule.
Checked against pycocotools through dicts, files (the byte scanner's path and
the general one), the drop-in's ``loadRes`` records and the command line.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_keypoints import assert_result_equals, keypoint_data, run_coco
from test_segm import segm_data

import prcore
from prcore.cli import main
from prcore.coco import COCO as DropInCOCO
from prcore.cocoeval import COCOeval as DropInCOCOeval
from prcore.errors import PrcoreInputError
from prcore.io.load import load_detections, load_ground_truth, results_rule

# pycocotools.mask.decode under numpy 2 warns about __array__'s copy keyword
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _write(tmp_path, gt, dets):
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    return gt_path, dt_path


@pytest.mark.parametrize("box", ["none", "mixed", "all"])
@pytest.mark.parametrize("iou_type", ["bbox", "keypoints"])
def test_keypoint_results_by_dict_file_and_command(tmp_path, box, iou_type):
    gt, dets = keypoint_data(21, n_img=12, box=box)
    ref = run_coco(COCO, COCOeval, gt, dets, iou_type=iou_type)
    assert_result_equals(prcore.evaluate(gt, dets, iou_type=iou_type), ref)
    ours = run_coco(DropInCOCO, DropInCOCOeval, gt, dets, iou_type=iou_type)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], ref.eval[key])
    gt_path, dt_path = _write(tmp_path, gt, dets)
    assert_result_equals(prcore.evaluate(gt_path, dt_path, iou_type=iou_type), ref)
    arrays = tmp_path / "a.npz"
    with contextlib.redirect_stdout(io.StringIO()):
        argv = ["eval", str(gt_path), str(dt_path), "--iou-type", iou_type, "--arrays", str(arrays)]
        assert main(argv) == 0
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(np.load(arrays)[key], ref.eval[key])
    # the drop-in reading the file
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = DropInCOCO(str(gt_path))
        ev = DropInCOCOeval(coco_gt, coco_gt.loadRes(str(dt_path)), iou_type)
        ev.evaluate()
        ev.accumulate()
    np.testing.assert_array_equal(ev.eval["precision"], ref.eval["precision"])


def test_the_first_record_decides():
    gt, dets = keypoint_data(22, n_img=6, box="all")
    assert results_rule(dets) == "box"
    first_without = copy.deepcopy(dets)
    del first_without[0]["bbox"]
    assert results_rule(first_without) == "keypoints"  # the others' boxes are replaced
    empty_box = copy.deepcopy(dets)
    empty_box[0]["bbox"] = []
    assert results_rule(empty_box) == "keypoints"
    for records in (first_without, empty_box):
        ref = run_coco(COCO, COCOeval, gt, records, iou_type="bbox")
        assert_result_equals(prcore.evaluate(gt, records), ref)
    # a box on the first only: pycocotools fails (KeyError); prcore names the record
    last_without = copy.deepcopy(dets)
    del last_without[4]["bbox"]
    with pytest.raises(PrcoreInputError) as info:
        prcore.evaluate(gt, last_without)
    assert (info.value.index, info.value.field) == (4, "bbox")
    assert "is missing" in str(info.value)


def _data(kind: str, box: str, style: str | None = None):
    if kind == "keypoints":
        return keypoint_data(23, n_img=5, box=box, style=style)
    return segm_data(23, n_img=5, box=box)


@pytest.mark.parametrize("box", ["none", "mixed", "all"])
@pytest.mark.parametrize("kind", ["keypoints", "masks"])
def test_drop_in_load_res_records(kind, box):
    """The drop-in's loadRes completes the records as pycocotools' does (values and types)."""
    gt, dets = _data(kind, box, style="int")
    with contextlib.redirect_stdout(io.StringIO()):
        ref = COCO()
        ref.dataset = copy.deepcopy(gt)
        ref.createIndex()
        ref_res = ref.loadRes(copy.deepcopy(dets))
        ours = DropInCOCO()
        ours.dataset = copy.deepcopy(gt)
        ours.createIndex()
        our_res = ours.loadRes(copy.deepcopy(dets))
    want, got = ref_res.dataset["annotations"], our_res.dataset["annotations"]
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert list(g) == list(w)
        for key in w:
            assert type(g[key]) is type(w[key]), key
            if isinstance(w[key], np.ndarray):
                assert g[key].dtype == w[key].dtype, key
                np.testing.assert_array_equal(g[key], w[key])
            else:
                assert g[key] == w[key], key


@pytest.mark.parametrize("box", ["none", "mixed", "all"])
@pytest.mark.parametrize("style", ["int", "f32", "float"])
def test_columns_are_load_res_boxes_and_areas(box, style):
    """The columns' boxes and areas are the numbers pycocotools' loadRes writes."""
    gt, dets = keypoint_data(24, n_img=6, box=box, style=style)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        res = coco.loadRes(copy.deepcopy(dets))
    anns = res.dataset["annotations"]
    ground_truth = load_ground_truth(gt)
    for iou_type in ("bbox", "keypoints"):
        cols = load_detections(dets, ground_truth, iou_type)
        np.testing.assert_array_equal(cols.area, np.array([a["area"] for a in anns], float))
        np.testing.assert_array_equal(cols.bbox, np.array([a["bbox"] for a in anns], float))


@pytest.mark.parametrize("box", ["none", "mixed", "all"])
def test_mask_columns_are_load_res_boxes_and_areas(box):
    gt, dets = segm_data(25, n_img=6, box=box)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        res = coco.loadRes(copy.deepcopy(dets))
    anns = res.dataset["annotations"]
    for iou_type in ("bbox", "segm"):
        ground_truth = load_ground_truth(gt, iou_type)
        cols = load_detections(dets, ground_truth, iou_type)
        np.testing.assert_array_equal(cols.area, np.array([a["area"] for a in anns], float))
        np.testing.assert_array_equal(cols.bbox, np.array([list(a["bbox"]) for a in anns], float))


@pytest.mark.parametrize("box", ["none", "mixed", "all"])
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_mask_results_by_file_and_command(tmp_path, box, iou_type):
    gt, dets = segm_data(26, n_img=8, box=box)
    ref = run_coco(COCO, COCOeval, gt, dets, iou_type=iou_type)
    gt_path, dt_path = _write(tmp_path, gt, dets)
    assert_result_equals(prcore.evaluate(gt_path, dt_path, iou_type=iou_type), ref)
    arrays = tmp_path / "a.npz"
    with contextlib.redirect_stdout(io.StringIO()):
        argv = ["eval", str(gt_path), str(dt_path), "--iou-type", iou_type, "--arrays", str(arrays)]
        assert main(argv) == 0
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(np.load(arrays)[key], ref.eval[key])
