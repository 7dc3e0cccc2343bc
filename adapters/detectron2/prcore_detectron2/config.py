"""Build a detectron2 yacs config from a file or a model-zoo name, plus our overrides."""

from __future__ import annotations

import os

from prcore_detectron2.errors import AdapterInputError

# detectron2 drops detections below 0.05 by default
# (MODEL.ROI_HEADS.SCORE_THRESH_TEST, MODEL.RETINANET.SCORE_THRESH_TEST), which
# cuts off the low-score end of every precision-recall curve.
DETECTRON2_DEFAULT_SCORE_THRESH = 0.05
SCORE_THRESH_KEYS = (
    "MODEL.ROI_HEADS.SCORE_THRESH_TEST",
    "MODEL.RETINANET.SCORE_THRESH_TEST",
    "MODEL.FCOS.SCORE_THRESH_TEST",
)


def resolve_config_file(config_file: str) -> str:
    """A path on disk, else a name relative to detectron2's model-zoo ``configs/``."""
    if os.path.isfile(config_file):
        return config_file
    if config_file.endswith(".py"):
        raise AdapterInputError(f"{config_file}: LazyConfig (.py) files are not supported yet")
    try:
        from detectron2 import model_zoo

        path = model_zoo.get_config_file(config_file)
    except RuntimeError:
        path = None
    if not path or not os.path.isfile(path):
        raise AdapterInputError(
            f"{config_file}: config file not found (neither a path nor a model-zoo name)"
        )
    return path


def _set(cfg, dotted: str, value) -> bool:
    node = cfg
    *parents, leaf = dotted.split(".")
    for p in parents:
        if p not in node:
            return False
        node = node[p]
    if leaf not in node:
        return False
    node[leaf] = value
    return True


def build_config(
    config_file: str,
    *,
    weights: str | None,
    device: str,
    score_thresh: float,
    max_dets: int | None,
    opts: list[str] | tuple[str, ...] = (),
):
    """The frozen config: file, then score threshold and max dets, then OPTS, then weights/device.

    ``weights=None`` keeps the config's ``MODEL.WEIGHTS``; ``""`` means none.
    """
    from detectron2.config import get_cfg

    path = resolve_config_file(config_file)
    cfg = get_cfg()
    try:
        cfg.merge_from_file(path)
    except Exception as e:  # yacs raises KeyError/AssertionError/yaml errors
        raise AdapterInputError(f"{config_file}: cannot load config ({e})") from None
    for key in SCORE_THRESH_KEYS:
        _set(cfg, key, float(score_thresh))
    if max_dets is not None:
        cfg.TEST.DETECTIONS_PER_IMAGE = int(max_dets)
    if opts:
        if len(opts) % 2:
            raise AdapterInputError(f"OPTS must be KEY VALUE pairs, got {list(opts)}")
        try:
            cfg.merge_from_list(list(opts))
        except Exception as e:
            raise AdapterInputError(f"cannot apply OPTS {list(opts)} ({e})") from None
    if weights is not None:
        cfg.MODEL.WEIGHTS = weights
    w = cfg.MODEL.WEIGHTS
    if w and "://" not in w and not os.path.isfile(w):
        raise AdapterInputError(f"{w}: weights file not found")
    cfg.MODEL.DEVICE = device
    cfg.freeze()
    return cfg


def score_thresholds(cfg) -> dict[str, float]:
    out = {}
    for key in SCORE_THRESH_KEYS:
        node = cfg
        try:
            for p in key.split("."):
                node = node[p]
        except KeyError:
            continue
        out[key] = float(node)
    return out
