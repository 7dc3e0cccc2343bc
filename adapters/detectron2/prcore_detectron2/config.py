"""Build a detectron2 config (yacs ``.yaml`` or LazyConfig ``.py``) with our overrides.

Both kinds end up behind one small :class:`ModelConfig`: the model, the test-time
dataset mapper, the weights, the device and the score thresholds, which is all that
inference needs, so the rest of the adapter never asks which kind it has.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

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
# The same settings in LazyConfig's model-zoo configs (R-CNN box predictor; the
# dense detectors RetinaNet and FCOS), as (score threshold key, max detections key).
LAZY_ROI_KEYS = (
    "model.roi_heads.box_predictor.test_score_thresh",
    "model.roi_heads.box_predictor.test_topk_per_image",
)
LAZY_DENSE_KEYS = ("model.test_score_thresh", "model.max_detections_per_image")


def is_lazy(config_file: str) -> bool:
    return config_file.endswith(".py")


def override_opts(config_file: str, key: str, value: str) -> tuple[str, ...]:
    """One override in the syntax of the config's kind: ``KEY VALUE`` or ``key=value``."""
    return (f"{key}={value}",) if is_lazy(config_file) else (key, value)


def resolve_config_file(config_file: str) -> str:
    """A path on disk, else a name relative to detectron2's model-zoo ``configs/``."""
    if os.path.isfile(config_file):
        return config_file
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


@dataclass(frozen=True)
class ModelConfig:
    """A built config of either kind, behind what inference needs from it."""

    cfg: Any  # a frozen yacs CfgNode, or an omegaconf DictConfig (LazyConfig)
    lazy: bool
    weights: str  # "" for none (random init, seeded)
    device: str

    def build_model(self):
        """The model in eval mode on ``device``, with ``weights`` loaded."""
        import torch
        from detectron2.checkpoint import DetectionCheckpointer

        # No weights: every rank must still hold the same random model.
        torch.manual_seed(0)
        if self.lazy:
            from detectron2.config import instantiate

            model = instantiate(self.cfg.model).to(self.device)
        else:
            from detectron2.modeling import build_model

            if self.cfg.SEED >= 0:
                torch.manual_seed(self.cfg.SEED)
            model = build_model(self.cfg)
        model.eval()
        if self.weights:
            try:
                DetectionCheckpointer(model).load(self.weights)
            except Exception as e:  # torch.load's errors on a file that is no checkpoint
                raise AdapterInputError(f"{self.weights}: cannot load weights ({e})") from None
        return model

    def mapper(self):
        """detectron2's own test-time ``DatasetMapper`` for this config."""
        if self.lazy:
            from detectron2.config import instantiate

            return instantiate(self.cfg.dataloader.test.mapper)
        from detectron2.data import DatasetMapper

        return DatasetMapper(self.cfg, is_train=False)

    def dump(self) -> str:
        if not self.lazy:
            return self.cfg.dump()
        import tempfile

        from detectron2.config import LazyConfig

        # LazyConfig.save writes YAML with targets as dotted names (to_py needs black).
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "config.yaml")
            LazyConfig.save(self.cfg, path)
            with open(path, encoding="utf-8") as f:
                return f.read()

    def score_thresholds(self) -> dict[str, float]:
        keys = (LAZY_ROI_KEYS[0], LAZY_DENSE_KEYS[0]) if self.lazy else SCORE_THRESH_KEYS
        out = {}
        for key in keys:
            value = _get(self.cfg, key)
            if value is not None:
                out[key] = float(value)
        return out

    def detections_per_image(self) -> int | None:
        if not self.lazy:
            return int(self.cfg.TEST.DETECTIONS_PER_IMAGE)
        for key in (LAZY_ROI_KEYS[1], LAZY_DENSE_KEYS[1]):
            value = _get(self.cfg, key)
            if value is not None:
                return int(value)
        return None


def _get(cfg, dotted: str):
    node = cfg
    for part in dotted.split("."):
        try:
            if part not in node:
                return None
        except TypeError:  # a leaf value
            return None
        node = node[part]
    return node


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
) -> ModelConfig:
    """The config: file, then score threshold and max dets, then OPTS, then weights/device.

    ``weights=None`` keeps the config's weights (``MODEL.WEIGHTS``, or LazyConfig's
    ``train.init_checkpoint``); ``""`` means none. OPTS are ``KEY VALUE`` pairs for a
    yacs config and ``key=value`` items for a LazyConfig, as in detectron2's own tools.
    """
    path = resolve_config_file(config_file)
    build = _build_lazy if is_lazy(path) else _build_yacs
    cfg, config_weights = build(path, config_file, score_thresh, max_dets, list(opts))
    w = config_weights if weights is None else weights
    if w and "://" not in w and not os.path.isfile(w):
        raise AdapterInputError(f"{w}: weights file not found")
    if is_lazy(path):
        cfg.train.device = device
        cfg.train.init_checkpoint = w
    else:
        cfg.MODEL.WEIGHTS = w
        cfg.MODEL.DEVICE = device
        cfg.freeze()
    return ModelConfig(cfg=cfg, lazy=is_lazy(path), weights=w, device=device)


def _build_yacs(path: str, name: str, score_thresh: float, max_dets: int | None, opts: list):
    from detectron2.config import get_cfg

    cfg = get_cfg()
    try:
        cfg.merge_from_file(path)
    except Exception as e:  # yacs raises KeyError/AssertionError/yaml errors
        raise AdapterInputError(f"{name}: cannot load config ({e})") from None
    for key in SCORE_THRESH_KEYS:
        _set(cfg, key, float(score_thresh))
    if max_dets is not None:
        cfg.TEST.DETECTIONS_PER_IMAGE = int(max_dets)
    if opts:
        if len(opts) % 2:
            raise AdapterInputError(f"OPTS must be KEY VALUE pairs, got {opts}")
        try:
            cfg.merge_from_list(opts)
        except Exception as e:
            raise AdapterInputError(f"cannot apply OPTS {opts} ({e})") from None
    return cfg, cfg.MODEL.WEIGHTS


def _build_lazy(path: str, name: str, score_thresh: float, max_dets: int | None, opts: list):
    from detectron2.config import LazyConfig

    try:
        cfg = LazyConfig.load(path)
    except Exception as e:
        raise AdapterInputError(f"{name}: cannot load LazyConfig ({e})") from None
    if "model" not in cfg or "dataloader" not in cfg or "test" not in cfg.dataloader:
        raise AdapterInputError(f"{name}: a LazyConfig needs 'model' and 'dataloader.test'")
    has_roi = _get(cfg, "model.roi_heads.box_predictor") is not None
    for key, value in zip(LAZY_ROI_KEYS if has_roi else LAZY_DENSE_KEYS, (score_thresh, max_dets)):
        if value is not None:
            LazyConfig.apply_overrides(cfg, [f"{key}={value}"])
    bad = [o for o in opts if "=" not in o]
    if bad:
        raise AdapterInputError(f"LazyConfig OPTS must be key=value items, got {bad}")
    try:
        LazyConfig.apply_overrides(cfg, opts)
    except Exception as e:
        raise AdapterInputError(f"cannot apply OPTS {opts} ({e})") from None
    if "train" not in cfg:
        cfg.train = {}
    return cfg, str(cfg.train.get("init_checkpoint", "") or "")
