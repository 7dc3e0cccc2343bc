"""Seeded, val2017-like benchmark data: ``instances.json`` and ``results.json``.

Three kinds (``--iou-type``): ``bbox`` and ``segm`` share the instances ground
truth described next; ``keypoints`` is a person-keypoints set (below).

The ground truth looks like COCO's instances_val2017.json (5,000 images, about
36,800 annotations, the 80 real category ids with COCO's gaps, ~1% crowd,
COCO's small/medium/large mix, polygons and uncompressed crowd RLEs, so that
parsing costs what it costs on the real file). The detections look like
detectron2's COCOEvaluator output: up to 100 per image, about 430k in all,
grouped by image in descending score, float32 values written by ``json.dumps``.
They mix true positives at various IoU, duplicates, class confusions and
background false positives, and about a fifth of the scores are rounded to two
decimals, so that ties occur.

``segm`` results are those detections, each with a mask as detectron2 writes
it: a compressed RLE (``{"size": [h, w], "counts": str}``) of the whole image
beside the box. The mask is a star-shaped outline of 16..28 points inside the
detection's box, rasterised by :mod:`prcore.mask` (maskApi.c's rasterisation),
so true positives overlap their object's polygon as a mask head's would.

``keypoints`` looks like person_keypoints_val2017.json: the same 5,000 images,
about 6,200 persons on about 2,700 of them, 17 integer keypoints each with
visibility 0/1/2 (invisible ones at 0, 0), ``num_keypoints``, about 10% with no
labelled keypoint and 1% crowds (uncompressed RLE); one category, ``person``,
with COCO's keypoint names and skeleton. The results look like detectron2's
Keypoint R-CNN output: about 17,600, each with a box, a score and 17
``[x, y, score]`` triples, float32 values; true positives at various OKS,
duplicates and background persons.

    python benchmarks/generate.py OUT_DIR [--iou-type bbox] [--scale 1] [--images N] [--seed 0]

A ``params.json`` stamp records what was generated; a second call with the
same parameters leaves the files alone.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

VERSION = 1  # bump when the generated data changes, so stale folders regenerate

IMAGES_PER_SCALE = 5000
ANNOTATIONS_PER_IMAGE = 36781 / 5000  # val2017
MAX_DETECTIONS = 100

# COCO's 80 categories with their real (non-contiguous) ids.
CATEGORIES = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train",
    8: "truck", 9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign",
    14: "parking meter", 15: "bench", 16: "bird", 17: "cat", 18: "dog", 19: "horse", 20: "sheep",
    21: "cow", 22: "elephant", 23: "bear", 24: "zebra", 25: "giraffe", 27: "backpack",
    28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase", 34: "frisbee", 35: "skis",
    36: "snowboard", 37: "sports ball", 38: "kite", 39: "baseball bat", 40: "baseball glove",
    41: "skateboard", 42: "surfboard", 43: "tennis racket", 44: "bottle", 46: "wine glass",
    47: "cup", 48: "fork", 49: "knife", 50: "spoon", 51: "bowl", 52: "banana", 53: "apple",
    54: "sandwich", 55: "orange", 56: "broccoli", 57: "carrot", 58: "hot dog", 59: "pizza",
    60: "donut", 61: "cake", 62: "chair", 63: "couch", 64: "potted plant", 65: "bed",
    67: "dining table", 70: "toilet", 72: "tv", 73: "laptop", 74: "mouse", 75: "remote",
    76: "keyboard", 77: "cell phone", 78: "microwave", 79: "oven", 80: "toaster", 81: "sink",
    82: "refrigerator", 84: "book", 85: "clock", 86: "vase", 87: "scissors", 88: "teddy bear",
    89: "hair drier", 90: "toothbrush",
}  # fmt: skip

AREA_MIX = (0.41, 0.34, 0.25)  # small (< 32²), medium, large: val2017's shares


IOU_TYPES = ("bbox", "segm", "keypoints")


def generate(
    out_dir: str | os.PathLike, images: int, seed: int = 0, iou_type: str = "bbox"
) -> dict:
    """Write ``instances.json`` and ``results.json`` to out_dir, unless already there.

    Returns the stamp: parameters plus counts of images, annotations and detections.
    """
    out = Path(out_dir)
    stamp_path = out / "params.json"
    params = {"version": VERSION, "images": images, "seed": seed}
    if iou_type != "bbox":  # bbox stamps predate the kinds; they stay valid
        params["iou_type"] = iou_type
    if all((out / name).exists() for name in ("params.json", "instances.json", "results.json")):
        stamp = json.loads(stamp_path.read_text())
        if {k: stamp.get(k) for k in params} == params:
            return stamp
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if iou_type == "keypoints":
        gt, columns = make_person_ground_truth(rng, images)
        dets = make_keypoint_detections(rng, columns)
    else:
        gt, columns = make_ground_truth(rng, images)
        dets = make_detections(rng, columns)
        if iou_type == "segm":  # the same detections as bbox, each with its mask
            add_masks(np.random.default_rng([seed, 1]), dets, columns)
    _write_json(out / "instances.json", gt)
    _write_json(out / "results.json", dets)
    stamp = {**params, "annotations": len(gt["annotations"]), "detections": len(dets)}
    stamp["crowd"] = int(sum(a["iscrowd"] for a in gt["annotations"]))
    _write_json(stamp_path, stamp)
    return stamp


def _write_json(path: Path, obj) -> None:
    """Write through a temporary name, so an interrupted run leaves no half file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)


def _image_sizes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """COCO's sizes: mostly 640 on the long side, 480/427/... on the other."""
    sides = [480, 427, 426, 425, 424, 428, 360, 512, 400, 383]
    short = rng.choice(sides, n, p=[0.45, 0.2, 0.06, 0.06, 0.04, 0.04, 0.05, 0.03, 0.04, 0.03])
    landscape = rng.random(n) < 0.72
    width = np.where(landscape, 640, short)
    height = np.where(landscape, short, 640)
    odd = rng.random(n) < 0.05  # a few arbitrary sizes
    width[odd] = rng.integers(200, 641, odd.sum())
    height[odd] = rng.integers(200, 641, odd.sum())
    return width, height


def _category_weights(rng: np.random.Generator) -> np.ndarray:
    """person takes 30% of the annotations, the rest a long tail, as in val2017."""
    tail = 1.0 / np.arange(1, 80) ** 0.9
    tail = tail[rng.permutation(79)]
    return np.concatenate([[0.30], 0.70 * tail / tail.sum()])


def make_ground_truth(rng: np.random.Generator, n_images: int) -> tuple[dict, dict]:
    """The instances document, and the columns that :func:`make_detections` builds on."""
    cat_ids = np.array(list(CATEGORIES))
    img_ids = np.sort(rng.choice(120 * n_images, n_images, replace=False) + 1)
    width, height = _image_sizes(rng, n_images)

    # Heavy-tailed annotations per image (gamma weights), the val2017 total exactly;
    # 1% of the images have none, as in val2017.
    n_ann = round(ANNOTATIONS_PER_IMAGE * n_images)
    nonempty = rng.random(n_images) >= 0.01
    weight = rng.gamma(0.7, size=n_images) * nonempty
    counts = nonempty + rng.multinomial(n_ann - nonempty.sum(), weight / weight.sum())
    ann_img = np.repeat(np.arange(n_images), counts)

    # Categories cluster per image: most annotations take the image's main category.
    weights = _category_weights(rng)
    main_cat = rng.choice(80, n_images, p=weights)
    ann_cat = np.where(rng.random(n_ann) < 0.6, main_cat[ann_img], rng.choice(80, n_ann, p=weights))

    # Area first (it decides small/medium/large), then a box that the object fills partly.
    W, H = width[ann_img].astype(float), height[ann_img].astype(float)
    size = rng.choice(3, n_ann, p=AREA_MIX)
    lo = np.array([6.0, 32.0**2, 96.0**2])[size]
    hi = np.where(size == 0, 32.0**2, np.where(size == 1, 96.0**2, 0.55 * W * H))
    area = np.exp(rng.uniform(np.log(lo), np.log(np.maximum(hi, lo * 1.1))))
    fill = rng.uniform(0.45, 0.92, n_ann)
    aspect = np.exp(rng.normal(0.0, 0.55, n_ann))
    w = np.minimum(np.sqrt(area / fill * aspect), W - 1)
    h = np.minimum(np.sqrt(area / fill / aspect), H - 1)
    area = np.minimum(area, w * h * fill)
    x = rng.uniform(0, W - w)
    y = rng.uniform(0, H - h)
    bbox = np.round(np.stack([x, y, w, h], axis=1), 2)
    crowd = rng.random(n_ann) < 0.01

    images = [
        {
            "license": int(lic),
            "file_name": f"{i:012d}.jpg",
            "coco_url": f"http://images.cocodataset.org/val2017/{i:012d}.jpg",
            "height": int(hh),
            "width": int(ww),
            "date_captured": "2013-11-14 17:02:52",
            "flickr_url": f"http://farm4.staticflickr.com/1/{i}_0.jpg",
            "id": int(i),
        }
        for i, ww, hh, lic in zip(
            img_ids.tolist(), width.tolist(), height.tolist(), rng.integers(1, 9, n_images).tolist()
        )
    ]
    segmentation = _segmentations(rng, bbox, crowd, height[ann_img], width[ann_img])
    annotations = [
        {
            "segmentation": seg,
            "area": a,
            "iscrowd": int(c),
            "image_id": int(img_ids[i]),
            "bbox": b,
            "category_id": int(cat_ids[k]),
            "id": n + 1,
        }
        for n, (seg, a, c, i, b, k) in enumerate(
            zip(
                segmentation,
                area.tolist(),
                crowd.tolist(),
                ann_img.tolist(),
                bbox.tolist(),
                ann_cat.tolist(),
            )
        )
    ]
    doc = {
        "info": {
            "description": "prcore benchmark data (val2017-like)",
            "version": "1.0",
            "year": 2017,
            "contributor": "prcore",
            "date_created": "2017/09/01",
        },
        "licenses": [
            {"url": "http://creativecommons.org/licenses/", "id": i, "name": f"L{i}"}
            for i in range(1, 9)
        ],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"supercategory": "thing", "id": c, "name": name} for c, name in CATEGORIES.items()
        ],
    }
    columns = {
        "img": ann_img,
        "cat": ann_cat,
        "bbox": bbox,
        "size": size,
        "img_ids": img_ids,
        "width": width,
        "height": height,
        "cat_weights": weights,
    }
    return doc, columns


def _segmentations(rng, bbox, crowd, height, width) -> list:
    """A polygon of 8..40 points inside each box; an uncompressed RLE for crowds."""
    n = len(bbox)
    n_pts = rng.integers(8, 41, n)
    ends = np.cumsum(n_pts)
    owner = np.repeat(np.arange(n), n_pts)
    t = rng.uniform(0, 2 * np.pi, ends[-1] if n else 0)
    r = rng.uniform(0.7, 1.0, len(t))
    x, y, w, h = (bbox[owner, k] for k in range(4))
    px = np.round(x + w / 2 * (1 + r * np.cos(t)), 2)
    py = np.round(y + h / 2 * (1 + r * np.sin(t)), 2)
    flat = np.stack([px, py], axis=1).ravel().tolist()
    starts = 2 * (ends - n_pts)
    segs: list = [[flat[s : s + 2 * k]] for s, k in zip(starts.tolist(), n_pts.tolist())]
    for i in np.flatnonzero(crowd).tolist():
        pixels = int(height[i] * width[i])
        runs = rng.integers(1, max(2, pixels // 100), 150)
        runs = runs[np.cumsum(runs) < pixels].tolist()
        segs[i] = {"counts": [*runs, pixels - sum(runs)], "size": [int(height[i]), int(width[i])]}
    return segs


def _jitter(rng, box: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Move and resize boxes by noise relative to their size.

    Median IoU with the original: 0.9 at sigma 0.03, 0.75 at 0.08, 0.5 at 0.2, 0.3 at 0.35.
    """
    w, h = box[:, 2], box[:, 3]
    dx, dy, dw, dh = (rng.normal(0.0, 1.0, len(box)) * sigma for _ in range(4))
    return np.stack([box[:, 0] + dx * w, box[:, 1] + dy * h, w * np.exp(dw), h * np.exp(dh)], 1)


def make_detections(rng: np.random.Generator, gt: dict) -> list[dict]:
    """detectron2-like results for the ground-truth columns of :func:`make_ground_truth`."""
    n_images = len(gt["img_ids"])
    img, cat, box, size = gt["img"], gt["cat"], gt["bbox"], gt["size"]
    n = len(img)

    # True positives: found more often and placed better when the object is larger.
    found = rng.random(n) < np.array([0.6, 0.82, 0.92])[size]
    sigma = rng.choice([0.03, 0.08, 0.2, 0.35], n, p=[0.45, 0.3, 0.17, 0.08])
    sigma = sigma * rng.uniform(0.5, 1.5, n) * np.array([1.6, 1.0, 0.8])[size]
    tp_score = 0.25 + 0.7 * np.exp(-6 * sigma) + rng.normal(0, 0.12, n)
    parts = [(img[found], cat[found], _jitter(rng, box[found], sigma[found]), tp_score[found])]

    # Duplicates (a second, worse box on the same object) and class confusions.
    for p, spread, score_scale, wrong_class in ((0.35, 0.25, 0.55, False), (0.15, 0.1, 0.6, True)):
        pick = rng.random(n) < p
        k = int(pick.sum())
        c = (cat[pick] + rng.integers(1, 80, k)) % 80 if wrong_class else cat[pick]
        s = score_scale * rng.beta(2, 3, k) + 0.05
        parts.append((img[pick], c, _jitter(rng, box[pick], rng.uniform(0.03, spread, k)), s))

    # Background false positives fill each image up to its detection budget.
    full = rng.random(n_images) < 0.72
    budget = np.where(full, MAX_DETECTIONS, rng.integers(5, MAX_DETECTIONS + 1, n_images))
    have = np.zeros(n_images, np.int64)
    for part in parts:
        have += np.bincount(part[0], minlength=n_images)
    n_bg = np.maximum(budget - have, 0)
    bg_img = np.repeat(np.arange(n_images), n_bg)
    W, H = gt["width"][bg_img].astype(float), gt["height"][bg_img].astype(float)
    bw = W * np.exp(rng.uniform(np.log(0.02), np.log(0.8), len(bg_img)))
    bh = H * np.exp(rng.uniform(np.log(0.02), np.log(0.8), len(bg_img)))
    bg_box = np.stack([rng.uniform(0, W - bw), rng.uniform(0, H - bh), bw, bh], 1)
    bg_score = 0.05 + 0.6 * rng.beta(1, 6, len(bg_img))
    bg_cat = rng.choice(80, len(bg_img), p=gt["cat_weights"])
    parts.append((bg_img, bg_cat, bg_box, bg_score))

    d_img, d_cat, d_box, d_score = (np.concatenate(col) for col in zip(*parts))
    d_score = np.clip(d_score, 0.05, 1.0)
    tied = rng.random(len(d_score)) < 0.2
    d_score[tied] = np.maximum(np.round(d_score[tied], 2), 0.05)

    # detectron2 keeps the top 100 per image, sorted by score, clipped to the image.
    order = np.lexsort((-d_score, d_img))
    d_img, d_cat, d_box, d_score = d_img[order], d_cat[order], d_box[order], d_score[order]
    first = np.searchsorted(d_img, d_img)
    keep = np.arange(len(d_img)) - first < budget[d_img]
    d_img, d_cat, d_box, d_score = d_img[keep], d_cat[keep], d_box[keep], d_score[keep]
    xywh = _clipped_boxes(d_box, d_img, gt)
    score = d_score.astype(np.float32).astype(np.float64)

    image_id = gt["img_ids"][d_img].tolist()
    category_id = np.array(list(CATEGORIES))[d_cat].tolist()
    return [
        {"image_id": i, "category_id": c, "bbox": b, "score": s}
        for i, c, b, s in zip(image_id, category_id, xywh.tolist(), score.tolist())
    ]


def _clipped_boxes(d_box: np.ndarray, d_img: np.ndarray, gt: dict) -> np.ndarray:
    """Boxes clipped to their images in float32, as detectron2 writes them (x, y, w, h)."""
    W = gt["width"][d_img].astype(np.float32)
    H = gt["height"][d_img].astype(np.float32)
    x1 = np.clip(d_box[:, 0], 0, W - 1).astype(np.float32)
    y1 = np.clip(d_box[:, 1], 0, H - 1).astype(np.float32)
    x2 = np.clip(d_box[:, 0] + d_box[:, 2], x1 + 1, W).astype(np.float32)
    y2 = np.clip(d_box[:, 1] + d_box[:, 3], y1 + 1, H).astype(np.float32)
    return np.stack([x1, y1, x2 - x1, y2 - y1], 1).astype(np.float64)  # float32 arithmetic


def add_masks(rng: np.random.Generator, dets: list[dict], gt: dict) -> None:
    """Give each detection a ``segmentation`` as detectron2 writes it (in place).

    A star-shaped outline of 16..28 points inside the detection's box,
    rasterised at its image's size by :func:`prcore.mask.frPyObjects` (one
    call per image size), its counts as a ``str``: detectron2's
    ``instances_to_coco_json`` decodes ``mask_util.encode``'s bytes.
    """
    from prcore import mask

    n = len(dets)
    index = {int(i): k for k, i in enumerate(gt["img_ids"].tolist())}
    img = np.fromiter((index[d["image_id"]] for d in dets), np.int64, n)
    box = np.array([d["bbox"] for d in dets], np.float64).reshape(n, 4)
    height, width = gt["height"][img], gt["width"][img]
    n_pts = rng.integers(16, 29, n)
    owner = np.repeat(np.arange(n), n_pts)
    step = 2 * np.pi / n_pts[owner]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
    t = (rank + rng.uniform(-0.3, 0.3, len(owner))) * step  # increasing: no self-crossing
    r = rng.uniform(0.75, 1.0, len(owner))
    x, y, w, h = (box[owner, k] for k in range(4))
    px = x + w / 2 * (1 + r * np.cos(t))
    py = y + h / 2 * (1 + r * np.sin(t))
    flat = np.stack([px, py], axis=1).ravel()
    starts = 2 * (np.cumsum(n_pts) - n_pts)
    polygons = [flat[a : a + 2 * k] for a, k in zip(starts.tolist(), n_pts.tolist())]
    size_key = height * 4096 + width
    for key in np.unique(size_key).tolist():
        members = np.flatnonzero(size_key == key)
        hh, ww = divmod(key, 4096)
        rles = mask.frPyObjects([polygons[i] for i in members.tolist()], hh, ww)
        for i, rle in zip(members.tolist(), rles):
            dets[i]["segmentation"] = {"size": [hh, ww], "counts": rle["counts"].decode()}


# COCO's person keypoints (person_keypoints_val2017.json's category).
KEYPOINT_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
# Where each keypoint sits in a standing person's box, as fractions of (w, h).
POSE = np.array([
    [0.50, 0.08], [0.54, 0.06], [0.46, 0.06], [0.58, 0.08], [0.42, 0.08], [0.68, 0.22],
    [0.32, 0.22], [0.76, 0.40], [0.24, 0.40], [0.80, 0.55], [0.20, 0.55], [0.62, 0.55],
    [0.38, 0.55], [0.62, 0.77], [0.38, 0.77], [0.62, 0.96], [0.38, 0.96],
])  # fmt: skip
PERSONS_PER_IMAGE = 6200 / 5000  # about person_keypoints_val2017's persons with keypoints
PERSON_IMAGE_SHARE = 0.54  # images with a person: 2,693 of val2017's 5,000
KEYPOINT_DETECTIONS_PER_IMAGE = 17600 / 5000


def _pose(rng, box: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """17 keypoints per box ``[n, 17]`` x and y: the standing pose, moved a little."""
    n = len(box)
    lean = rng.normal(0, 0.08, (n, 1))
    px = (
        POSE[:, 0][None]
        + lean * (1 - POSE[:, 1][None])
        + rng.normal(0, 1, (n, 17)) * spread[:, None]
    )
    py = POSE[:, 1][None] + rng.normal(0, 1, (n, 17)) * spread[:, None]
    return box[:, :1] + px * box[:, 2:3], box[:, 1:2] + py * box[:, 3:4]


def make_person_ground_truth(rng: np.random.Generator, n_images: int) -> tuple[dict, dict]:
    """A person_keypoints document, and the columns that :func:`make_keypoint_detections` uses."""
    img_ids = np.sort(rng.choice(120 * n_images, n_images, replace=False) + 1)
    width, height = _image_sizes(rng, n_images)
    n_person = round(PERSONS_PER_IMAGE * n_images)
    has = np.flatnonzero(rng.random(n_images) < PERSON_IMAGE_SHARE)
    weight = rng.gamma(0.8, size=len(has))
    counts = 1 + rng.multinomial(n_person - len(has), weight / weight.sum())
    ann_img = np.repeat(has, counts)

    # Persons are tall boxes; keypoints are labelled on medium and large ones mostly.
    W, H = width[ann_img].astype(float), height[ann_img].astype(float)
    size = rng.choice(3, n_person, p=(0.25, 0.35, 0.40))
    lo = np.array([6.0, 32.0**2, 96.0**2])[size]
    hi = np.where(size == 0, 32.0**2, np.where(size == 1, 96.0**2, 0.5 * W * H))
    area = np.exp(rng.uniform(np.log(lo), np.log(np.maximum(hi, lo * 1.1))))
    fill = rng.uniform(0.45, 0.7, n_person)
    aspect = np.exp(rng.normal(-0.9, 0.3, n_person))  # w / h
    w = np.minimum(np.sqrt(area / fill * aspect), W - 1)
    h = np.minimum(np.sqrt(area / fill / aspect), H - 1)
    area = np.minimum(area, w * h * fill)
    bbox = np.round(np.stack([rng.uniform(0, W - w), rng.uniform(0, H - h), w, h], 1), 2)
    crowd = rng.random(n_person) < 0.01
    unlabelled = crowd | (rng.random(n_person) < np.array([0.35, 0.06, 0.02])[size])

    kx, ky = _pose(rng, bbox, np.full(n_person, 0.02))
    vis = rng.choice(3, (n_person, 17), p=(0.25, 0.12, 0.63))
    vis[unlabelled] = 0
    kx = np.where(vis > 0, np.clip(np.round(kx), 0, W[:, None] - 1), 0).astype(np.int64)
    ky = np.where(vis > 0, np.clip(np.round(ky), 0, H[:, None] - 1), 0).astype(np.int64)
    keypoints = np.stack([kx, ky, vis], axis=2).reshape(n_person, 51)
    num_keypoints = (vis > 0).sum(1)

    images = [
        {"license": 1, "file_name": f"{i:012d}.jpg", "height": int(hh), "width": int(ww), "id": int(i)}
        for i, ww, hh in zip(img_ids.tolist(), width.tolist(), height.tolist())
    ]  # fmt: skip
    segmentation = _segmentations(rng, bbox, crowd, height[ann_img], width[ann_img])
    annotations = [
        {"segmentation": seg, "num_keypoints": int(nk), "area": a, "iscrowd": int(c),
         "keypoints": kp, "image_id": int(img_ids[i]), "bbox": b, "category_id": 1, "id": n + 1}
        for n, (seg, nk, a, c, kp, i, b) in enumerate(zip(
            segmentation, num_keypoints.tolist(), area.tolist(), crowd.tolist(),
            keypoints.tolist(), ann_img.tolist(), bbox.tolist()))
    ]  # fmt: skip
    doc = {
        "info": {"description": "prcore benchmark data (person_keypoints_val2017-like)"},
        "images": images,
        "annotations": annotations,
        "categories": [{"supercategory": "person", "id": 1, "name": "person",
                        "keypoints": KEYPOINT_NAMES, "skeleton": SKELETON}],
    }  # fmt: skip
    columns = {"img": ann_img, "bbox": bbox, "area": area, "crowd": crowd, "vis": vis,
               "kx": kx, "ky": ky, "img_ids": img_ids, "width": width, "height": height}  # fmt: skip
    return doc, columns


def make_keypoint_detections(rng: np.random.Generator, gt: dict) -> list[dict]:
    """Keypoint R-CNN-like results for :func:`make_person_ground_truth`'s columns."""
    n_images = len(gt["img_ids"])
    img, box, area, vis = gt["img"], gt["bbox"], gt["area"], gt["vis"]
    n = len(img)
    labelled = ~gt["crowd"] & (vis > 0).any(1)

    # True positives (and a worse duplicate for some): keypoints off by a share of the
    # person's size, so that OKS spreads over the thresholds; invisible ones guessed.
    parts = []
    for p, quality in ((0.9, (0.01, 0.03, 0.06, 0.12)), (0.3, (0.06, 0.12, 0.2, 0.3))):
        pick = np.flatnonzero(labelled & (rng.random(n) < p))
        sigma = rng.choice(quality, len(pick)) * rng.uniform(0.6, 1.4, len(pick))
        scale = np.sqrt(area[pick])
        bx = _jitter(rng, box[pick], sigma)
        gx, gy = _pose(rng, bx, np.full(len(pick), 0.05))
        seen = vis[pick] > 0
        noise = rng.normal(0, 1, (2, len(pick), 17)) * (sigma * scale)[None, :, None]
        kx = np.where(seen, gt["kx"][pick] + noise[0], gx)
        ky = np.where(seen, gt["ky"][pick] + noise[1], gy)
        score = 0.2 + 0.8 * np.exp(-10 * sigma) + rng.normal(0, 0.1, len(pick))
        parts.append((img[pick], bx, kx, ky, score * (0.7 if p < 0.5 else 1.0)))

    # Background persons fill up to the target count.
    have = sum(len(part[0]) for part in parts)
    n_bg = max(round(KEYPOINT_DETECTIONS_PER_IMAGE * n_images) - have, 0)
    bg_img = rng.integers(0, n_images, n_bg)
    W, H = gt["width"][bg_img].astype(float), gt["height"][bg_img].astype(float)
    bh = H * np.exp(rng.uniform(np.log(0.05), np.log(0.9), n_bg))
    bw = np.minimum(bh * np.exp(rng.normal(-0.9, 0.3, n_bg)), W - 1)
    bg_box = np.stack([rng.uniform(0, W - bw), rng.uniform(0, H - bh), bw, bh], 1)
    gx, gy = _pose(rng, bg_box, np.full(n_bg, 0.06))
    parts.append((bg_img, bg_box, gx, gy, 0.05 + 0.5 * rng.beta(1, 4, n_bg)))

    d_img, d_box, d_x, d_y, d_score = (np.concatenate(col) for col in zip(*parts))
    d_score = np.clip(d_score, 0.05, 1.0)
    tied = rng.random(len(d_score)) < 0.2
    d_score[tied] = np.maximum(np.round(d_score[tied], 2), 0.05)
    order = np.lexsort((-d_score, d_img))  # by image, in descending score
    d_img, d_box, d_x, d_y, d_score = (a[order] for a in (d_img, d_box, d_x, d_y, d_score))
    xywh = _clipped_boxes(d_box, d_img, gt)
    # detectron2 subtracts 0.5 from x and y (its pixel-centre convention) in float32
    kx = (d_x.astype(np.float32) - np.float32(0.5)).astype(np.float64)
    ky = (d_y.astype(np.float32) - np.float32(0.5)).astype(np.float64)
    ks = rng.uniform(0.02, 1.6, kx.shape).astype(np.float32).astype(np.float64)
    keypoints = np.stack([kx, ky, ks], axis=2).reshape(len(d_img), 51)
    score = d_score.astype(np.float32).astype(np.float64)
    image_id = gt["img_ids"][d_img].tolist()
    return [
        {"image_id": i, "category_id": 1, "bbox": b, "score": s, "keypoints": k}
        for i, b, s, k in zip(image_id, xywh.tolist(), score.tolist(), keypoints.tolist())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--scale", type=int, default=1, help="multiplies the 5,000 images")
    parser.add_argument("--images", type=int, default=None, help="overrides 5000 * scale")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iou-type", choices=IOU_TYPES, default="bbox")
    args = parser.parse_args()
    images = args.images if args.images is not None else IMAGES_PER_SCALE * args.scale
    t0 = time.perf_counter()
    stamp = generate(args.out_dir, images, args.seed, args.iou_type)
    print(
        f"{args.out_dir}: {stamp['images']} images, {stamp['annotations']} annotations "
        f"({stamp['crowd']} crowd), {stamp['detections']} detections "
        f"({time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main()
