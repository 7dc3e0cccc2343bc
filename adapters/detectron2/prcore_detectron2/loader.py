"""Image decoding and resizing in DataLoader workers, off the model's critical path."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from prcore_detectron2.config import ModelConfig
from prcore_detectron2.ground_truth import ImageRecord


class ImageDataset(Dataset):
    """Maps each image through detectron2's own test-time ``DatasetMapper``.

    Using the same mapper as ``build_detection_test_loader`` (read_image in
    ``INPUT.FORMAT``, ResizeShortestEdge to ``INPUT.MIN_SIZE_TEST``) keeps the
    model's inputs, and so its outputs, identical to detectron2's own evaluation.
    A decoding failure is returned, not raised, so the main process can report
    it as one line instead of a worker traceback.
    """

    def __init__(self, cfg: ModelConfig, images: tuple[ImageRecord, ...] | list[ImageRecord]):
        self.mapper = cfg.mapper()
        self.images = list(images)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        rec = self.images[i]
        d = {"file_name": rec.file_name, "image_id": rec.image_id}
        if rec.height and rec.width:
            d["height"], d["width"] = rec.height, rec.width
        try:
            return self.mapper(d)
        except Exception as e:
            return {"error": f"{rec.file_name}: cannot decode image (id {rec.image_id}): {e}"}


def _as_list(batch):
    return batch


def make_loader(cfg: ModelConfig, images, batch_size: int, num_workers: int) -> DataLoader:
    return DataLoader(
        ImageDataset(cfg, images),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_as_list,
        pin_memory=torch.cuda.is_available() and cfg.device.startswith("cuda"),
    )
