"""The ``prcore`` command line.

Bad input prints one line, ``prcore: error: ...``, on stderr and exits with
status 2; output files are written only after everything succeeded (to a
temporary name, then renamed).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import secrets
import sys
import warnings
from pathlib import Path

from prcore.errors import PrcoreInputError, PrcoreWarning
from prcore.params import Params


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


# Params on the command line. Each flag's text is parsed while the arguments
# are (argparse calls these), and what it means is checked by Params itself, so
# a bad value is one line and exit 2 before any file is read.


def _bad(text: str, expected: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")


def _items(text: str, expected: str) -> list[str]:
    items = [x.strip() for x in text.split(",")]
    if not all(items):
        raise _bad(text, expected)
    return items


def _number(text: str, expected: str, whole: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(whole, expected) from None
    if not math.isfinite(value):
        raise _bad(whole, expected)
    return value


def _numbers(text: str, expected: str) -> list[float]:
    return [_number(x, expected, text) for x in _items(text, expected)]


def _integers(text: str, expected: str) -> list[int]:
    try:
        return [int(x) for x in _items(text, expected)]
    except ValueError:
        raise _bad(text, expected) from None


def _valid(text: str, **fields):
    """Raise Params' own reason, as the flag's error, unless it accepts ``fields``."""
    try:
        Params(**fields)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (got {text!r})") from None


def _iou_thrs(text: str) -> list[float]:
    values = _numbers(text, "comma-separated numbers in [0, 1] (e.g. 0.5,0.75)")
    _valid(text, iou_thrs=values)
    return values


def _max_dets(text: str) -> list[int]:
    values = _integers(text, "comma-separated integers (e.g. 1,10,100)")
    _valid(text, max_dets=values)
    return values


def _ids(text: str) -> list[int]:
    return _integers(text, "comma-separated integer ids (e.g. 1,3)")


def _area_rng(text: str) -> tuple[list[str], list[tuple[float, float]]]:
    expected = "comma-separated LABEL=MIN:MAX (e.g. all=0:1e10,small=0:1024)"
    labels, ranges = [], []
    for item in _items(text, expected):
        label, eq, bounds = item.partition("=")
        lo, colon, hi = bounds.partition(":")
        if not (eq and colon and label.strip()):
            raise _bad(item, expected)
        lo, hi = (
            _number(x, "LABEL=MIN:MAX with finite numbers MIN and MAX", item) for x in (lo, hi)
        )
        if lo > hi:
            raise argparse.ArgumentTypeError(f"{item!r}: MIN is above MAX")
        labels.append(label.strip())
        ranges.append((lo, hi))
    if len(set(labels)) < len(labels):
        raise argparse.ArgumentTypeError(f"labels must be unique, got {text!r}")
    _valid(text, area_rng=ranges, area_rng_lbl=labels)
    return labels, ranges


def _kpt_sigmas(text: str) -> tuple[int | None, list[float]]:
    expected = "S,S,... for every category, or CAT=S,S,... for one (e.g. 1=0.026,0.025)"
    cat, eq, values = text.rpartition("=")
    if eq:
        try:
            cat_id: int | None = int(cat)
        except ValueError:
            raise _bad(text, expected) from None
    else:
        cat_id = None
    sigmas = _numbers(values, expected)
    _valid(text, iou_type="keypoints", kpt_oks_sigmas=sigmas)
    return cat_id, sigmas


def _sigmas_param(given: list | None):
    """``--kpt-sigmas`` as Params' ``kpt_oks_sigmas``: one list, or a category mapping."""
    if not given:
        return None
    if len(given) == 1 and given[0][0] is None:
        return given[0][1]
    if any(cat is None for cat, _ in given):
        raise PrcoreInputError(
            "--kpt-sigmas: give either one list for every category or CAT=S,S,... per category"
        )
    cats = [cat for cat, _ in given]
    if len(set(cats)) < len(cats):
        raise PrcoreInputError("--kpt-sigmas: a category is given twice")
    return dict(given)


def _score_thresholds(text: str) -> list[float]:
    return _numbers(text, "comma-separated finite numbers (e.g. 0.05,0.5)")


def _score_threshold(text: str) -> float:
    return _number(text, "a finite number (e.g. 0.5)", text)


def _params(args) -> Params:
    labels, ranges = args.area_rng or (None, None)
    sigmas = _sigmas_param(args.kpt_sigmas)
    if sigmas is not None and args.iou_type != "keypoints":
        raise PrcoreInputError("--kpt-sigmas applies to --iou-type keypoints")
    try:
        return Params(
            iou_type=args.iou_type,
            kpt_oks_sigmas=sigmas,
            img_ids=args.img_ids,
            cat_ids=args.cat_ids,
            iou_thrs=args.iou_thrs,
            max_dets=args.max_dets,
            area_rng=ranges,
            area_rng_lbl=labels,
            use_cats=not args.no_cats,
        )
    except PrcoreInputError:
        raise
    except ValueError as exc:  # each flag was checked alone; this is a backstop
        raise PrcoreInputError(str(exc)) from None


def _check_view(args, params: Params) -> None:
    """Fail before any work when ``--iou``, ``--area`` or ``--class`` cannot be read."""
    iou = getattr(args, "iou", None)
    if iou is not None and not any(abs(t - iou) <= 1e-9 for t in params.iou_thrs):
        evaluated = ",".join(f"{t:g}" for t in params.iou_thrs)
        raise PrcoreInputError(
            f"--iou {iou:g} is not among the evaluated IoU thresholds ({evaluated}); "
            "choose one of them, or add it to --iou-thrs"
        )
    area = getattr(args, "area", None)
    if area is not None and area not in params.area_rng_lbl:
        raise PrcoreInputError(
            f"--area {area!r} is not among the area ranges ({','.join(params.area_rng_lbl)}); "
            "choose one of them, or add it to --area-rng"
        )
    if getattr(args, "category", None) is not None and not params.use_cats:
        raise PrcoreInputError("--class needs per-category evaluation; drop --no-cats")


def _evaluate(args):
    import prcore

    params = _params(args)
    _check_outputs(*(getattr(args, name, None) for name in ("json", "arrays", "csv", "plot")))
    _check_view(args, params)
    return prcore.evaluate(args.gt, args.dt, params=params)


def _truncation_note(result) -> str | None:
    # result.truncation() reads the pooled curve at one IoU and the area "all";
    # with custom --iou-thrs or --area-rng either may not have been evaluated.
    params = result.params
    if "all" not in params.area_rng_lbl:
        return None
    return result.truncation(0.5 if 0.5 in params.iou_thrs else params.iou_thrs[0])


def _cmd_eval(args) -> int:
    result = _evaluate(args)
    print(result.summary())
    if result.params.use_cats:
        print()
        print(result.per_class_table())
    note = _truncation_note(result)
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
    if args.write_thresholds and (args.at is not None or args.thresholds_file):
        raise PrcoreInputError(
            "--write-thresholds writes the thresholds a criterion picks: "
            "use it with --min-precision, --min-recall or --best-f1"
        )
    _check_outputs(args.write_thresholds)
    if args.at is not None or args.thresholds_file:
        return _operating_points(args)
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
    if args.write_thresholds:
        from prcore.operating import ScoreThresholds

        text = ScoreThresholds.from_report(report).to_json().encode()
        _atomic_write(args.write_thresholds, lambda f: f.write(text))
    return 0


def _operating_points(args) -> int:
    """``threshold --at S`` or ``--thresholds-file T.json``: what those thresholds give."""
    from prcore.operating import read_thresholds

    score = args.at
    if args.thresholds_file:
        score = read_thresholds(args.thresholds_file)  # a bad file fails before evaluating
        if not args.per_class:  # the shared threshold for every class, the pooled row alone
            if score.shared is None:
                raise PrcoreInputError(
                    "--no-per-class applies the file's shared threshold, and it has none",
                    file=args.thresholds_file,
                    field="shared",
                )
            score = dataclasses.replace(score, per_class=())
    result = _evaluate(args)
    report = result.at_threshold(score, iou=args.iou, area=args.area, per_class=args.per_class)
    print(report.to_text())
    if args.json:
        import json

        text = json.dumps(report.to_dict(), indent=2).encode()
        _atomic_write(args.json, lambda f: f.write(text))
    return 0


def _cmd_matches(args) -> int:
    import prcore

    params = _params(args)
    _check_outputs(args.csv, args.json)
    if not 0.0 <= args.iou <= 1.0:
        raise PrcoreInputError(f"--iou must be in [0, 1], got {args.iou:g}")
    _check_view(argparse.Namespace(area=args.area), params)  # --iou need not be evaluated
    result = prcore.evaluate(args.gt, args.dt, params=params)
    matches = result.matches(iou=args.iou, area=args.area)
    counts = matches.counts()
    print(
        f"Matches at IoU={matches.iou:g}, area={matches.area}, maxDets={matches.max_dets} "
        f"({matches.iou_type})"
    )
    for kind, labels in counts.items():
        print(f"{kind.replace('_', ' ')}: " + ", ".join(f"{k} {n}" for k, n in labels.items()))
    if args.csv:
        text = matches.to_csv().encode()
        _atomic_write(args.csv, lambda f: f.write(text))
    if args.json:
        text = matches.to_json().encode()
        _atomic_write(args.json, lambda f: f.write(text))
    return 0


def _cmd_sweep(args) -> int:
    result = _evaluate(args)
    print(result.sweep(args.thresholds).to_text())
    return 0


def _write_json(path: str | None, data: dict) -> None:
    if path:
        import json

        text = json.dumps(data, indent=2).encode()
        _atomic_write(path, lambda f: f.write(text))


def _cmd_confusion(args) -> int:
    result = _evaluate(args)
    cm = result.confusion(iou=args.match_iou, score=args.score, area=args.area)
    print(cm.to_text(args.normalize))
    if args.csv:
        csv = cm.to_csv(args.normalize).encode()
        _atomic_write(args.csv, lambda f: f.write(csv))
    if args.plot:
        _save_plot(args.plot, lambda: _draw_confusion(cm, args.normalize))
    return 0


def _draw_confusion(cm, normalize):
    import matplotlib

    from prcore.display import ConfusionMatrixDisplay

    matplotlib.use("Agg")
    fig = ConfusionMatrixDisplay(cm, normalize).plot().figure_
    fig.tight_layout()  # room for the class names
    return fig


def _cmd_errors(args) -> int:
    if args.background_iou > args.match_iou:
        raise PrcoreInputError(
            f"--background-iou {args.background_iou:g} must not exceed --iou {args.match_iou:g}"
        )
    result = _evaluate(args)
    eb = result.error_breakdown(
        iou=args.match_iou, background_iou=args.background_iou, area=args.area
    )
    print(eb.to_text())
    _write_json(args.json, eb.to_dict())
    if args.plot:
        _save_plot(args.plot, lambda: _draw_errors(eb))
    return 0


def _draw_errors(eb):
    import matplotlib

    from prcore.display import ErrorBreakdownDisplay

    matplotlib.use("Agg")
    fig = ErrorBreakdownDisplay(eb).plot().figure_
    fig.tight_layout()  # room for the class names
    return fig


def _cmd_calibration(args) -> int:
    result = _evaluate(args)
    if args.category is not None:
        result._category_position(args.category)  # one line naming a bad --class
    cal = result.calibration(iou=args.iou, bins=args.bins, area=args.area)
    print(cal.to_text(args.category))
    _write_json(args.json, cal.to_dict())
    if args.plot:
        _save_plot(args.plot, lambda: _draw_calibration(cal, args.category))
    return 0


def _draw_calibration(cal, category):
    import matplotlib

    from prcore.display import ReliabilityDisplay

    matplotlib.use("Agg")
    fig = ReliabilityDisplay(cal.curve(category), cal.edges, cal.iou).plot().figure_
    fig.tight_layout()  # room for the class names
    return fig


def _unit_interval(text: str) -> float:
    value = _number(text, "a number in [0, 1]", text)
    if not 0 <= value <= 1:
        raise _bad(text, "a number in [0, 1]")
    return value


def _finite(text: str) -> float:
    return _number(text, "a finite number", text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _bad(text, "a positive integer") from None
    if value < 1:
        raise _bad(text, "a positive integer")
    return value


def _cmd_report(args) -> int:
    from prcore.curves import checked_integer, checked_number
    from prcore.html_report import check_out_dir, write_report

    # before any work: a bad --out or option writes nothing
    check_out_dir(args.out)
    checked_number("--min-precision", args.min_precision, 0.0, 1.0)
    checked_integer("--max-class-curves", args.max_class_curves, 0)
    if args.score_threshold is not None:
        checked_number("--score-threshold", args.score_threshold)
    result = _evaluate(args)
    path = write_report(
        result,
        args.out,
        iou=args.iou,
        area=args.area,
        min_precision=args.min_precision,
        score_threshold=args.score_threshold,
        max_class_curves=args.max_class_curves,
        inputs={"ground truth": args.gt, "detections": args.dt},
        progress=sys.stderr.isatty(),
    )
    print(f"prcore: wrote the report to {path}")
    return 0


def _cmd_demo(args) -> int:
    import prcore
    from prcore.example import example_paths
    from prcore.html_report import check_out_dir, write_report

    check_out_dir(args.out)
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
    inputs = {"ground truth": gt.name, "detections": dt.name}
    path = write_report(result, args.out, inputs=inputs, progress=sys.stderr.isatty())
    print()
    print(f"prcore demo: wrote the report to {path}")
    return 0


def _cmd_warmup(args) -> int:
    from prcore.warmup import warm_up

    try:
        print(f"prcore: {warm_up(native=args.native)}")
    except Exception as exc:  # no compiler, no pycc: say why in one line
        reason = " ".join(str(exc).split())  # numba's messages run over several lines
        print(f"prcore: error: warmup failed: {type(exc).__name__}: {reason}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="prcore", description="Exact COCO evaluation with raw PR curves.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p):
        p.add_argument("gt", help="COCO instances JSON (ground truth)")
        p.add_argument("dt", help="COCO results JSON (detections)")
        p.add_argument(
            "--iou-type",
            default="bbox",
            choices=["bbox", "segm", "keypoints"],
            help="what to match on: boxes (bbox), masks (segm: polygons or RLE, the images' "
            "height and width needed), or keypoints by OKS (keypoints: maxDets 20, areas "
            "all/medium/large, 10 stats); default bbox",
        )
        g = p.add_argument_group(
            "evaluation parameters",
            "pycocotools' COCOeval.params, exactly; each defaults to pycocotools' value",
        )
        g.add_argument(
            "--kpt-sigmas",
            type=_kpt_sigmas,
            action="append",
            metavar="[CAT=]S,S,...",
            help="keypoint OKS sigmas (kpt_oks_sigmas; default COCO's 17 person sigmas): one "
            "list for every category, or CAT=S,S,... per category (repeat the flag), as "
            "keypoint sets other than COCO's 17 need",
        )
        g.add_argument(
            "--iou-thrs",
            type=_iou_thrs,
            metavar="T,T,...",
            help="IoU thresholds in [0, 1], e.g. 0.5,0.75 (iouThrs; default 0.50:0.05:0.95)",
        )
        g.add_argument(
            "--max-dets",
            type=_max_dets,
            metavar="N,N,...",
            help="highest-scoring detections kept per image, e.g. 1,10,300 (maxDets; default "
            "1,10,100); as in pycocotools, the summary's first AP line reads maxDets=100",
        )
        g.add_argument(
            "--area-rng",
            type=_area_rng,
            metavar="LABEL=MIN:MAX,...",
            help="labelled ranges of object area in pixels (areaRng and areaRngLbl; default: "
            "all=0:1e10, small=0:1024, medium=1024:9216, large=9216:1e10); the summary reads "
            "the labels all, small, medium and large",
        )
        g.add_argument(
            "--cat-ids",
            type=_ids,
            metavar="ID,ID,...",
            help="evaluate these category ids only, e.g. 1,3 (catIds; default: every "
            "category of the ground truth)",
        )
        g.add_argument(
            "--img-ids",
            type=_ids,
            metavar="ID,ID,...",
            help="evaluate these image ids only, e.g. 4,5,6 (imgIds; default: every image "
            "of the ground truth)",
        )
        g.add_argument(
            "--no-cats",
            action="store_true",
            help="ignore categories: match any detection to any ground truth (useCats=0)",
        )

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
    p.add_argument(
        "--iou",
        type=float,
        default=0.5,
        help="IoU threshold to read, one of --iou-thrs (default: 0.5)",
    )
    p.add_argument(
        "--area", default="all", help="area range to read, a label of --area-rng (default: all)"
    )
    p.add_argument("--csv", metavar="OUT")
    p.add_argument("--plot", metavar="OUT.png", help="save PR and score curves as an image")
    p.set_defaults(func=_cmd_curves)

    p = sub.add_parser("threshold", help="score thresholds for a precision/recall/F1 target")
    common(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--min-precision", type=float)
    g.add_argument("--min-recall", type=float)
    g.add_argument("--best-f1", action="store_true")
    g.add_argument(
        "--at",
        type=_score_threshold,
        metavar="S",
        help="report TP, FP, FN, precision, recall and F1 at this score threshold, "
        "per class and pooled",
    )
    g.add_argument(
        "--thresholds-file",
        metavar="T.json",
        help="report the operating points the thresholds of this file (written by "
        "--write-thresholds) give; with --no-per-class, its shared threshold alone",
    )
    p.add_argument(
        "--write-thresholds",
        metavar="OUT.json",
        help="write the picked thresholds (class name -> threshold, and the shared one) "
        "for --thresholds-file",
    )
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
    p.add_argument(
        "--iou",
        type=float,
        default=0.5,
        help="IoU threshold to read, one of --iou-thrs (default: 0.5)",
    )
    p.add_argument(
        "--area", default="all", help="area range to read, a label of --area-rng (default: all)"
    )
    p.add_argument("--json", metavar="OUT")
    p.set_defaults(func=_cmd_threshold)

    p = sub.add_parser(
        "matches", help="every detection and ground truth labelled by the matching (CSV, JSON)"
    )
    common(p)
    p.add_argument(
        "--iou",
        type=float,
        default=0.5,
        help="IoU threshold to match at, any in [0, 1] (default: 0.5)",
    )
    p.add_argument("--area", default="all", help="area range, a label of --area-rng (default: all)")
    p.add_argument("--csv", metavar="OUT.csv", help="write one row per detection and ground truth")
    p.add_argument("--json", metavar="OUT.json", help="write the same as JSON")
    p.set_defaults(func=_cmd_matches)

    p = sub.add_parser("sweep", help="COCO stats after dropping detections below each score")
    common(p)
    p.add_argument(
        "--thresholds",
        type=_score_thresholds,
        default="0.05,0.1,0.2,0.3,0.5,0.7",
        metavar="S,S,...",
        help="score thresholds, comma-separated (default: %(default)s)",
    )
    p.set_defaults(func=_cmd_sweep)

    area_help = "area range to read, a label of --area-rng (default: all)"
    p = sub.add_parser(
        "confusion",
        help="confusion matrix of classes at one IoU and score threshold",
        description="Rows: true class, columns: predicted class, background last. Matching: "
        "pycocotools' per class, then the leftover detections and objects of each image "
        "class-agnostically, greedily by score (see the README).",
    )
    common(p)
    # Any IoU in [0, 1]: these views match again (dest keeps _check_view's
    # evaluated-thresholds check away from it).
    p.add_argument(
        "--iou",
        dest="match_iou",
        type=_unit_interval,
        default=0.5,
        help="IoU threshold in [0, 1], evaluated or not (default: 0.5)",
    )
    p.add_argument(
        "--score",
        type=_finite,
        default=0.5,
        help="count detections scoring at least this (default: 0.5)",
    )
    p.add_argument("--area", default="all", help=area_help)
    p.add_argument(
        "--normalize",
        choices=["true", "pred"],
        default=None,
        help="fractions of each true class (row) or predicted class (column)",
    )
    p.add_argument("--csv", metavar="OUT", help="write the matrix as CSV")
    p.add_argument("--plot", metavar="OUT.png", help="save the matrix as an image")
    p.set_defaults(func=_cmd_confusion)

    p = sub.add_parser(
        "errors",
        help="TIDE error breakdown: what each error type costs in AP",
        description="Classification, localisation, both, duplicate, background and missed "
        "errors (Bolya et al., ECCV 2020) on pycocotools' matching, with the AP gained by "
        "fixing each type (see the README).",
    )
    common(p)
    p.add_argument(
        "--iou",
        dest="match_iou",
        type=_unit_interval,
        default=0.5,
        help="foreground IoU threshold t_f in [0, 1], evaluated or not (default: 0.5)",
    )
    p.add_argument(
        "--background-iou",
        type=_unit_interval,
        default=0.1,
        help="background IoU threshold t_b, at most --iou (default: 0.1)",
    )
    p.add_argument("--area", default="all", help=area_help)
    p.add_argument("--json", metavar="OUT", help="write counts and dAP, overall and per class")
    p.add_argument("--plot", metavar="OUT.png", help="save the dAP bars as an image")
    p.set_defaults(func=_cmd_errors)

    p = sub.add_parser(
        "calibration",
        help="reliability of the scores: precision per score bin, ECE, MCE",
        description="Scores binned over [0, 1]; each bin's precision against its mean "
        "score; ECE = sum_b n_b / N * |precision_b - score_b|. Scores must lie in [0, 1].",
    )
    common(p)
    p.add_argument(
        "--iou",
        type=float,
        default=0.5,
        help="IoU threshold to read, one of --iou-thrs (default: 0.5)",
    )
    p.add_argument(
        "--bins", type=_positive_int, default=10, help="equal-width score bins (default: 10)"
    )
    p.add_argument(
        "--class",
        dest="category",
        default=None,
        help="category name or id to show and plot (default: all categories pooled)",
    )
    p.add_argument("--area", default="all", help=area_help)
    p.add_argument("--json", metavar="OUT", help="write the bins, pooled and per class")
    p.add_argument("--plot", metavar="OUT.png", help="save the reliability diagram")
    p.set_defaults(func=_cmd_calibration)
    p = sub.add_parser(
        "report", help="an HTML page of tables and figures, report.json and the PNGs"
    )
    common(p)
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder to write report.html, report.json and figures/ into (made if "
        "missing; in an existing one only the report's files are replaced)",
    )
    p.add_argument(
        "--iou",
        type=float,
        default=None,
        help="IoU threshold of the raw curves and thresholds, one of --iou-thrs "
        "(default: 0.5, or the first of --iou-thrs without it)",
    )
    p.add_argument(
        "--area",
        default=None,
        help="area range of the raw curves and thresholds, a label of --area-rng (default: all)",
    )
    p.add_argument(
        "--min-precision",
        type=float,
        default=0.9,
        help="precision target whose score thresholds are shown and marked (default: 0.9)",
    )
    p.add_argument(
        "--score-threshold",
        type=float,
        default=None,
        metavar="S",
        help="count the operating points and the confusion matrix at this score, and mark "
        "it on every curve (default: the shared best-F1 threshold)",
    )
    p.add_argument(
        "--max-class-curves",
        type=int,
        default=80,
        metavar="N",
        help="draw per-class curves for at most N classes, those with the most ground "
        "truth (default: 80)",
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("demo", help="run on the example dataset bundled with prcore")
    p.add_argument(
        "--out",
        default="prcore-demo-report",
        metavar="DIR",
        help="folder for the example's HTML report (default: %(default)s)",
    )
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
