"""The pycocotools drop-in as real clients use it, side by side with pycocotools.

Per-image analysis scripts read ``evalImgs`` and ``ious``; torchvision's
reference ``CocoEvaluator`` (references/detection/coco_eval.py) reshapes
``evalImgs``, merges them across processes and hands them back before
``accumulate()``; some code passes ``loadRes`` an N x 7 numpy array. Each must
give pycocotools' values, element for element.
"""

from __future__ import annotations

import copy
import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from pycocotools.coco import COCO as RefCOCO
from pycocotools.cocoeval import COCOeval as RefCOCOeval
from test_oracle_generated import generate
from test_oracle_property import datasets

import prcore.cocoeval
from prcore.coco import COCO
from prcore.cocoeval import COCOeval

BOTH = ((RefCOCO, RefCOCOeval), (COCO, COCOeval))


@pytest.fixture(scope="module")
def data():
    gt, dets = generate(5, n_img=120, n_cat=10)
    # images with neither annotations nor detections: None cells even with useCats=0
    gt["images"] += [{"id": i, "width": 640, "height": 480} for i in (7, 10**6 + 1, 10**6 + 2)]
    return gt, dets


def _ground_truth(coco_cls, gt: dict):
    with redirect_stdout(io.StringIO()):
        coco = coco_cls()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
    return coco


def _evaluated(coco_cls, eval_cls, gt: dict, dets, **params):
    """(COCOeval after evaluate(), printed text); ``params`` set on ``.params``."""
    with redirect_stdout(io.StringIO()) as text:
        coco_gt = _ground_truth(coco_cls, gt)
        coco_dt = coco_gt.loadRes(copy.deepcopy(dets))
        ev = eval_cls(coco_gt, coco_dt, "bbox")
        for key, value in params.items():
            setattr(ev.params, key, value)
        ev.evaluate()
    return ev, text.getvalue()


def _assert_same_value(want, got, where: str) -> None:
    """Same type; arrays of the same dtype, shape, memory order and elements."""
    assert type(got) is type(want), f"{where}: {type(got)} != {type(want)}"
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype, f"{where}: dtype {got.dtype} != {want.dtype}"
        assert got.shape == want.shape, f"{where}: shape {got.shape} != {want.shape}"
        assert got.flags.f_contiguous == want.flags.f_contiguous, f"{where}: memory order"
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, list):
        assert len(got) == len(want), where
        for i, (w, g) in enumerate(zip(want, got)):
            _assert_same_value(w, g, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def assert_same_eval_imgs(ref, ours) -> None:
    """``evalImgs`` element for element: None positions, every key, every array."""
    assert type(ours.evalImgs) is type(ref.evalImgs)
    assert len(ours.evalImgs) == len(ref.evalImgs)
    for n, (want, got) in enumerate(zip(ref.evalImgs, ours.evalImgs)):
        if want is None:
            assert got is None, f"evalImgs[{n}] should be None"
            continue
        assert got is not None, f"evalImgs[{n}] is None, pycocotools has a dict"
        assert list(got) == list(want), f"evalImgs[{n}] keys"
        for key in want:
            _assert_same_value(want[key], got[key], f"evalImgs[{n}][{key!r}]")


def assert_same_ious(ref, ours) -> None:
    """``ious``: the same keys in the same order, ``[]`` or the same [D, G] array."""
    assert list(ours.ious) == list(ref.ious)
    for k_want, k_got in zip(ref.ious, ours.ious):
        assert [type(v) for v in k_got] == [type(v) for v in k_want], k_want
    for key, want in ref.ious.items():
        _assert_same_value(want, ours.ious[key], f"ious[{key}]")


def assert_same_eval(ref, ours) -> None:
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], ref.eval[key], err_msg=key)
    assert ours.eval["counts"] == ref.eval["counts"]
    np.testing.assert_array_equal(ours.stats, ref.stats)


def _full_run(ev):
    with redirect_stdout(io.StringIO()) as text:
        ev.accumulate()
        ev.summarize()
    return [ln for ln in text.getvalue().splitlines() if ln.startswith(" Average")]


# ------------------------------------------------------------------ evalImgs, ious


def _params(name: str, gt: dict) -> dict:
    """pycocotools-named params for a case: subsets, a fifth area range, other maxDets."""
    imgs = sorted(im["id"] for im in gt["images"])
    cats = sorted(c["id"] for c in gt["categories"])
    # image ids unsorted and repeated, as evaluate() must clean them
    subset = {"imgIds": imgs[::3][::-1] + imgs[:2], "catIds": cats[1::2]}
    return {
        "default": {},
        "no-cats": {"useCats": 0},
        "max-dets-thresholds": {"maxDets": [3, 1, 20], "iouThrs": np.array([0.3, 0.5, 0.9])},
        "five-areas": {
            "areaRng": [[0, 1e10], [0, 32**2], [32**2, 96**2], [96**2, 1e10], [500, 5000]],
            "areaRngLbl": ["all", "small", "medium", "large", "band"],
        },
        "subset": subset,
        "subset-no-cats": {**subset, "useCats": 0},
    }[name]


CASES = ["default", "no-cats", "max-dets-thresholds", "five-areas", "subset", "subset-no-cats"]


@pytest.mark.parametrize("case", CASES)
def test_eval_imgs_and_ious_are_pycocotools(data, case):
    gt, dets = data
    params = _params(case, gt)
    ref, _ = _evaluated(RefCOCO, RefCOCOeval, gt, dets, **params)
    ours, _ = _evaluated(COCO, COCOeval, gt, dets, **params)
    assert any(e is None for e in ref.evalImgs)  # empty cells to place
    assert_same_eval_imgs(ref, ours)
    assert_same_ious(ref, ours)
    # Reading the views leaves the accumulation pycocotools' own, and fast.
    assert _full_run(ours) == _full_run(ref)
    assert_same_eval(ref, ours)
    assert ours.params.catIds == ref.params.catIds  # [-1] after accumulate with useCats=0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_eval_imgs_on_random_small_datasets(data):
    """Ties, duplicates, crowds taking several detections: evalImgs stay pycocotools'."""
    gt, dets = data
    if not dets:
        return  # pycocotools' loadRes cannot take []
    for use_cats in (1, 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref, _ = _evaluated(RefCOCO, RefCOCOeval, gt, dets, useCats=use_cats)
            ours, _ = _evaluated(COCO, COCOeval, gt, dets, useCats=use_cats)
        assert_same_eval_imgs(ref, ours)
        assert_same_ious(ref, ours)


def test_views_are_built_only_when_read(data, monkeypatch):
    """evaluate/accumulate/summarize never ask the matcher for details."""
    calls = []
    real = prcore.cocoeval._match

    def spy(*args, **kwargs):
        calls.append(kwargs.get("details", False))
        return real(*args, **kwargs)

    def exact_accumulation(*args):
        calls.append("evalImgs accumulation")
        return real_accumulation(*args)

    real_accumulation = prcore.cocoeval._accumulate_eval_imgs
    monkeypatch.setattr(prcore.cocoeval, "_match", spy)
    monkeypatch.setattr(prcore.cocoeval, "_accumulate_eval_imgs", exact_accumulation)
    for use_cats in (1, 0):
        calls.clear()
        ours, _ = _evaluated(COCO, COCOeval, *data, useCats=use_cats)
        _full_run(ours)
        _full_run(ours)  # again: useCats=0 has left catIds at [-1], as pycocotools
        assert calls == [False]
        ours.ious  # noqa: B018 -- reading builds both views, once
        ours.evalImgs  # noqa: B018
        assert calls == [False, True]
        _full_run(ours)  # read but not replaced: still the match table
        assert calls == [False, True]
        ours.evalImgs = list(ours.evalImgs)
        _full_run(ours)
        assert calls == [False, True, "evalImgs accumulation"]


def test_accumulate_follows_params_changed_after_evaluate(data):
    """pycocotools' accumulate reads params as they are then: fewer maxDets, fewer
    images, fewer area ranges, or a p of its own."""
    gt, dets = data
    imgs = sorted(im["id"] for im in gt["images"])

    def changes(ev):
        ev.params.maxDets = [1, 10]
        ev.params.imgIds = imgs[: len(imgs) // 2]
        ev.params.areaRng = ev.params.areaRng[:2]
        ev.params.areaRngLbl = ev.params.areaRngLbl[:2]

    runs = []
    for coco_cls, eval_cls in BOTH:
        ev, _ = _evaluated(coco_cls, eval_cls, gt, dets)
        changes(ev)
        with redirect_stdout(io.StringIO()):
            ev.accumulate()
        runs.append(ev)
    ref, ours = runs
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], ref.eval[key], err_msg=key)
    assert ours.eval["counts"] == ref.eval["counts"] == [10, 101, 10, 2, 2]

    runs = []
    for coco_cls, eval_cls in BOTH:
        ev, _ = _evaluated(coco_cls, eval_cls, gt, dets)
        p = copy.deepcopy(ev.params)
        p.catIds = p.catIds[::2]
        with redirect_stdout(io.StringIO()):
            ev.accumulate(p)
        runs.append(ev)
    ref, ours = runs
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], ref.eval[key], err_msg=key)
    assert ours.eval["params"] is not ours.params and ours.eval["counts"][2] == 5


# ------------------------------------------------------- torchvision's CocoEvaluator
# torchvision references/detection/coco_eval.py, as training scripts copy it, with
# the COCO and COCOeval classes as parameters and utils.all_gather simulated.


def _tv_evaluate(imgs):
    with redirect_stdout(io.StringIO()):
        imgs.evaluate()
    return imgs.params.imgIds, np.asarray(imgs.evalImgs).reshape(
        -1, len(imgs.params.areaRng), len(imgs.params.imgIds)
    )


def _tv_convert_to_xywh(boxes):
    xmin, ymin, xmax, ymax = boxes.unbind(1)
    return torch.stack((xmin, ymin, xmax - xmin, ymax - ymin), dim=1)


class CocoEvaluator:
    def __init__(self, coco_gt, iou_types, coco_cls, eval_cls):
        coco_gt = copy.deepcopy(coco_gt)
        self.coco_gt = coco_gt
        self.coco_cls = coco_cls
        self.iou_types = iou_types
        self.coco_eval = {}
        for iou_type in iou_types:
            self.coco_eval[iou_type] = eval_cls(coco_gt, iouType=iou_type)
        self.img_ids = []
        self.eval_imgs = {k: [] for k in iou_types}
        self.empty_batches = 0  # not torchvision's: the test checks COCO() was used

    def update(self, predictions):
        img_ids = list(np.unique(list(predictions.keys())))
        self.img_ids.extend(img_ids)
        for iou_type in self.iou_types:
            results = self.prepare_for_coco_detection(predictions)
            with redirect_stdout(io.StringIO()):
                coco_dt = (
                    self.coco_cls.loadRes(self.coco_gt, results) if results else self.coco_cls()
                )
            self.empty_batches += not results
            coco_eval = self.coco_eval[iou_type]
            coco_eval.cocoDt = coco_dt
            coco_eval.params.imgIds = list(img_ids)
            img_ids, eval_imgs = _tv_evaluate(coco_eval)
            self.eval_imgs[iou_type].append(eval_imgs)

    def accumulate(self):
        for coco_eval in self.coco_eval.values():
            coco_eval.accumulate()

    def summarize(self):
        for iou_type, coco_eval in self.coco_eval.items():
            print(f"IoU metric: {iou_type}")
            coco_eval.summarize()

    def prepare_for_coco_detection(self, predictions):
        coco_results = []
        for original_id, prediction in predictions.items():
            if len(prediction) == 0:
                continue
            boxes = prediction["boxes"]
            boxes = _tv_convert_to_xywh(boxes).tolist()
            scores = prediction["scores"].tolist()
            labels = prediction["labels"].tolist()
            coco_results.extend(
                [
                    {
                        "image_id": original_id,
                        "category_id": labels[k],
                        "bbox": box,
                        "score": scores[k],
                    }
                    for k, box in enumerate(boxes)
                ]
            )
        return coco_results


def _tv_merge(all_img_ids, all_eval_imgs):
    """torchvision's merge(), with utils.all_gather's lists given."""
    merged_img_ids = []
    for p in all_img_ids:
        merged_img_ids.extend(p)
    merged_eval_imgs = []
    for p in all_eval_imgs:
        merged_eval_imgs.append(p)
    merged_img_ids = np.array(merged_img_ids)
    merged_eval_imgs = np.concatenate(merged_eval_imgs, 2)
    # keep only unique (and in sorted order) images
    merged_img_ids, idx = np.unique(merged_img_ids, return_index=True)
    merged_eval_imgs = merged_eval_imgs[..., idx]
    return merged_img_ids, merged_eval_imgs


def _tv_synchronize_between_processes(evaluators):
    """Every process's synchronize_between_processes() and create_common_coco_eval()."""
    for iou_type in evaluators[0].iou_types:
        for ev in evaluators:
            ev.eval_imgs[iou_type] = np.concatenate(ev.eval_imgs[iou_type], 2)
        gathered = (
            [ev.img_ids for ev in evaluators],
            [ev.eval_imgs[iou_type] for ev in evaluators],
        )
        for ev in evaluators:
            img_ids, eval_imgs = _tv_merge(*gathered)
            img_ids = list(img_ids)
            eval_imgs = list(eval_imgs.flatten())
            coco_eval = ev.coco_eval[iou_type]
            coco_eval.evalImgs = eval_imgs
            coco_eval.params.imgIds = img_ids
            coco_eval._paramsEval = copy.deepcopy(coco_eval.params)


def _predictions(gt: dict, dets: list, image_ids) -> dict:
    """A model's outputs for these images: float32 xyxy boxes, scores, labels."""
    by_image = {i: [] for i in image_ids}
    for d in dets:
        if d["image_id"] in by_image:
            by_image[d["image_id"]].append(d)
    out = {}
    for i, ds in by_image.items():
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (d["bbox"] for d in ds)]
        out[i] = {
            "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "scores": torch.tensor([d["score"] for d in ds], dtype=torch.float32),
            "labels": torch.tensor([d["category_id"] for d in ds], dtype=torch.int64),
        }
    return out


def _torchvision_run(coco_cls, eval_cls, gt: dict, dets: list, use_cats: int = 1):
    """Two simulated processes, batches of 8 images, one batch without any result,
    DistributedSampler's padding repeating an image on the second process."""
    ids = [im["id"] for im in gt["images"]]
    shards = [ids[0::2], ids[1::2] + [ids[0]]]
    quiet = set(shards[0][8:16])  # one whole batch: COCO() as results
    dets = [d for d in dets if d["image_id"] not in quiet]
    coco_gt = _ground_truth(coco_cls, gt)
    evaluators = []
    for shard in shards:
        ev = CocoEvaluator(coco_gt, ["bbox"], coco_cls, eval_cls)
        ev.coco_eval["bbox"].params.useCats = use_cats
        for b in range(0, len(shard), 8):
            ev.update(_predictions(gt, dets, shard[b : b + 8]))
        evaluators.append(ev)
    assert evaluators[0].empty_batches == 1
    _tv_synchronize_between_processes(evaluators)
    main = evaluators[0]
    with redirect_stdout(io.StringIO()) as text:
        main.accumulate()
        main.summarize()
    return main.coco_eval["bbox"], text.getvalue()


@pytest.mark.parametrize("use_cats", [1, 0])
def test_torchvision_coco_evaluator(data, use_cats):
    gt, dets = data
    ref, ref_text = _torchvision_run(RefCOCO, RefCOCOeval, gt, dets, use_cats)
    ours, our_text = _torchvision_run(COCO, COCOeval, gt, dets, use_cats)
    shown = [ln for ln in ref_text.splitlines() if ln.startswith((" Average", "IoU"))]
    assert [ln for ln in our_text.splitlines() if ln.startswith((" Average", "IoU"))] == shown
    assert_same_eval(ref, ours)
    assert ref.stats[0] > 0.05  # a real evaluation, not two empty ones
    assert_same_eval_imgs(ref, ours)  # the merged list, as handed back


def test_torchvision_pattern_equals_one_evaluation(data):
    """Every image in some batch: the merged evaluation is the plain one's."""
    gt, dets = data
    ids = [im["id"] for im in gt["images"]]
    coco_gt = _ground_truth(COCO, gt)
    evaluators = []
    for shard in (ids[0::2], ids[1::2]):
        ev = CocoEvaluator(coco_gt, ["bbox"], COCO, COCOeval)
        for b in range(0, len(shard), 16):
            ev.update(_predictions(gt, dets, shard[b : b + 16]))
        evaluators.append(ev)
    _tv_synchronize_between_processes(evaluators)
    merged = evaluators[0].coco_eval["bbox"]
    with redirect_stdout(io.StringIO()):
        merged.accumulate()
        merged.summarize()
    # the plain run on the same float32-rounded results
    results = evaluators[0].prepare_for_coco_detection(_predictions(gt, dets, ids))
    plain, _ = _evaluated(COCO, COCOeval, gt, results)
    _full_run(plain)
    assert_same_eval(plain, merged)


# ------------------------------------------------------------------ loadRes arrays


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_load_res_numpy_array(data, dtype):
    """loadRes(N x 7 array) as pycocotools' loadNumpyAnnotations: same records, same
    evaluation, float32 areas rounded as float32."""
    gt, dets = data
    array = np.array(
        [[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dets], dtype=dtype
    )
    out = []
    for coco_cls, eval_cls in BOTH:
        with redirect_stdout(io.StringIO()) as text:
            coco_gt = _ground_truth(coco_cls, gt)
            coco_dt = coco_gt.loadRes(array.copy())
            ev = eval_cls(coco_gt, coco_dt, "bbox")
            ev.evaluate()
        out.append((coco_dt, ev, [ln for ln in text.getvalue().splitlines() if "/" in ln]))
    (ref_dt, ref, ref_lines), (our_dt, ours, our_lines) = out
    assert our_lines == ref_lines  # "(N, 7)" and "0/N"
    assert list(our_dt.anns) == list(ref_dt.anns)
    for key, want in ref_dt.anns.items():
        got = our_dt.anns[key]
        assert got.keys() == want.keys()
        for field in want:
            _assert_same_value(want[field], got[field], f"anns[{key}][{field!r}]")
    assert_same_eval_imgs(ref, ours)
    assert _full_run(ours) == _full_run(ref)
    assert_same_eval(ref, ours)


def test_load_res_rejects_a_wrong_shape(data):
    with redirect_stdout(io.StringIO()):
        coco_gt = _ground_truth(COCO, data[0])
        with pytest.raises(ValueError, match=r"shape \(N, 7\)"):
            coco_gt.loadRes(np.zeros((3, 6)))
