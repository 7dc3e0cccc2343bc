"""Stream result records to one shard per rank in a writer thread; merge on rank 0.

A shard holds comma-separated JSON records without the enclosing brackets, so
merging is a byte copy in rank order and memory stays flat however long the run.
Every file is written under a temporary name and renamed only once complete.
"""

from __future__ import annotations

import glob
import json
import os
import queue
import shutil
import threading
from collections.abc import Sequence

from prcore_detectron2.convert import to_coco_records

_DONE = object()


def shard_path(out: str, rank: int, world: int) -> str:
    return f"{out}.rank{rank}-of-{world}.part"


def shard_glob(out: str) -> str:
    """A pattern for every shard of ``out``, finished or not, of any world size."""
    return f"{glob.escape(out)}.rank*-of-*.part*"


class ShardWriter:
    """Converts CPU ``Instances`` to COCO records and appends them to a shard, in a thread.

    ``put`` blocks when ``max_pending`` batches wait, which bounds memory if the
    writer falls behind the model.
    """

    def __init__(self, path: str, category_ids: Sequence[int], max_pending: int = 32):
        self.path = path
        self.category_ids = tuple(category_ids)
        self.n_records = 0
        self.n_images = 0
        self._queue: queue.Queue = queue.Queue(max_pending)
        self._error: BaseException | None = None
        self._file = open(path + ".tmp", "w", encoding="utf-8")
        self._thread = threading.Thread(target=self._run, name="prcore-shard-writer", daemon=True)
        self._thread.start()

    def put(self, image_id: int, instances) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((image_id, instances))

    def _run(self) -> None:
        f = self._file
        first = True
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is not None:
                continue  # drain so put() never blocks forever
            try:
                image_id, instances = item
                records = to_coco_records(instances, image_id, self.category_ids)
                if records:
                    text = ",\n".join(json.dumps(r) for r in records)
                    f.write(text if first else ",\n" + text)
                    first = False
                self.n_records += len(records)
                self.n_images += 1
            except BaseException as e:
                self._error = e

    def close(self) -> None:
        """Flush, then rename the shard to its final name; raises the writer's error."""
        self._queue.put(_DONE)
        self._thread.join()
        self._file.close()
        if self._error is not None:
            os.unlink(self._file.name)
            raise self._error
        os.replace(self._file.name, self.path)

    def abort(self) -> None:
        self._error = self._error or RuntimeError("aborted")
        self._queue.put(_DONE)
        self._thread.join()
        self._file.close()
        for p in (self._file.name, self.path):
            if os.path.exists(p):
                os.unlink(p)


def merge_shards(shards: Sequence[str], out: str) -> None:
    """Concatenate shards (in rank order) into one JSON array at ``out``, atomically."""
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as dst:
        dst.write("[")
        wrote = False
        for s in shards:
            if os.path.getsize(s) == 0:
                continue
            if wrote:
                dst.write(",\n")
            with open(s, encoding="utf-8") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
            wrote = True
        dst.write("]\n")
    os.replace(tmp, out)
    for s in shards:
        os.unlink(s)
