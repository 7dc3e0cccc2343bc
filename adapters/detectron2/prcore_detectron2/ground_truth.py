"""The ground truth as a detectron2 dataset: its images, and the map back to COCO ids.

The file is checked here first, so that bad input reads as one located line; then it
is registered with detectron2 (``register_coco_instances``) and loaded by
``load_coco_json``, as detectron2's own COCO evaluation loads it: the dataset dicts in
image-id order, and the metadata ``thing_dataset_id_to_contiguous_id``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from prcore_detectron2.errors import AdapterInputError


@dataclass(frozen=True)
class InferenceSet:
    """The registered dataset, its images and the map back from contiguous class ids.

    ``dicts`` are ``load_coco_json``'s records (``file_name`` joined to the image
    directory, ``image_id``, ``height``, ``width``), sorted by image id, without their
    annotations, which the test-time mapper drops anyway. ``category_ids[i]`` is the
    COCO id of contiguous class ``i``: the inverse of the dataset metadata's
    ``thing_dataset_id_to_contiguous_id``, as ``COCOEvaluator`` maps results back.
    """

    gt_path: str
    dataset_name: str
    dicts: tuple[dict, ...]
    category_ids: tuple[int, ...]
    category_names: tuple[str, ...]


def dataset_name(gt_path: str, image_dir: str) -> str:
    # "coco" in the name: load_coco_json then skips its warning about category ids
    # outside 1..n, which it maps for us and we map back.
    return f"prcore_detectron2_coco:{os.path.abspath(gt_path)}:{os.path.abspath(image_dir)}"


def load_inference_set(gt_path: str, image_dir: str) -> InferenceSet:
    _check_ground_truth(gt_path, image_dir)
    name = dataset_name(gt_path, image_dir)
    dicts, id_map, names = _register_and_load(name, gt_path, image_dir)
    inverse = {contiguous: coco_id for coco_id, contiguous in id_map.items()}
    return InferenceSet(
        gt_path=gt_path,
        dataset_name=name,
        dicts=tuple({k: v for k, v in d.items() if k != "annotations"} for d in dicts),
        category_ids=tuple(inverse[i] for i in range(len(inverse))),
        category_names=tuple(names),
    )


def _check_ground_truth(gt_path: str, image_dir: str) -> None:
    """What load_coco_json needs, checked with the location of whatever is wrong."""
    if not os.path.isfile(gt_path):
        raise AdapterInputError(f"{gt_path}: ground truth file not found")
    if not os.path.isdir(image_dir):
        raise AdapterInputError(f"{image_dir}: image directory not found")
    try:
        with open(gt_path, "rb") as f:
            gt = json.load(f)
    except (OSError, ValueError) as e:
        raise AdapterInputError(f"{gt_path}: not a readable JSON file ({e})") from None
    if not isinstance(gt, dict):
        raise AdapterInputError(f"{gt_path}: expected a COCO object with 'images' and 'categories'")
    images = gt.get("images")
    if not isinstance(images, list) or not images:
        raise AdapterInputError(f"{gt_path}: the ground truth lists no images")
    cats = gt.get("categories")
    if not isinstance(cats, list) or not cats:
        raise AdapterInputError(f"{gt_path}: the ground truth lists no categories")
    for i, im in enumerate(images):
        try:
            int(im["id"]), str(im["file_name"]), int(im["height"]), int(im["width"])
        except (KeyError, TypeError, ValueError):
            raise AdapterInputError(
                f"{gt_path}: images[{i}]: expected an integer 'id', 'height' and 'width' "
                "and a 'file_name'"
            ) from None
        # load_coco_json's join: image_root / file_name.
        path = os.path.join(image_dir, str(im["file_name"]))
        if not os.path.isfile(path):
            raise AdapterInputError(f"{path}: image not found (images[{i}], id {im['id']})")
    for i, c in enumerate(cats):
        try:
            int(c["id"]), str(c["name"])
        except (KeyError, TypeError, ValueError):
            raise AdapterInputError(
                f"{gt_path}: categories[{i}]: expected an integer 'id' and a 'name'"
            ) from None


def _register_and_load(name: str, gt_path: str, image_dir: str):
    from detectron2.data import DatasetCatalog, MetadataCatalog
    from detectron2.data.datasets import register_coco_instances

    # A fresh registration every time: the file may have changed since an earlier run
    # in this process, and detectron2's metadata refuses to change a value it holds.
    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
    if name in MetadataCatalog.list():
        MetadataCatalog.remove(name)
    register_coco_instances(name, {}, gt_path, image_dir)
    try:
        dicts = DatasetCatalog.get(name)  # load_coco_json(gt_path, image_dir, name)
    except Exception as e:  # its asserts and KeyErrors on annotations we do not check
        raise AdapterInputError(
            f"{gt_path}: detectron2's load_coco_json refused it ({e!r})"
        ) from None
    meta = MetadataCatalog.get(name)
    return dicts, meta.thing_dataset_id_to_contiguous_id, meta.thing_classes
