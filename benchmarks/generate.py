"""Seeded, val2017-like benchmark data: ``instances.json`` and ``results.json``.

The ground truth looks like COCO's instances_val2017.json (5,000 images, about
36,800 annotations, the 80 real category ids with COCO's gaps, ~1% crowd,
COCO's small/medium/large mix, polygons and uncompressed crowd RLEs, so that
parsing costs what it costs on the real file). The detections look like
detectron2's COCOEvaluator output: up to 100 per image, about 430k in all,
grouped by image in descending score, float32 values written by ``json.dumps``.
They mix true positives at various IoU, duplicates, class confusions and
background false positives, and about a fifth of the scores are rounded to two
decimals, so that ties occur.

    python benchmarks/generate.py OUT_DIR [--scale 1] [--images N] [--seed 0]

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


def generate(out_dir: str | os.PathLike, images: int, seed: int = 0) -> dict:
    """Write ``instances.json`` and ``results.json`` to out_dir, unless already there.

    Returns the stamp: parameters plus counts of images, annotations and detections.
    """
    out = Path(out_dir)
    stamp_path = out / "params.json"
    params = {"version": VERSION, "images": images, "seed": seed}
    if all((out / name).exists() for name in ("params.json", "instances.json", "results.json")):
        stamp = json.loads(stamp_path.read_text())
        if {k: stamp.get(k) for k in params} == params:
            return stamp
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    gt, columns = make_ground_truth(rng, images)
    dets = make_detections(rng, columns)
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
    W = gt["width"][d_img].astype(np.float32)
    H = gt["height"][d_img].astype(np.float32)
    x1 = np.clip(d_box[:, 0], 0, W - 1).astype(np.float32)
    y1 = np.clip(d_box[:, 1], 0, H - 1).astype(np.float32)
    x2 = np.clip(d_box[:, 0] + d_box[:, 2], x1 + 1, W).astype(np.float32)
    y2 = np.clip(d_box[:, 1] + d_box[:, 3], y1 + 1, H).astype(np.float32)
    xywh = np.stack([x1, y1, x2 - x1, y2 - y1], 1).astype(np.float64)  # float32 arithmetic
    score = d_score.astype(np.float32).astype(np.float64)

    image_id = gt["img_ids"][d_img].tolist()
    category_id = np.array(list(CATEGORIES))[d_cat].tolist()
    return [
        {"image_id": i, "category_id": c, "bbox": b, "score": s}
        for i, c, b, s in zip(image_id, category_id, xywh.tolist(), score.tolist())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--scale", type=int, default=1, help="multiplies the 5,000 images")
    parser.add_argument("--images", type=int, default=None, help="overrides 5000 * scale")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    images = args.images if args.images is not None else IMAGES_PER_SCALE * args.scale
    t0 = time.perf_counter()
    stamp = generate(args.out_dir, images, args.seed)
    print(
        f"{args.out_dir}: {stamp['images']} images, {stamp['annotations']} annotations "
        f"({stamp['crowd']} crowd), {stamp['detections']} detections "
        f"({time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main()
