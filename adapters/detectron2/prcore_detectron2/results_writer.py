"""``ResultsWriter``: a ``DatasetEvaluator`` that streams results to disk as inference runs.

``inference_on_dataset`` calls ``process`` after each batch: it copies the outputs to
the CPU and hands them to a :class:`~prcore_detectron2.shards.ShardWriter`, whose thread
converts them to COCO records and appends them to this rank's shard. ``evaluate``
finishes the shard, learns from every rank whether it succeeded, and on rank 0 merges
the shards, in rank order (image order: ``InferenceSampler``'s ranges are contiguous),
into the results file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from detectron2.evaluation import DatasetEvaluator
from tqdm import tqdm

from prcore_detectron2.errors import AdapterInputError
from prcore_detectron2.shards import ShardWriter, merge_shards, shard_path


class ResultsWriter(DatasetEvaluator):
    """Writes ``out`` (COCO results JSON) from every rank's outputs, with no evaluation.

    Parameters
    ----------
    out : str
        The results file; each rank's shard is written next to it.
    category_ids : sequence of int
        ``category_ids[i]`` is the COCO id of detectron2's contiguous class ``i``.
    n_images : int
        This rank's images, for the progress bar.
    progress : bool
        Show a progress bar (only where stderr is a terminal).

    ``evaluate`` returns ``{"results": {"file": out, "per_rank": [...]}}`` on rank 0,
    where each rank's entry holds its images, detections and seconds; ``{}`` elsewhere.
    After a failed run, on any rank, no shard and no results file remain.
    """

    def __init__(
        self, out: str, category_ids: Sequence[int], n_images: int, progress: bool = False
    ):
        from detectron2.utils import comm

        self._out = out
        self._rank, self._world = comm.get_rank(), comm.get_world_size()
        self._shard = shard_path(out, self._rank, self._world)
        self._category_ids = tuple(category_ids)
        self._n_images = n_images
        self._progress = progress
        self._writer: ShardWriter | None = None
        self._bar = None
        self._gathered = False

    def reset(self) -> None:
        self.abort()
        self._writer = ShardWriter(self._shard, self._category_ids)
        # disable=None: no bar where stderr is not a terminal (a log file, a pipe).
        self._bar = tqdm(
            total=self._n_images,
            unit="img",
            desc="infer",
            disable=None if self._progress else True,
            smoothing=0.1,
        )
        self._gathered = False
        self._t0 = time.perf_counter()

    def process(self, inputs, outputs) -> None:
        # One device->host copy per batch, here; conversion and RLE encoding
        # happen in the writer thread.
        for inp, out in zip(inputs, outputs):
            self._writer.put(inp["image_id"], out["instances"].to("cpu"))
        self._bar.update(len(inputs))

    def evaluate(self) -> dict:
        import torch

        writer = self._writer
        try:
            writer.close()
        except BaseException:
            self.abort()
            raise
        self._writer = None
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        stats = {
            "images": writer.n_images,
            "detections": writer.n_records,
            "seconds": time.perf_counter() - self._t0,
        }
        all_stats = self._gather(None, stats)
        self._close_bar(leave=True)
        if self._rank != 0:
            return {}
        merge_shards([shard_path(self._out, r, self._world) for r in range(self._world)], self._out)
        return {"results": {"file": self._out, "per_rank": all_stats}}

    def fail(self, error: str) -> None:
        """This rank's run failed with ``error``: drop the shard, tell the other ranks, raise."""
        self.abort()
        if not self._gathered:
            self._gather(error, {})
        raise AdapterInputError(error)

    def _gather(self, error: str | None, stats: dict) -> list[dict]:
        self._gathered = True
        try:
            return gather_outcome(error, stats)
        except AdapterInputError:
            if os.path.exists(self._shard):
                os.unlink(self._shard)
            raise

    def abort(self) -> None:
        """Stop the writer thread and remove this rank's partial shard."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        self._close_bar(leave=False)

    def _close_bar(self, leave: bool) -> None:
        if self._bar is not None:
            # A failed run clears its bar, so that its error is the one line left.
            self._bar.leave = leave
            self._bar.close()
            self._bar = None


def gather_outcome(error: str | None, stats: dict) -> list[dict]:
    """Every rank's stats, once every rank has finished or failed (a collective call).

    Raises the first rank's error, on every rank, if any rank failed: a rank that
    failed must still call this, or the others would wait for it forever.
    """
    from detectron2.utils import comm

    outcomes = comm.all_gather((error, stats)) if comm.get_world_size() > 1 else [(error, stats)]
    failed = [e for e, _ in outcomes if e]
    if failed:
        raise AdapterInputError(failed[0])
    return [s for _, s in outcomes]
