"""One tool's in-process timings, driven by the runner one repeat at a time.

    python benchmarks/worker.py TOOL GT DT [IOU_TYPE]

The worker imports nothing of the tool until its first evaluation, which is the
warm-up (imports, lazy initialisation, loading compiled code). It then
answers each line on stdin with one timed evaluation, so that the runner can
interleave the tools and machine noise hits them all alike. Every answer is
one JSON line on stdout:

- after the warm-up: ``{"first_s", "peak_rss_kib", "stats"}``, where
  ``peak_rss_kib`` is the process's peak RSS at that point: a fresh
  interpreter that imported the tool and evaluated the files once;
- after each request: ``{"wall_s", "cpu_s", "stats"}`` (``cpu_s``: user +
  system time of all the process's threads);
- ``{"error": ...}`` instead, when the tool raised.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time

from peers import STATS


def _reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _error(exc: BaseException) -> dict:
    return {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}


def _peak_rss_kib() -> int:
    """This process's own peak RSS: VmHWM (ru_maxrss can carry the parent's peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    tool, gt, dt = sys.argv[1:4]
    iou_type = sys.argv[4] if len(sys.argv) > 4 else "bbox"

    def evaluate(gt: str, dt: str) -> list[float]:
        return STATS[tool](gt, dt, iou_type)

    try:
        t0 = time.perf_counter()
        stats = evaluate(gt, dt)
        first = time.perf_counter() - t0
    except Exception as exc:
        _reply(_error(exc))
        return
    peak = _peak_rss_kib()
    _reply({"first_s": first, "peak_rss_kib": peak, "stats": stats})
    for _ in sys.stdin:
        gc.collect()
        try:
            w0, c0 = time.perf_counter(), time.process_time()
            stats = evaluate(gt, dt)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        except Exception as exc:
            _reply(_error(exc))
            continue
        _reply({"wall_s": wall, "cpu_s": cpu, "stats": stats})


if __name__ == "__main__":
    main()
