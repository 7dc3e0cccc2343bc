"""Drop-in for ``pycocotools.coco.COCO``: same constructor, index and getters.

Thin: loading and validation are :mod:`prcore.io.load`'s; this class keeps
pycocotools' attribute names (``dataset``, ``anns``, ``imgs``, ``cats``,
``imgToAnns``, ``catToImgs``) and getters so that existing code switches by
changing an import. ``loadRes`` keeps the detections as columns and builds
the per-record dicts only if someone asks for them.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections import defaultdict
from typing import Any

import numpy as np

from prcore.errors import PrcoreInputError
from prcore.io.load import (
    Detections,
    GroundTruth,
    detections_from_records,
    ground_truth_from_dict,
    load_detections,
    load_ground_truth,
    read_json,
    results_rule,
)


def _as_list(x) -> list:
    if isinstance(x, (list, tuple, np.ndarray)):
        return list(x)
    return [x]


class COCO:
    """COCO ground truth (or, from :meth:`loadRes`, results) with pycocotools' API."""

    def __init__(self, annotation_file: str | os.PathLike | None = None) -> None:
        self._dataset: dict | None = {}
        self._columns: GroundTruth | Detections | None = None
        self._gt_source: COCO | None = None
        self._det_gt: GroundTruth | None = None  # what cached Detections index into
        self._det_file: str | None = None  # the results file loadRes read, if any
        self._det_rule: str | None = None  # loadRes' rule for its records (results_rule)
        self._indexed = False
        if annotation_file is not None:
            print("loading annotations into memory...")
            if isinstance(annotation_file, (str, os.PathLike)):
                # pycocotools keeps the whole dict (segmentations included), so
                # parse it in full rather than through the byte scanner.
                file = os.fspath(annotation_file)
                self._dataset = read_json(file)
                columns = ground_truth_from_dict(self._dataset, file)
            else:
                columns = load_ground_truth(annotation_file)
                self._dataset = columns.dataset
            self.createIndex()
            self._columns = columns

    # ---------------------------------------------------------------- dataset

    @property
    def dataset(self) -> dict:
        if self._dataset is None:  # results kept as columns until now
            self._dataset = self._results_dataset()
        return self._dataset

    @dataset.setter
    def dataset(self, value: dict) -> None:
        self._dataset = value
        self._columns = None
        self._det_file = self._det_rule = None
        self._indexed = False

    def createIndex(self) -> None:
        """Build pycocotools' lookup dicts (and forget any cached columns)."""
        if not isinstance(self._columns, Detections):
            self._columns = None
        anns, cats, imgs = {}, {}, {}
        img_to_anns, cat_to_imgs = defaultdict(list), defaultdict(list)
        ds = self.dataset
        for ann in ds.get("annotations", []):
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
        for img in ds.get("images", []):
            imgs[img["id"]] = img
        for cat in ds.get("categories", []):
            cats[cat["id"]] = cat
        if "annotations" in ds and "categories" in ds:
            for ann in ds["annotations"]:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
        self.anns, self.imgs, self.cats = anns, imgs, cats
        self.imgToAnns, self.catToImgs = img_to_anns, cat_to_imgs
        self._indexed = True

    def __getattr__(self, name: str) -> Any:
        # The pycocotools index is built on first use for column-backed results.
        if name in ("anns", "imgs", "cats", "imgToAnns", "catToImgs") and not self.__dict__.get(
            "_indexed", True
        ):
            self.createIndex()
            return self.__dict__[name]
        raise AttributeError(name)

    def info(self) -> None:
        for key, value in self.dataset.get("info", {}).items():
            print(f"{key}: {value}")

    # ---------------------------------------------------------------- getters

    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None) -> list:  # noqa: B006
        imgIds, catIds = _as_list(imgIds), _as_list(catIds)
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset.get("annotations", [])
        else:
            if imgIds:
                anns = [a for i in imgIds if i in self.imgToAnns for a in self.imgToAnns[i]]
            else:
                anns = self.dataset.get("annotations", [])
            if catIds:
                cset = set(catIds)
                anns = [a for a in anns if a["category_id"] in cset]
            if areaRng:
                anns = [a for a in anns if areaRng[0] < a["area"] < areaRng[1]]
        if iscrowd is not None:
            return [a["id"] for a in anns if a["iscrowd"] == iscrowd]
        return [a["id"] for a in anns]

    def getCatIds(self, catNms=[], supNms=[], catIds=[]) -> list:  # noqa: B006
        catNms, supNms, catIds = _as_list(catNms), _as_list(supNms), _as_list(catIds)
        cats = self.dataset.get("categories", [])
        if catNms:
            cats = [c for c in cats if c.get("name") in catNms]
        if supNms:
            cats = [c for c in cats if c.get("supercategory") in supNms]
        if catIds:
            cats = [c for c in cats if c["id"] in catIds]
        return [c["id"] for c in cats]

    def getImgIds(self, imgIds=[], catIds=[]) -> list:  # noqa: B006
        imgIds, catIds = _as_list(imgIds), _as_list(catIds)
        if not imgIds and not catIds:
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, cat in enumerate(catIds):
            if i == 0 and not ids:
                ids = set(self.catToImgs[cat])
            else:
                ids &= set(self.catToImgs[cat])
        return list(ids)

    def loadAnns(self, ids=[]) -> list:  # noqa: B006
        return [self.anns[i] for i in _as_list(ids)]

    def loadCats(self, ids=[]) -> list:  # noqa: B006
        return [self.cats[i] for i in _as_list(ids)]

    def loadImgs(self, ids=[]) -> list:  # noqa: B006
        return [self.imgs[i] for i in _as_list(ids)]

    # ---------------------------------------------------------------- masks

    def annToRLE(self, ann: dict) -> dict:
        """The annotation's mask as one compressed RLE on its image, as pycocotools.

        ``pycocotools.coco.COCO.annToRLE``: polygons (a list of parts) are
        rasterised at the image's ``height`` x ``width`` and merged into one
        mask; an uncompressed RLE (``counts`` a list) is compressed at its own
        size; a compressed RLE is returned as it is (the same object).
        """
        from prcore import mask  # its JIT kernels import numba: only when asked

        img = self.imgs[ann["image_id"]]
        h, w = img["height"], img["width"]
        segm = ann["segmentation"]
        # pycocotools tests the exact types (``type(x) == list``); so does this.
        if type(segm) is list:
            return mask.merge(mask.frPyObjects(segm, h, w))
        if type(segm["counts"]) is list:
            return mask.frPyObjects(segm, h, w)
        return segm

    def annToMask(self, ann: dict) -> np.ndarray:
        """The annotation's binary mask, ``uint8 [height, width]`` (``decode(annToRLE(ann))``)."""
        from prcore import mask

        return mask.decode(self.annToRLE(ann))

    # ---------------------------------------------------------------- results

    def ground_truth(self, iou_type: str = "bbox") -> GroundTruth:
        """This dataset as validated columns, with those ``iou_type`` needs (cached)."""
        cols = self._columns
        if not isinstance(cols, GroundTruth) or not _has_columns(cols, iou_type):
            source = cols.source if isinstance(cols, GroundTruth) else "<ground truth>"
            self._columns = ground_truth_from_dict(self.dataset, source, iou_type)
        return self._columns

    def detections(self, gt: GroundTruth | None = None, iou_type: str = "bbox") -> Detections:
        """Results as validated columns whose dense indices refer to ``gt``, with
        those ``iou_type`` needs.

        ``gt`` defaults to the ground truth :meth:`loadRes` was called on. A
        bare ``COCO()`` (torchvision passes one for a batch without results)
        holds no detections.
        """
        if gt is None:
            gt = self._gt_source.ground_truth()
        cols, built_on = self._columns, self._det_gt
        if isinstance(cols, Detections) and _has_columns(cols, iou_type):
            if built_on is gt or (
                np.array_equal(built_on.img_ids, gt.img_ids)
                and np.array_equal(built_on.cat_ids, gt.cat_ids)
            ):
                return cols
        if self._det_file is not None:  # read the file again, for these columns or this gt
            cols = load_detections(self._det_file, gt, iou_type)
        else:
            records = self.dataset.get("annotations", [])
            cols = detections_from_records(records, gt, "<detections>", iou_type, self._det_rule)
        if not isinstance(self._columns, Detections) or self._det_gt is gt:
            self._columns, self._det_gt = cols, gt
        return cols

    def result_records(self) -> list | None:
        """The result dicts, if this object holds them (a file's results stay
        columns until ``dataset`` is read)."""
        if self._dataset is None:
            return None
        return self._dataset.get("annotations", [])

    def loadRes(self, resFile) -> COCO:
        """Results as a COCO object, like pycocotools (ids 1..N in file order).

        A path or a list of dicts; validated against this ground truth.
        """
        print("Loading and preparing results...")
        gt = self.ground_truth()
        res = COCO()
        res._gt_source = self
        res._det_gt = gt
        if isinstance(resFile, (str, os.PathLike)):
            res._det_file = os.fspath(resFile)
            res._columns = load_detections(resFile, gt)
            res._dataset = None
            res._indexed = False
        else:
            array = resFile if isinstance(resFile, np.ndarray) else None
            if array is not None:
                resFile = self.loadNumpyAnnotations(array)
            res._det_rule = results_rule(resFile) if isinstance(resFile, list) else None
            dets = detections_from_records(resFile, gt, "<detections>")
            if array is not None and array.dtype != np.float64:
                # loadRes' area is bb[2] * bb[3] in the array's own type
                # (float32 products round differently from float64 ones).
                area = (array[:, 3] * array[:, 4]).astype(np.float64)
                dets = dataclasses.replace(dets, area=area)
            res._dataset = self._results_dataset_from(list(resFile))
            res._columns = dets
            res.createIndex()
        print("DONE")
        return res

    def loadNumpyAnnotations(self, data: np.ndarray) -> list:
        """Rows ``[imageID, x1, y1, w, h, score, class]`` as result dicts, as pycocotools.

        The values stay numpy scalars of the array's type, as its
        ``data[i, j]`` leaves them.
        """
        print("Converting ndarray to lists...")
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 7:
            shape = getattr(data, "shape", None)
            raise PrcoreInputError(
                f"a numpy results array must have shape (N, 7): "
                f"[imageID, x1, y1, w, h, score, class], got {shape}"
            )
        print(data.shape)
        n = data.shape[0]
        if n:
            print(f"0/{n}")  # pycocotools' progress line, every 10**6 rows
        for i in range(1000000, n, 1000000):
            print(f"{i}/{n}")
        image_id = [int(v) for v in data[:, 0]]
        category_id = [int(v) for v in data[:, 6]]
        x, y, w, h, score = (list(data[:, j]) for j in range(1, 6))
        return [
            {"image_id": image_id[i], "bbox": [x[i], y[i], w[i], h[i]], "score": score[i],
             "category_id": category_id[i]}
            for i in range(n)
        ]  # fmt: skip

    def _results_dataset_from(self, anns: list) -> dict:
        ds = {
            "info": copy.deepcopy(self.dataset.get("info", {})),
            "images": list(self.dataset.get("images", [])),
            "categories": copy.deepcopy(self.dataset.get("categories", [])),
        }
        rule = results_rule(anns)
        if rule == "mask":  # loadRes: maskUtils.area, and toBbox where no box is given
            cols = detections_from_records(anns, self.ground_truth(), "<detections>")
        for i, ann in enumerate(anns):
            if rule == "mask":
                ann["area"] = np.uint32(cols.area[i])
                if "bbox" not in ann:
                    ann["bbox"] = cols.bbox[i].copy()
                ann["id"] = i + 1
                ann["iscrowd"] = 0
                continue
            if rule == "keypoints":  # loadRes: the keypoints' extent, as numpy gives it
                s = ann["keypoints"]
                x0, x1 = np.min(s[0::3]), np.max(s[0::3])
                y0, y1 = np.min(s[1::3]), np.max(s[1::3])
                ann["area"] = (x1 - x0) * (y1 - y0)
                ann["id"] = i + 1
                ann["bbox"] = [x0, y0, x1 - x0, y1 - y0]
                continue
            bb = ann["bbox"]
            if "segmentation" not in ann:
                x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
                ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
            ann["area"] = bb[2] * bb[3]
            ann["id"] = i + 1
            ann["iscrowd"] = 0
        ds["annotations"] = anns
        return ds

    def _results_dataset(self) -> dict:
        if self._det_file is not None:  # the file's own records, as pycocotools reads them
            return self._gt_source._results_dataset_from(read_json(self._det_file))
        dets: Detections = self._columns  # type: ignore[assignment]
        gt = self._gt_source.ground_truth()
        img_ids = gt.img_ids[dets.img].tolist()
        cat_ids = gt.cat_ids[dets.cat].tolist()
        anns = [
            {"image_id": i, "category_id": c, "bbox": b, "score": s}
            for i, c, b, s in zip(img_ids, cat_ids, dets.bbox.tolist(), dets.score.tolist())
        ]
        return self._gt_source._results_dataset_from(anns)


def _has_columns(cols: GroundTruth | Detections, iou_type: str) -> bool:
    """Whether ``cols`` hold what evaluating ``iou_type`` reads."""
    if iou_type == "keypoints":
        return cols.keypoints is not None
    if iou_type == "segm":
        return cols.masks is not None
    return True
