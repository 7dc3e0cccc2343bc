"""Synthetic images of simple shapes, their COCO ground truth, and a tiny detectron2 model.

Category ids are deliberately sparse and unsorted in the file (11, 3, 7) so a
mistake in mapping detectron2's contiguous ids back shows up.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

CATEGORIES = [
    {"id": 11, "name": "triangle"},
    {"id": 3, "name": "square"},
    {"id": 7, "name": "disc"},
]
COLORS = {3: (230, 60, 60), 7: (60, 200, 60), 11: (70, 90, 240)}
BASE_CONFIG = "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.yaml"


def _polygon(cat: int, cx: float, cy: float, r: float) -> list[float]:
    if cat == 3:
        pts = [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    elif cat == 11:
        pts = [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    else:
        pts = [
            (cx + r * math.cos(a), cy + r * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)
        ]
    return [float(v) for p in pts for v in p]


def write_dataset(root: str, n_images: int, seed: int = 0, size=(160, 128)) -> str:
    """Write ``n_images`` PNGs under ``root/images`` and ``root/instances.json``; return its path."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    w, h = size
    images, anns = [], []
    for i in range(n_images):
        image_id = 1000 + 7 * i  # not 0..n-1, not contiguous
        arr = rng.integers(0, 60, size=(h, w, 3), dtype=np.uint8)
        img = Image.fromarray(arr)
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(1, 4))):
            cat = int(rng.choice([3, 7, 11]))
            r = float(rng.uniform(12, 30))
            cx, cy = float(rng.uniform(r, w - r)), float(rng.uniform(r, h - r))
            poly = _polygon(cat, cx, cy, r)
            draw.polygon(poly, fill=COLORS[cat])
            xs, ys = poly[0::2], poly[1::2]
            x0, y0 = min(xs), min(ys)
            bw, bh = max(xs) - x0, max(ys) - y0
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": [x0, y0, bw, bh],
                    "area": bw * bh * (0.5 if cat == 11 else 1.0),
                    "iscrowd": 0,
                    "segmentation": [poly],
                }
            )
        name = f"shape_{i:04d}.png"
        img.save(os.path.join(root, "images", name))
        images.append({"id": image_id, "file_name": name, "height": h, "width": w})
    path = os.path.join(root, "instances.json")
    with open(path, "w") as f:
        json.dump({"images": images, "annotations": anns, "categories": CATEGORIES}, f)
    return path


def tiny_opts(num_classes: int = 3) -> list[str]:
    """A small ResNet-18-FPN Mask R-CNN at thumbnail sizes: seconds per epoch on a CPU."""
    return [
        "MODEL.RESNETS.DEPTH",
        "18",
        "MODEL.RESNETS.RES2_OUT_CHANNELS",
        "64",
        "MODEL.BACKBONE.FREEZE_AT",
        "0",
        "MODEL.FPN.OUT_CHANNELS",
        "64",
        "MODEL.ROI_BOX_HEAD.FC_DIM",
        "256",
        "MODEL.ROI_MASK_HEAD.CONV_DIM",
        "64",
        "MODEL.ROI_HEADS.NUM_CLASSES",
        str(num_classes),
        "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE",
        "64",
        "MODEL.RPN.PRE_NMS_TOPK_TEST",
        "300",
        "MODEL.RPN.POST_NMS_TOPK_TEST",
        "100",
        "MODEL.RPN.PRE_NMS_TOPK_TRAIN",
        "600",
        "MODEL.RPN.POST_NMS_TOPK_TRAIN",
        "200",
        "MODEL.PIXEL_STD",
        "[57.375, 57.120, 58.395]",
        "INPUT.MIN_SIZE_TRAIN",
        "(128,)",
        "INPUT.MAX_SIZE_TRAIN",
        "160",
        "INPUT.MIN_SIZE_TEST",
        "128",
        "INPUT.MAX_SIZE_TEST",
        "160",
        "DATALOADER.NUM_WORKERS",
        "0",
        "SEED",
        "0",
    ]


def train_tiny_model(gt_path: str, image_dir: str, out_path: str, iters: int = 60) -> str:
    """Train the tiny model for ``iters`` steps on the synthetic set; save its weights."""
    import torch
    from detectron2 import model_zoo
    from detectron2.config import get_cfg
    from detectron2.data import DatasetCatalog, build_detection_train_loader
    from detectron2.data.datasets import register_coco_instances
    from detectron2.modeling import build_model
    from detectron2.utils.events import EventStorage

    name = f"prcore_shapes_train_{abs(hash(gt_path))}"
    if name not in DatasetCatalog.list():
        register_coco_instances(name, {}, gt_path, image_dir)
    cfg = get_cfg()
    cfg.merge_from_file(model_zoo.get_config_file(BASE_CONFIG))
    cfg.merge_from_list(tiny_opts())
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.DEVICE = "cpu"
    cfg.DATASETS.TRAIN = (name,)
    cfg.SOLVER.IMS_PER_BATCH = 4
    torch.manual_seed(0)
    model = build_model(cfg)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    loader = iter(build_detection_train_loader(cfg))
    with EventStorage(0):
        _train_steps(model, opt, loader, iters)
    torch.save({"model": model.state_dict()}, out_path)
    return out_path


def _train_steps(model, opt, loader, iters: int) -> None:
    import torch

    for step in range(iters):
        warm = min(1.0, (step + 1) / 10)
        for g in opt.param_groups:
            g["lr"] = 0.02 * warm
        losses = model(next(loader))
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
