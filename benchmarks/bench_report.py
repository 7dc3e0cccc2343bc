"""Time ``prcore report`` on val2017-like data (see generate.py), against ``prcore eval``.

    python benchmarks/bench_report.py [--scale 1] [--repeat 5] [--data-dir DIR]

Three measurements, medians over ``--repeat`` runs:

- the commands, each a fresh process (``python -m prcore``: the prcore that
  ``import prcore`` finds): ``prcore eval`` (load, evaluate, print), then
  ``prcore report`` (the same, plus the report written to a fresh folder), run
  in turn so that machine noise hits both alike;
- in process, once warm: ``build_report`` (every section and figure, drawn in
  memory) and ``Report.write``, with the evaluation apart;
- each figure's drawing time (one run), to see where the report's time goes.

The report's time is matplotlib's (drawing the figures); see the README's
Benchmark section for measured numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import IMAGES_PER_SCALE, generate

HERE = Path(__file__).resolve().parent


def _command(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of a fresh process running ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _timed(f) -> tuple[float, float, object]:
    """Wall and CPU time of ``f()`` in this process, and what it returned."""
    t, c = time.perf_counter(), time.process_time()
    value = f()
    return time.perf_counter() - t, time.process_time() - c, value


def _median(pairs: list[tuple[float, ...]]) -> str:
    wall = statistics.median(p[0] for p in pairs)
    cpu = statistics.median(p[1] for p in pairs)
    return f"{wall:7.3f} s wall {cpu:7.3f} s CPU"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="5,000 images times this")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=str(HERE / "data"))
    args = parser.parse_args(argv)
    images = IMAGES_PER_SCALE * args.scale
    folder = Path(args.data_dir) / f"images{images}-seed{args.seed}"
    stamp = generate(folder, images, args.seed)
    gt, dt = str(folder / "instances.json"), str(folder / "results.json")

    import matplotlib

    import prcore
    from prcore.html_report import build_report, render_png

    print(f"{_machine()}; prcore {prcore.__version__}, matplotlib {matplotlib.__version__}")
    print(
        f"data: {stamp['images']:,} images, {stamp['annotations']:,} GT, "
        f"{stamp['detections']:,} detections; median of {args.repeat}"
    )
    command = [sys.executable, "-m", "prcore"]
    work = Path(tempfile.mkdtemp(prefix="prcore-bench-report-"))
    try:
        _command([*command, "eval", gt, dt])  # warm the OS cache and numba's
        times: dict[str, list[tuple[float, float]]] = {"eval": [], "report": []}
        for i in range(args.repeat):
            times["eval"].append(_command([*command, "eval", gt, dt]))
            out = work / f"r{i}"
            times["report"].append(_command([*command, "report", gt, dt, "--out", str(out)]))
            shutil.rmtree(out)
        for name, values in times.items():
            print(f"  prcore {name:<7} (command)  {_median(values)}")

        wall, cpu, result = _timed(lambda: prcore.evaluate(gt, dt))
        print(f"  evaluate (in process)     {_median([(wall, cpu)])}")
        build, write = [], []
        for i in range(args.repeat):
            *spent, report = _timed(lambda: build_report(result))
            build.append(spent)
            *spent, _ = _timed(lambda i=i, report=report: report.write(work / f"w{i}"))
            write.append(spent)
        print(f"  build_report (in process) {_median(build)}")
        print(f"  Report.write              {_median(write)}")
        sizes = {p.name: p.stat().st_size for p in (work / "w0" / "figures").iterdir()}
        html = (work / "w0" / "report.html").stat().st_size
        print(f"  report.html {html / 1e6:.2f} MB, {len(sizes)} figures, each drawn once:")
        for rendered in report.sections:
            for fig in rendered.section.figures:
                *spent, _ = _timed(lambda fig=fig: render_png(fig, 80))
                size = sizes[f"{fig.name}.png"]
                print(f"    {fig.name + '.png':<26} {_median([spent])}  {size / 1e3:5.0f} kB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
