"""What inference needs from a COCO ground-truth file: its images and category ids."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from prcore_detectron2.errors import AdapterInputError


@dataclass(frozen=True)
class ImageRecord:
    image_id: int
    file_name: str  # absolute path: --images joined with the GT's file_name
    height: int | None
    width: int | None


@dataclass(frozen=True)
class InferenceSet:
    """The images to run on and the map back from detectron2's contiguous class ids.

    detectron2's ``load_coco_json`` numbers classes by position in the *sorted*
    GT category ids (``detectron2/data/datasets/coco.py``); ``category_ids[i]``
    is the COCO id of contiguous class ``i``, as ``COCOEvaluator`` maps it back.
    """

    gt_path: str
    images: tuple[ImageRecord, ...]
    category_ids: tuple[int, ...]
    category_names: tuple[str, ...]


def load_inference_set(gt_path: str, image_dir: str, check_files: bool = True) -> InferenceSet:
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
    raw_images = gt.get("images")
    if not isinstance(raw_images, list) or not raw_images:
        raise AdapterInputError(f"{gt_path}: the ground truth lists no images")
    raw_cats = gt.get("categories")
    if not isinstance(raw_cats, list) or not raw_cats:
        raise AdapterInputError(f"{gt_path}: the ground truth lists no categories")

    images = []
    for i, im in enumerate(raw_images):
        try:
            image_id = int(im["id"])
            name = str(im["file_name"])
        except (KeyError, TypeError, ValueError):
            raise AdapterInputError(
                f"{gt_path}: images[{i}]: expected an integer 'id' and a 'file_name'"
            ) from None
        path = os.path.join(image_dir, name)
        if check_files and not os.path.isfile(path):
            raise AdapterInputError(f"{path}: image not found (images[{i}], id {image_id})")
        h, w = im.get("height"), im.get("width")
        images.append(ImageRecord(image_id, path, int(h) if h else None, int(w) if w else None))

    try:
        cats = sorted((int(c["id"]), str(c.get("name", c["id"]))) for c in raw_cats)
    except (KeyError, TypeError, ValueError):
        raise AdapterInputError(f"{gt_path}: categories: expected an integer 'id' each") from None
    return InferenceSet(
        gt_path=gt_path,
        images=tuple(images),
        category_ids=tuple(c for c, _ in cats),
        category_names=tuple(n for _, n in cats),
    )
