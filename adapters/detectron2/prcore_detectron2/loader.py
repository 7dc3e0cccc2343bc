"""detectron2's test loader over the dataset: its ``InferenceSampler``, its test mapper.

``build_detection_test_loader`` splits the images into contiguous per-rank ranges
(``InferenceSampler``), so rank order is image order, and maps each through the
config's own test-time ``DatasetMapper`` (``read_image`` in ``INPUT.FORMAT``,
``ResizeShortestEdge`` to ``INPUT.MIN_SIZE_TEST``) in DataLoader workers: the model's
inputs, and so its outputs, are those of detectron2's own evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prcore_detectron2.config import ModelConfig
from prcore_detectron2.errors import AdapterInputError


class _ReportingMapper:
    """The test mapper, returning a failure as a record instead of raising it.

    Raised in a DataLoader worker, it would reach the main process as a multi-line
    traceback; and ``MapDataset`` would retry another image if it returned None.
    """

    def __init__(self, mapper: Callable[[dict], dict]):
        self.mapper = mapper

    def __call__(self, d: dict) -> dict:
        from detectron2.data.detection_utils import SizeMismatchError

        try:
            return self.mapper(d)
        except SizeMismatchError as e:
            what, why = "image size differs from the ground truth's height and width", e
        except Exception as e:
            what, why = "cannot decode image", e
        return {"error": f"{d['file_name']}: {what} (id {d['image_id']}): {why}"}


class Batches:
    """The loader's images in batches of ``batch_size``; raises a failed image's error.

    detectron2 0.6's ``build_detection_test_loader`` loads one image per step (later
    versions take ``batch_size``); grouping its steps gives the same batches on both.
    """

    def __init__(self, loader, batch_size: int):
        self.loader = loader
        self.batch_size = batch_size

    @property
    def n_images(self) -> int:
        return len(self.loader)  # this rank's: one image per step

    def __len__(self) -> int:
        return -(-self.n_images // self.batch_size)

    def __iter__(self) -> Iterator[list[dict]]:
        batch: list[dict] = []
        for step in self.loader:
            for d in step:
                if "error" in d:
                    raise AdapterInputError(d["error"])
            batch.extend(step)
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def make_loader(
    cfg: ModelConfig, dicts: Sequence[dict], batch_size: int, num_workers: int
) -> Batches:
    """This rank's share of ``dicts`` (detectron2's ``InferenceSampler``), mapped and batched."""
    from detectron2.data import build_detection_test_loader

    loader = build_detection_test_loader(
        list(dicts), mapper=_ReportingMapper(cfg.mapper()), num_workers=num_workers
    )
    return Batches(loader, batch_size)
