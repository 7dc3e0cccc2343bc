"""The ``prcore`` command line.

Bad input prints one line, ``prcore: error: ...``, on stderr and exits with
status 2; output files are written only after everything succeeded (to a
temporary name, then renamed).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import warnings
from pathlib import Path

from prcore.errors import PrcoreInputError, PrcoreWarning


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, like every prcore error
        raise PrcoreInputError(f"{self.prog}: {message}")


def _atomic_write(path: str, write) -> None:
    """Write through a temporary file in the target folder, then rename.

    The temporary file is created with mode 0o666 so that the umask applies, as
    it would to ``open(path, "w")``; ``tempfile.mkstemp`` would make it 0o600
    whatever the umask, and ``os.replace`` keeps that mode.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise PrcoreInputError(f"cannot write {path}: folder {folder} does not exist")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_outputs(*paths: str | None) -> None:
    """Fail before any work when an output folder is missing."""
    for path in paths:
        if path:
            folder = Path(path).parent if str(Path(path).parent) else Path(".")
            if not folder.is_dir():
                raise PrcoreInputError(f"cannot write {path}: folder {folder} does not exist")


def _evaluate(args):
    import prcore

    _check_outputs(*(getattr(args, name, None) for name in ("json", "arrays", "csv", "plot")))

    return prcore.evaluate(args.gt, args.dt, iou_type=args.iou_type)


def _cmd_eval(args) -> int:
    result = _evaluate(args)
    print(result.summary())
    if result.params.use_cats:
        print()
        print(result.per_class_table())
    note = result.truncation()
    if note:
        print()
        print(note)
    if args.json:
        text = result.to_json().encode()
        _atomic_write(args.json, lambda f: f.write(text))
    if args.arrays:
        import numpy as np

        arrays = result.arrays()
        _atomic_write(args.arrays, lambda f: np.savez_compressed(f, **arrays))
    return 0


def _cmd_curves(args) -> int:
    result = _evaluate(args)
    curve = result.curve(args.category, iou=args.iou, area=args.area)
    csv = curve.to_csv()
    if args.csv:
        _atomic_write(args.csv, lambda f: f.write(csv.encode()))
        print(
            f"wrote {len(curve.thresholds)} operating points for {curve.category_name} "
            f"to {args.csv}"
        )
    else:
        sys.stdout.write(csv)
    note = curve.truncation_note()
    if note:
        print(f"note: {note}", file=sys.stderr)
    if args.plot:
        _save_plot(args.plot, lambda: _draw_curves(result, args))
    return 0


def _draw_curves(result, args):
    import matplotlib

    from prcore.display import PrecisionRecallDisplay, ScoreCurveDisplay

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    cats = None if args.category is None else [args.category]
    PrecisionRecallDisplay.from_result(result, cats, iou=args.iou, area=args.area).plot(ax=left)
    ScoreCurveDisplay.from_result(result, args.category, iou=args.iou, area=args.area).plot(
        ax=right
    )
    fig.tight_layout()
    return fig


def _save_plot(path: str, draw) -> None:
    fig = draw()
    fmt = Path(path).suffix.lstrip(".") or "png"
    _atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=120))


def _cmd_threshold(args) -> int:
    result = _evaluate(args)
    report = result.select_thresholds(
        min_precision=args.min_precision,
        min_recall=args.min_recall,
        best_f1=args.best_f1,
        per_class=args.per_class,
        iou=args.iou,
        area=args.area,
    )
    print(report.to_text())
    if args.json:
        import json

        text = json.dumps(report.to_dict(), indent=2).encode()
        _atomic_write(args.json, lambda f: f.write(text))
    return 0


def _cmd_sweep(args) -> int:
    result = _evaluate(args)
    try:
        thresholds = [float(x) for x in args.thresholds.split(",") if x.strip()]
    except ValueError:
        raise PrcoreInputError(
            f"--thresholds: expected comma-separated numbers, got {args.thresholds!r}"
        ) from None
    print(result.sweep(thresholds).to_text())
    return 0


def _cmd_demo(args) -> int:
    import prcore
    from prcore.example import example_paths

    gt, dt = example_paths()
    print(f"prcore demo: {gt.name} + {dt.name} (bundled example)\n")
    result = prcore.evaluate(gt, dt)
    print(result.summary())
    print()
    print(result.per_class_table())
    print()
    print(result.select_thresholds(best_f1=True).to_text())
    print()
    print(result.select_thresholds(min_precision=0.9).to_text())
    note = result.truncation()
    if note:
        print()
        print(note)
    print()
    print(result.sweep([0.05, 0.3, 0.5, 0.7]).to_text())
    return 0


def _cmd_warmup(args) -> int:
    from prcore.warmup import warm_up

    try:
        print(f"prcore: {warm_up(native=args.native)}")
    except Exception as exc:  # no compiler, no pycc: say why in one line
        print(f"prcore: error: warmup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="prcore", description="Exact COCO evaluation with raw PR curves.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p):
        p.add_argument("gt", help="COCO instances JSON (ground truth)")
        p.add_argument("dt", help="COCO results JSON (detections)")
        p.add_argument("--iou-type", default="bbox", choices=["bbox"])

    p = sub.add_parser("eval", help="pycocotools' summary and a per-class table")
    common(p)
    p.add_argument("--json", metavar="OUT", help="write stats, per-class table and params")
    p.add_argument("--arrays", metavar="OUT.npz", help="write precision/recall/scores arrays")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("curves", help="raw precision-recall curve as CSV")
    common(p)
    p.add_argument(
        "--class",
        dest="category",
        default=None,
        help="category name or id (default: all categories pooled)",
    )
    p.add_argument("--iou", type=float, default=0.5)
    p.add_argument("--area", default="all")
    p.add_argument("--csv", metavar="OUT")
    p.add_argument("--plot", metavar="OUT.png", help="save PR and score curves as an image")
    p.set_defaults(func=_cmd_curves)

    p = sub.add_parser("threshold", help="score thresholds for a precision/recall/F1 target")
    common(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--min-precision", type=float)
    g.add_argument("--min-recall", type=float)
    g.add_argument("--best-f1", action="store_true")
    p.add_argument(
        "--per-class",
        dest="per_class",
        action="store_true",
        default=True,
        help="one threshold per class as well as the shared one (the default)",
    )
    p.add_argument(
        "--no-per-class",
        dest="per_class",
        action="store_false",
        help="the shared threshold only",
    )
    p.add_argument("--iou", type=float, default=0.5)
    p.add_argument("--area", default="all")
    p.add_argument("--json", metavar="OUT")
    p.set_defaults(func=_cmd_threshold)

    p = sub.add_parser("sweep", help="COCO stats after dropping detections below each score")
    common(p)
    p.add_argument("--thresholds", default="0.05,0.1,0.2,0.3,0.5,0.7")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("demo", help="run on the example dataset bundled with prcore")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("warmup", help="compile the kernels now instead of on first use")
    p.add_argument(
        "--native",
        action="store_true",
        help="build them ahead of time into the user's cache (needs a C compiler)",
    )
    p.set_defaults(func=_cmd_warmup)
    return parser


def main(argv: list[str] | None = None) -> int:
    def show_warning(message, category, filename, lineno, file=None, line=None):
        kind = "warning" if issubclass(category, PrcoreWarning) else category.__name__
        print(f"prcore: {kind}: {message}", file=sys.stderr)

    warnings.showwarning = show_warning
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except PrcoreInputError as exc:
        print(f"prcore: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("prcore: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        print("prcore: error: out of memory", file=sys.stderr)
        return 1


def _skip_numba_blas_probe() -> None:
    """Answer numba's start-up probe for scipy's BLAS with 'not installed'.

    While numba initialises its CPU target it imports ``numba.np.arraymath``,
    which imports ``scipy.linalg.cython_blas`` where scipy is installed: 0.2-0.3 s
    of the command's run time. prcore's kernels use no BLAS, and the command's
    process is its own, so the command skips that import; the library does not.
    """
    sys.modules.setdefault("scipy.linalg.cython_blas", None)  # type: ignore[arg-type]


def _exit_without_teardown(code: int) -> None:
    """Exit as soon as the output is flushed.

    The command has written and closed its files by now; the interpreter's
    teardown (freeing every array and module, joining the thread pools) would
    only add about 0.1 s at COCO scale.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away (``prcore eval ... | head``), or it is closed
    os._exit(code)


def run() -> None:
    """The ``prcore`` console script."""
    _skip_numba_blas_probe()
    _exit_without_teardown(main())


if __name__ == "__main__":
    run()
