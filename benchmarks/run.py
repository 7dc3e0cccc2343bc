"""Benchmark prcore against pycocotools and its fast peers on val2017-like data.

    python benchmarks/run.py [--iou-type bbox] [--scale 1] [--repeat 5] [--tools prcore,hotcoco,...]
                             [--pycocotools-repeat 1] [--skip-cli] [--skip-compile]
                             [--out results.md] [--json results.json]

All tools read the same generated files (see generate.py; ``--iou-type segm``
adds detectron2's masks to the bbox data, ``keypoints`` is a person-keypoints
set). Three measurements:

- in-process: one worker process per tool (worker.py) imports the tool and
  evaluates once to warm up; then the runner asks the workers in turn, one
  repeat at a time, for a timed evaluation from file paths to the 12 stats, so
  that machine noise hits all tools alike, each round starting one tool later
  (no tool always follows the same one). Median over the repeats.
- CLI: a fresh process per run that imports, loads, evaluates and prints
  (peers.cli_command), interleaved the same way. Median wall time.
- prcore's first runs: its CLI with an empty NUMBA_CACHE_DIR, then again, two
  ways (see measure_compile): with the kernels pip install built ahead of time
  into the package, and with numba's JIT only (PRCORE_NO_NATIVE=1), whose first
  run compiles every kernel into numba's cache.

"prcore" is the default install: kernels from the ahead-of-time build, which
loads without numba, and its modules byte-compiled as pip leaves them. "prcore-jit" is the same code with PRCORE_NO_NATIVE=1:
numba's JIT kernels from numba's cache, as on a machine without a C compiler.

Peak RSS is the worker's own peak right after its warm-up evaluation: a fresh
interpreter that imported the tool and evaluated the files once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from generate import IMAGES_PER_SCALE, IOU_TYPES
from peers import DISTRIBUTIONS, TOOLS, cli_command
from report import EXACT, ToolResult, as_json, compare_stats, markdown

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"


def _tail(file, limit: int = 300) -> str:
    """The last non-empty line of a captured stderr, for an error cell."""
    file.seek(0)
    lines = [ln for ln in file.read().decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1][:limit] if lines else ""


class Worker:
    """A worker.py process measuring one tool, answering one request at a time."""

    def __init__(self, tool: str, gt: str, dt: str, iou_type: str):
        self.tool = tool
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), tool, gt, dt, iou_type],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            rc = self.proc.wait()
            return {"error": f"worker exited with status {rc}: {_tail(self.stderr)}"}
        return json.loads(line)

    def request(self) -> dict:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()
        self.stderr.close()


def measure_in_process(
    results: list[ToolResult], gt: str, dt: str, repeats: dict, iou_type: str
) -> None:
    """Warm each worker in turn, then time the tools round-robin, one repeat per round,
    each round starting one tool later (:func:`_rotated`): a tool timed right after one
    that freed much memory pays more for its own page faults (measured here: about 0.3 s
    of system time on a segm run), and without the rotation the first tool always would."""
    workers = {}
    try:
        for r in results:
            print(f"  warming up {r.tool} ...", file=sys.stderr, flush=True)
            worker = Worker(r.tool, gt, dt, iou_type)
            first = worker.read()
            if "error" in first:
                r.error = first["error"]
                worker.close()
                continue
            r.stats, r.first_s, r.peak_rss_kib = (
                first["stats"],
                first["first_s"],
                first["peak_rss_kib"],
            )
            workers[r.tool] = worker
        for round_ in range(max(repeats.values(), default=0)):
            for r in _rotated(results, round_):
                if r.tool not in workers or round_ >= repeats[r.tool]:
                    continue
                answer = workers[r.tool].request()
                if "error" in answer:
                    r.error = answer["error"]
                    workers.pop(r.tool).close()
                    continue
                r.wall_s.append(answer["wall_s"])
                r.cpu_s.append(answer["cpu_s"])
                r.stats_stable &= answer["stats"] == r.stats
            print(f"  in-process round {round_ + 1} done", file=sys.stderr, flush=True)
    finally:
        for worker in workers.values():
            worker.close()


def run_fresh(argv: list[str], env: dict | None = None) -> tuple[float, int, str | None]:
    """Wall time, peak RSS (KiB) and error (None on success) of one fresh process."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        error = None if proc.returncode == 0 else f"status {proc.returncode}: {_tail(err)}"
    return wall, usage.ru_maxrss, error


def _rotated(results: list[ToolResult], round_: int) -> list[ToolResult]:
    """The tools in the order of round ``round_``: each round starts one tool later, so
    that no tool always runs right after the same one (on a VM, a fresh process's page
    faults cost more right after a process that used much memory exits)."""
    k = round_ % len(results) if results else 0
    return results[k:] + results[:k]


def measure_cli(results: list[ToolResult], gt: str, dt: str, repeats: dict, iou_type: str) -> None:
    """Fresh-process end-to-end runs, round-robin like the in-process ones, rotated."""
    for round_ in range(max(repeats.values(), default=0)):
        for r in _rotated(results, round_):
            if r.error or r.cli_error or round_ >= repeats[r.tool]:
                continue
            wall, rss, error = run_fresh(cli_command(r.tool, gt, dt, iou_type))
            if error:
                r.cli_error = error
                continue
            r.cli_s.append(wall)
            r.cli_rss_kib.append(rss)
        print(f"  CLI round {round_ + 1} done", file=sys.stderr, flush=True)


_SERVED_BY = (
    "from prcore._kernels import native; m = native.bundle(); "
    "print('jit' if m is None else 'prebuilt' if native.Path(m.__file__).parent == native.PREBUILT "
    "else 'cache')"
)


def _served_by(env: dict) -> str:
    """Where a fresh process's kernels come from: 'prebuilt', 'cache' or 'jit'."""
    return subprocess.run(
        [sys.executable, "-c", _SERVED_BY], env=env, capture_output=True, text=True,
        cwd=tempfile.gettempdir(),  # import the installed prcore, not one in this directory
    ).stdout.strip()  # fmt: skip


def _first_runs(argv: list[str], extra_env: dict) -> dict:
    """A run in an empty numba cache, then the next run (the cache then filled)."""
    with tempfile.TemporaryDirectory(prefix="prcore-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for name in ("PRCORE_NO_NATIVE", "PRCORE_NO_PREBUILT"):
            env.pop(name, None)  # the default first run
        env.update(extra_env)
        first_by = _served_by(env)
        cold, _, error = run_fresh(argv, env)
        if error:
            return {"error": error}
        next_by = _served_by(env)
        second, _, error = run_fresh(argv, env)
    return {
        "first_s": cold,
        "first_kernels": first_by,
        "next_s": second,
        "next_kernels": next_by,
        "error": error,
    }


def measure_compile(gt: str, dt: str, iou_type: str) -> dict:
    """prcore's first runs in an empty numba cache, two ways.

    - ``after_install``: with the ahead-of-time build that ``pip install`` put
      into the package, where it did;
    - ``jit_only``: ``PRCORE_NO_NATIVE=1`` (an install that could not build it):
      the first run compiles every kernel into numba's cache, the next loads them.
    ``*_kernels`` says what served each run.
    """
    argv = cli_command("prcore", gt, dt, iou_type)
    out = {
        "after_install": _first_runs(argv, {}),
        "jit_only": _first_runs(argv, {"PRCORE_NO_NATIVE": "1"}),
    }
    errors = [f"{k}: {v['error']}" for k, v in out.items() if v.get("error")]
    out["error"] = "; ".join(errors) or None
    return out


def _version(tool: str) -> str | None:
    try:
        return metadata.version(DISTRIBUTIONS[tool])
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iou-type", choices=IOU_TYPES, default="bbox")
    parser.add_argument("--scale", type=int, default=1, help="5,000 images times this")
    parser.add_argument("--images", type=int, default=None, help="overrides 5000 * scale")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pycocotools-repeat",
        type=int,
        default=1,
        help="repeats for pycocotools (about 40 s an evaluation at scale 1)",
    )
    parser.add_argument("--data-dir", default=str(HERE / "data"))
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--skip-cli", action="store_true", help="no fresh-process CLI timings")
    parser.add_argument("--skip-compile", action="store_true", help="no cold Numba run")
    parser.add_argument("--out", help="also write the markdown table here")
    parser.add_argument("--json", help="also write the raw numbers here")
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = sorted(set(args.tools) - set(TOOLS))
    if unknown:
        parser.error(f"unknown tools {unknown}; choose from {TOOLS}")
    return args


def _package_dir() -> str:
    """Where the prcore that the workers import lives (an editable checkout or site-packages)."""
    code = "import os, prcore; print(os.path.dirname(prcore.__file__))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def main(argv=None) -> None:
    args = parse_args(argv)
    images = args.images if args.images is not None else IMAGES_PER_SCALE * args.scale
    kind = "" if args.iou_type == "bbox" else f"{args.iou_type}-"
    folder = Path(args.data_dir) / f"{kind}images{images}-seed{args.seed}"
    print(f"data: {folder}", file=sys.stderr, flush=True)
    # In a child process: Linux carries a parent's peak RSS into the children it forks
    # (ru_maxrss survives fork and exec), so the runner must never hold the data itself.
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(folder), "--images", str(images),
         "--seed", str(args.seed), "--iou-type", args.iou_type],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    data = json.loads((folder / "params.json").read_text())
    gt, dt = str(folder / "instances.json"), str(folder / "results.json")

    results = [ToolResult(tool=t, version=_version(t)) for t in args.tools]
    repeats = {
        t: args.pycocotools_repeat if t == "pycocotools" else args.repeat for t in args.tools
    }
    if {"prcore", "prcore-jit"} & set(args.tools):  # the steady state of each
        # every kernel in numba's cache (the JIT's steady state)
        subprocess.run([sys.executable, "-m", "prcore", "warmup"])
        # prcore's modules byte-compiled, as pip installs them (and the peers): a source
        # checkout run with PYTHONDONTWRITEBYTECODE would compile every module at each start
        subprocess.run([sys.executable, "-m", "compileall", "-q", _package_dir()], check=True)
    measure_in_process(results, gt, dt, repeats, args.iou_type)
    if not args.skip_cli:
        measure_cli(results, gt, dt, repeats, args.iou_type)
    compile_ = None
    if "prcore" in args.tools and not args.skip_compile:
        print("  prcore with an empty Numba cache ...", file=sys.stderr, flush=True)
        compile_ = measure_compile(gt, dt, args.iou_type)

    pycocotools_ok = any(r.tool == "pycocotools" and r.stats for r in results)
    reference = "pycocotools" if pycocotools_ok else "prcore"
    compare_stats(results, reference)

    scale = f"{images / IMAGES_PER_SCALE:g}" if args.images is not None else str(args.scale)
    versions = ", ".join(f"{r.tool} {r.version or 'not installed'}" for r in results)
    header = [
        f"**Machine:** {_cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}",
        f"**Tools:** {versions}",
        f"**Data:** {args.iou_type}, scale {scale}: {data['images']:,} images, "
        f"{data['annotations']:,} GT annotations ({data['crowd']:,} crowd), "
        f"{data['detections']:,} detections (generate.py --iou-type {args.iou_type}, "
        f"seed {args.seed})",
        f"**Repeats:** {args.repeat}"
        + (f" (pycocotools: {args.pycocotools_repeat})" if "pycocotools" in args.tools else "")
        + ", medians; tools interleaved round-robin",
    ]
    n_stats = 10 if args.iou_type == "keypoints" else 12
    notes = [
        "in-process: warm worker process (tool imported, one evaluation done), "
        f"file paths → {n_stats} stats, JSON parsing included.",
        "CLI: fresh process per run, wall time of import + load + evaluate + print "
        f"(prcore: `prcore eval --iou-type {args.iou_type}`; hotcoco: `coco eval --iou-type "
        f"{args.iou_type}`; others: `python peers.py TOOL GT DT {args.iou_type}`).",
        "peak RSS: VmHWM of a fresh process right after it imported the tool and "
        "evaluated once (absolute, interpreter included).",
        "CPU/wall: user + system CPU time of all threads over wall time, in-process "
        "(above 1 means the tool used several cores).",
        f"max |Δstats|: largest absolute difference of the {n_stats} stats from {reference}'s; "
        f"identical means bit for bit, exact means ≤ {EXACT:g}.",
    ]
    if reference != "pycocotools":
        notes.append("pycocotools was not run (or failed), so the stats are compared with prcore.")
    if compile_:
        if compile_.get("error"):
            notes.append(
                f"prcore's first runs with an empty Numba cache: error {compile_['error']}"
            )
        else:
            a, j = compile_["after_install"], compile_["jit_only"]
            notes.append(
                f"prcore's first run with an empty NUMBA_CACHE_DIR (kernels: {a['first_kernels']}, "
                f"i.e. built by pip install): {a['first_s']:.2f} s. JIT only "
                f"(PRCORE_NO_NATIVE=1, as where the install could not compile): first run "
                f"{j['first_s']:.2f} s (every kernel compiled into numba's cache), next run "
                f"{j['next_s']:.2f} s."
            )
    text = markdown(results, header, reference, notes)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if args.json:
        raw = as_json(
            results,
            header=header,
            data={**data, "gt": gt, "dt": dt},
            reference=reference,
            compile=compile_,
            repeats=repeats,
        )
        Path(args.json).write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
