"""``prcore report`` and ``write_report``: one self-contained page whose figures are
embedded PNGs, whose tables hold every class, with no reference outside the page;
report.json holds the numbers the page shows (the result's own); bad input writes
nothing; files get the umask's modes; the library call is quiet."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import numpy as np
import pytest

import prcore
from prcore.cli import main
from prcore.curves import pick_at_score
from prcore.example import example_paths
from prcore.html_report import (
    DEFAULT_SECTIONS,
    ReportContext,
    ReportFigure,
    Section,
    build_report,
    table_html,
    write_report,
)
from prcore.summary import fmt_num

GT, DT = (str(p) for p in example_paths())
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    return prcore.evaluate(GT, DT)


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    path = write_report(result, out, score_threshold=0.5)
    return out, path


class _Page(HTMLParser):
    """Every tag's attributes, the tables' cells by row, and the script and style text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.tables: list[list[list[str]]] = []
        self.table_sections: list[str] = []  # the section each table is in
        self.sections: list[str] = []
        self._cell: list[str] | None = None
        self._in: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self._in.append(tag)
        if tag == "table":
            self.tables.append([])
            self.table_sections.append(self.sections[-1] if self.sections else "")
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "section":
            self.sections.append(attrs["id"])

    def handle_endtag(self, tag):
        if self._in:
            self._in.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in and self._in[-1] == "script":
            self.scripts.append(data)
        if self._in and self._in[-1] == "style":
            self.styles.append(data)


def _parse(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _png_size(png: bytes) -> tuple[int, int]:
    return tuple(int.from_bytes(png[i : i + 4], "big") for i in (16, 20))  # IHDR


def test_every_figure_is_embedded_as_the_png_written(result, written):
    out, path = written
    assert path == out / "report.html"
    page = _parse(path)
    report = json.loads((out / "report.json").read_text())
    files = [f for s in report["sections"].values() for f in s["figures"]]
    # the example: AP bars, pooled PR+score and score curves, errors, confusion,
    # calibration, one class grid, COCO curves
    assert files == [
        "figures/class_ap.png",
        "figures/pooled_pr_score.png",
        "figures/pooled_score_curves.png",
        "figures/errors.png",
        "figures/confusion.png",
        "figures/calibration.png",
        "figures/class_pr_score.png",
        "figures/coco_interpolated.png",
    ]
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        f.split("/")[1] for f in files
    )
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) == len(files)
    specs = [f for s in build_report(result).sections for f in s.section.figures]
    for attrs, name, spec in zip(images, files, specs, strict=True):
        head, data = attrs["src"].split(",", 1)
        assert head == "data:image/png;base64"
        png = base64.b64decode(data, validate=True)
        assert png[:8] == PNG and png == (out / name).read_bytes()
        assert _png_size(png) == tuple(round(v * 80) for v in spec.size)  # at 80 dpi
        assert attrs["alt"] == spec.caption


def test_no_reference_outside_the_page(written):
    out, path = written
    page = _parse(path)
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base")
        for name in ("src", "href", "srcset", "data", "action", "poster"):
            value = attrs.get(name)
            if value is None:
                continue
            if name == "href":
                assert value.startswith("#") and value[1:] in page.sections, value
            else:
                assert value.startswith("data:image/png;base64,"), (tag, name)
        if tag == "script":
            assert "src" not in attrs
    text = "".join(page.scripts + page.styles)
    assert page.scripts and page.styles  # inline, both
    for needle in ("http:", "https:", "url(", "@import", "//cdn", "fetch(", "XMLHttpRequest"):
        assert needle not in text
    nav = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert nav == [f"#{s}" for s in page.sections]


def test_every_class_in_the_sortable_table_with_the_results_numbers(result, written):
    out, path = written
    page = _parse(path)
    tables: dict[str, list] = {}
    for table in page.tables:  # the first table of each first header
        tables.setdefault(table[0][0], table)
    per_class = tables["class"]
    header, body = per_class[0], per_class[1:]
    assert header[:8] == ["class", "id", "AP", "AP50", "AP75", "AR", "GT", "dets"]
    assert [row[0] for row in body] == list(result.cat_names)
    best = result.select_thresholds(best_f1=True).per_class
    for row, r, b in zip(body, result.per_class(), best, strict=True):
        assert row[1:8] == [
            str(r.category_id),
            fmt_num(r.ap),
            fmt_num(r.ap50),
            fmt_num(r.ap75),
            fmt_num(r.recall),
            str(r.n_gt),
            str(r.n_dt),
        ]
        assert row[8] == fmt_num(b.threshold)
    sortable = [attrs for tag, attrs in page.tags if tag == "table"]
    assert {"class": "sortable"} in sortable
    # the sorting script reads each number's data-v
    assert any("data-v" in s for s in page.scripts)
    cells = [attrs for tag, attrs in page.tags if tag == "td" and "data-v" in attrs]
    aps = {float(c["data-v"]) for c in cells}
    assert {r.ap for r in result.per_class()} <= aps
    # the summary table: the 12 stats
    summary = tables["stat"]
    assert [row[:2] for row in summary[1:]] == [
        [name, fmt_num(v)] for name, v in result.stats_dict().items()
    ]


def test_report_json_holds_the_results_numbers(result, written):
    out, _ = written
    report = json.loads((out / "report.json").read_text())
    assert report["prcore_version"] == prcore.__version__
    assert report["iou_type"] == "bbox" and report["n_detections"] == result.n_detections
    sections = report["sections"]
    assert list(sections) == [
        "summary",
        "per_class",
        "thresholds",
        "operating_points",
        "curves",
        "errors",
        "confusion",
        "calibration",
        "class_curves",
        "coco_curves",
        "parameters",
    ]
    assert sections["summary"]["numbers"]["stats"] == result.stats_dict()
    assert sections["summary"]["numbers"]["truncation"] == result.truncation()
    rows = sections["per_class"]["numbers"]
    assert [
        {k: v for k, v in r.items() if k not in ("best_f1", "min_precision")} for r in rows
    ] == [r.__dict__ for r in result.per_class()]
    best = result.select_thresholds(best_f1=True)
    target = result.select_thresholds(min_precision=0.9)
    assert sections["thresholds"]["numbers"]["best_f1"] == json.loads(json.dumps(best.to_dict()))
    assert sections["thresholds"]["numbers"]["min_precision"] == json.loads(
        json.dumps(target.to_dict())
    )
    assert [r["best_f1"]["threshold"] for r in rows] == [p.threshold for p in best.per_class]
    # the operating points at --score-threshold are the curves' points there
    at = sections["operating_points"]["numbers"]
    assert (at["score"], at["source"]) == (0.5, "the score threshold given")
    assert at["pooled"]["precision"] == pick_at_score(result.curve(None), 0.5).precision
    assert [p["tp"] for p in at["per_class"]] == [pick_at_score(c, 0.5).tp for c in result.curves()]
    assert [p["fp"] for p in at["per_class"]] == [pick_at_score(c, 0.5).fp for c in result.curves()]
    coco = sections["coco_curves"]["numbers"]
    assert coco["ap"][0] == result.stats[1] and coco["ap"][5] == result.stats[2]
    assert coco["rec_thrs"] == list(result.params.rec_thrs)
    assert np.asarray(coco["precision"]).shape == (10, 101)
    assert sections["parameters"]["numbers"]["params"] == result.to_dict()["params"]
    marks = sections["curves"]["numbers"]["marks"]
    assert set(marks) == {"best F1", "precision >= 0.9", "score >= 0.5"}
    assert marks["best F1"]["threshold"] == best.shared.threshold
    classes = sections["class_curves"]["numbers"]
    assert classes["figures"] == [
        {"figure": "figures/class_pr_score.png", "classes": list(result.cat_names)}
    ]
    assert classes["not_drawn"] == []


def test_pages_and_the_classes_left_out(result):
    """Classes are drawn 20 a figure; past max_class_curves, those with the most ground
    truth are drawn (in the categories' order) and the rest listed."""
    report = build_report(result, classes_per_figure=2, max_class_curves=3)
    numbers = report.to_dict()["sections"]["class_curves"]["numbers"]
    n_gt = {c.category_name: c.n_gt for c in result.curves()}
    most = sorted(n_gt, key=lambda name: -n_gt[name])[:3]
    drawn = [name for name in result.cat_names if name in most]
    assert numbers["figures"] == [
        {"figure": "figures/class_pr_score_1.png", "classes": drawn[:2]},
        {"figure": "figures/class_pr_score_2.png", "classes": drawn[2:]},
    ]
    assert numbers["not_drawn"] == [name for name in result.cat_names if name not in most]
    html = report.to_html()
    assert "3 of 5 classes drawn" in html
    # the AP bars, one a class, keep the 2 best and the worst
    (bars,) = report.sections[1].section.figures
    assert bars.caption.endswith(": the 2 best and the 1 worst of 5 classes")
    page = _Page()
    page.feed(html)
    assert bars.caption in [attrs["alt"] for tag, attrs in page.tags if tag == "img"]


def test_a_section_builder_adds_a_section(result, tmp_path):
    """How the other views join the report: one more builder in the list."""

    def detections_section(ctx):
        counts = [[r.name, r.n_dt] for r in ctx.result.per_class()]

        def draw(fig):
            ax = fig.add_subplot()
            ax.bar([c[0] for c in counts], [c[1] for c in counts])

        return Section(
            "detections",
            "Detections per class",
            table_html(["class", "dets"], counts),
            (ReportFigure("detections", "detections per class", (4.0, 3.0), draw),),
            {"counts": dict(counts)},
        )

    def nothing(ctx):
        # the score a section reads counts at: the given threshold, else best F1's
        assert ctx.operating_score == ctx.best_f1.shared.threshold is not None
        return None

    path = write_report(
        result, tmp_path / "r", sections=(*DEFAULT_SECTIONS, nothing, detections_section)
    )
    page = _parse(path)
    assert page.sections[-1] == "detections"
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["sections"]["detections"]["numbers"]["counts"] == {
        r.name: r.n_dt for r in result.per_class()
    }
    png = (tmp_path / "r" / "figures" / "detections.png").read_bytes()
    assert png[:8] == PNG and _png_size(png) == (320, 240)  # 4x3 inches at 80 dpi
    images = [a["src"] for t, a in page.tags if t == "img"]
    assert len(images) == 9 and base64.b64decode(images[-1].split(",", 1)[1]) == png

    def clash(ctx):
        return Section("x", "x", "", (ReportFigure("class_ap", "", (1, 1), lambda f: None),))

    with pytest.raises(prcore.PrcoreInputError, match="class_ap"):
        build_report(result, sections=(*DEFAULT_SECTIONS, clash))
    assert ReportContext(result, 0.5, "all", score_threshold=0.3).operating_score == 0.3


def test_without_categories(tmp_path):
    result = prcore.evaluate(GT, DT, params=prcore.Params(use_cats=False))
    path = write_report(result, tmp_path / "r")
    page = _parse(path)
    assert page.sections == [
        "summary",
        "thresholds",
        "operating_points",
        "curves",
        "errors",
        "confusion",
        "calibration",
        "coco_curves",
        "parameters",
    ]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    sections = report["sections"]
    assert sections["summary"]["numbers"]["stats"] == result.stats_dict()
    score = result.select_thresholds(best_f1=True).shared.threshold
    # one pooled row, no per-class rows; the confusion and errors still by true class
    assert sections["operating_points"]["numbers"]["per_class"] == []
    assert sections["operating_points"]["numbers"]["pooled"] == _plain(
        result.at_threshold(score).to_dict()["pooled"]
    )
    assert (
        sections["confusion"]["numbers"]["counts"] == result.confusion(0.5, score).counts.tolist()
    )
    assert sections["calibration"]["numbers"]["per_class"] == []
    assert sections["calibration"]["numbers"]["pooled"]["ece"] == result.calibration().ece
    assert len([t for t, _ in page.tags if t == "img"]) == 6


def test_the_library_call_is_quiet_and_leaves_pyplot_alone(result, tmp_path, capfd):
    before = plt.get_fignums()
    write_report(result, tmp_path / "quiet")
    assert capfd.readouterr() == ("", "")
    assert plt.get_fignums() == before
    stream = io.StringIO()
    build_report(result, progress=stream)
    text = stream.getvalue()
    assert "prcore report [" in text and text.endswith("\n")
    assert "8/8" in text  # the figures, counted


def test_an_existing_folder_keeps_its_other_files(result, tmp_path):
    out = tmp_path / "r"
    write_report(result, out, max_class_curves=0)
    (out / "notes.txt").write_text("mine")
    (out / "figures" / "mine.png").write_bytes(b"x")
    first = json.loads((out / "report.json").read_text())
    assert first["sections"]["class_curves"]["numbers"]["figures"] == []
    write_report(result, out, min_precision=0.5)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "figures" / "mine.png").read_bytes() == b"x"
    report = json.loads((out / "report.json").read_text())
    assert report["sections"]["parameters"]["numbers"]["report"]["min_precision"] == 0.5
    assert (out / "figures" / "class_pr_score.png").read_bytes()[:8] == PNG
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_umask_is_honoured(result, tmp_path):
    old = os.umask(0o027)
    try:
        write_report(result, tmp_path / "r")
    finally:
        os.umask(old)
    out = tmp_path / "r"
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert modes.pop("figures") == 0o750
    assert modes and set(modes.values()) == {0o640}


def test_cli_report(tmp_path, capsys):
    out = tmp_path / "rep"
    args = ["report", GT, DT, "--out", str(out), "--iou", "0.75", "--score-threshold", "0.3"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out == f"prcore: wrote the report to {out / 'report.html'}\n"
    assert captured.err == ""  # not a terminal: no progress bar
    report = json.loads((out / "report.json").read_text())
    options = report["sections"]["parameters"]["numbers"]["report"]
    assert (options["iou"], options["score_threshold"], options["area"]) == (0.75, 0.3, "all")
    assert report["inputs"] == {"ground truth": GT, "detections": DT}
    result = prcore.evaluate(GT, DT)
    best = result.select_thresholds(best_f1=True, iou=0.75)
    assert report["sections"]["thresholds"]["numbers"]["best_f1"] == json.loads(
        json.dumps(best.to_dict())
    )
    assert report["sections"]["summary"]["numbers"]["stats"] == result.stats_dict()


def test_cli_report_with_custom_iou_thresholds(tmp_path, capsys):
    """Without 0.5 among --iou-thrs the curves are read at the first threshold."""
    out = tmp_path / "rep"
    assert main(["report", GT, DT, "--out", str(out), "--iou-thrs", "0.6,0.7"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["sections"]["curves"]["numbers"]["iou"] == 0.6
    assert len(report["sections"]["coco_curves"]["numbers"]["ap"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", GT + ".missing", DT], "No such file"),
        (["report", DT, DT], "dt"),  # detections where the ground truth belongs
        (["report", GT, DT, "--iou", "0.52"], "--iou 0.52"),
        (["report", GT, DT, "--area", "tiny"], "--area 'tiny'"),
        (["report", GT, DT, "--min-precision", "1.5"], "--min-precision"),
        (["report", GT, DT, "--max-class-curves", "-1"], "--max-class-curves"),
        (["report", GT, DT, "--score-threshold", "nan"], "--score-threshold"),
        (["report", GT, DT, "--iou-thrs", "0.5,2"], "--iou-thrs"),
    ],
)
def test_cli_bad_input_writes_nothing(args, message, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prcore: error: ") and message in err and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_unwritable_out_is_one_line(tmp_path, capsys):
    out = tmp_path / ("x" * 300)  # longer than a file name may be
    assert main(["report", GT, DT, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prcore: error: cannot write the report to ") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    near = tmp_path / ("y" * 250)  # a long name that fits: its staging folder must too
    assert main(["report", GT, DT, "--out", str(near)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [near.name]


def test_no_detections(tmp_path):
    result = prcore.evaluate(GT, [])
    write_report(result, tmp_path / "r", score_threshold=0.5)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    sections = report["sections"]
    assert sections["summary"]["numbers"]["stats"] == result.stats_dict()
    assert sections["thresholds"]["numbers"]["best_f1"]["shared"]["note"] == ("no detections")
    # at the threshold given: every object missed, nothing confused
    n_gt = result.at_threshold(0.5).pooled.n_gt
    assert sections["operating_points"]["numbers"]["pooled"]["fn"] == n_gt > 0
    counts = np.asarray(sections["confusion"]["numbers"]["counts"])
    assert counts[:-1, -1].sum() == n_gt and counts[:, :-1].sum() == 0
    assert sections["errors"]["numbers"]["errors"]["missed"]["count"] == n_gt
    assert sections["calibration"]["numbers"]["pooled"]["n_detections"] == 0
    # without a threshold given there is none to count at: a note, not a failure
    write_report(result, tmp_path / "bare")
    bare = json.loads((tmp_path / "bare" / "report.json").read_text())["sections"]
    note = "no detections, so no score threshold to count at"
    assert bare["operating_points"]["numbers"] == {"note": note}
    assert bare["confusion"]["numbers"] == {"note": note}
    assert note in (tmp_path / "bare" / "report.html").read_text()


def test_cli_bad_out_writes_nothing(tmp_path, capsys):
    missing = tmp_path / "no" / "rep"
    assert main(["report", GT, DT, "--out", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    afile = tmp_path / "file"
    afile.write_text("keep")
    assert main(["report", GT, DT, "--out", str(afile)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert afile.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    assert main(["demo", "--out", str(missing)]) == 2
    assert capsys.readouterr().out == ""  # checked before the demo prints anything


def test_keypoints_report(tmp_path):
    """Keypoints: OKS thresholds, maxDets 20, areas all/medium/large and 10 stats."""
    from test_keypoints import keypoint_data

    gt, dets = keypoint_data(3)
    result = prcore.evaluate(gt, dets, iou_type="keypoints")
    write_report(result, tmp_path / "kp")
    report = json.loads((tmp_path / "kp" / "report.json").read_text())
    numbers = report["sections"]["summary"]["numbers"]
    assert numbers["stats"] == result.stats_dict() and len(numbers["stats"]) == 10
    assert report["sections"]["coco_curves"]["numbers"]["ap"][0] == result.stats[1]
    page = _parse(tmp_path / "kp" / "report.html")
    assert len([t for t, _ in page.tags if t == "img"]) == 8
    sections = report["sections"]
    score = result.select_thresholds(best_f1=True).shared.threshold
    cm = result.confusion(0.5, score)
    assert sections["confusion"]["numbers"]["counts"] == cm.counts.tolist()
    k = len(result.cat_names)
    off_diagonal = cm.counts[:k, :k] - np.diag(np.diag(cm.counts[:k, :k]))
    assert not off_diagonal.any()  # OKS pairs nothing across classes
    assert "OKS exists only within a class" in (tmp_path / "kp" / "report.html").read_text()
    assert sections["errors"]["numbers"] == _plain(result.error_breakdown().to_dict())


def test_cli_progress_bar_on_a_terminal(tmp_path, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["report", GT, DT, "--out", str(tmp_path / "r")]) == 0
    bar = terminal.getvalue()
    assert bar.startswith("\rprcore report: summary_section") and bar.endswith("\n")
    assert "prcore report [########################] 8/8 done" in bar
    assert capsys.readouterr().out.startswith("prcore: wrote the report to ")


def test_names_are_text_not_markup(tmp_path):
    """A category or area label is shown as written, never read as HTML."""
    gt = json.loads(example_paths()[0].read_text())
    evil = '<script>alert("x")</script> & <b>'
    for cat in gt["categories"]:
        if cat["name"] == "car":
            cat["name"] = evil
    result = prcore.evaluate(gt, DT)
    path = write_report(result, tmp_path / "r")
    page = _parse(path)
    assert [t for t, _ in page.tags if t in ("script", "b")] == ["script"]  # the page's own
    per_class = next(t for t in page.tables if t[0][0] == "class")
    assert evil in [row[0] for row in per_class[1:]]


def _plain(value):
    """``value`` as report.json holds it (lists, not tuples)."""
    return json.loads(json.dumps(value))


def _images(path) -> list[bytes]:
    page = _parse(path)
    prefix = "data:image/png;base64,"
    return [base64.b64decode(a["src"][len(prefix) :]) for t, a in page.tags if t == "img"]


def test_analysis_sections_hold_the_results_numbers(result, written):
    """Operating points, errors, confusion and calibration: report.json holds what the
    API gives, the page embeds their figures and names every class in their tables."""
    out, path = written
    sections = json.loads((out / "report.json").read_text())["sections"]

    at = result.at_threshold(0.5)
    ops = sections["operating_points"]["numbers"]
    assert [(p["tp"], p["fp"], p["fn"]) for p in ops["per_class"]] == [
        (p.tp, p.fp, p.fn) for p in at.per_class
    ]
    assert ops["pooled"] == _plain(at.to_dict()["pooled"])
    assert (ops["pooled"]["tp"], ops["pooled"]["fp"]) == (at.pooled.tp, at.pooled.fp)

    cm = result.confusion(0.5, 0.5)
    conf = sections["confusion"]["numbers"]
    assert conf["counts"] == cm.counts.tolist() and conf["labels"] == list(cm.labels)
    assert np.allclose(conf["normalized_over_true"], cm.normalized("true"))
    assert cm.counts.sum() > 0

    eb = result.error_breakdown(0.5, 0.1)
    errors = sections["errors"]["numbers"]
    assert errors == _plain(eb.to_dict())
    assert [errors["errors"][t]["delta_ap"] for t in eb.error_types] == eb.delta_ap.tolist()

    cal = result.calibration(0.5, 10)
    numbers = sections["calibration"]["numbers"]
    assert numbers["pooled"]["ece"] == cal.ece and numbers["pooled"]["mce"] == cal.mce
    assert [c["ece"] for c in numbers["per_class"]] == [c.ece for c in cal.per_class]

    # each figure: the PNG written is the one embedded, in page order
    report = json.loads((out / "report.json").read_text())
    files = [f for s in report["sections"].values() for f in s["figures"]]
    images = _images(path)
    assert len(images) == len(files)
    for png, file in zip(images, files):
        assert png[:8] == PNG and png == (out / file).read_bytes()
    for key in ("errors", "confusion", "calibration"):
        assert report["sections"][key]["figures"] == [f"figures/{key}.png"]

    page = _parse(path)
    kinds = [a.get("class") for tag, a in page.tags if tag == "table"]
    for key in ("operating_points", "errors", "calibration"):
        classes = [
            (t, kind)
            for t, k, kind in zip(page.tables, page.table_sections, kinds)
            if k == key and t[0][0] == "class" and len(t) > 2
        ]
        assert len(classes) == 1, key
        table, kind = classes[0]
        assert [row[0] for row in table[1:]] == list(result.cat_names), key
        assert kind == "sortable", key
    confusions = [t for t, k in zip(page.tables, page.table_sections) if k == "confusion"]
    k = len(result.cat_names)
    off = cm.counts[:k, :k].copy()
    np.fill_diagonal(off, 0)
    assert [int(row[2]) for row in confusions[0][1:]] == sorted(off[off > 0].tolist())[::-1][:20]


def _many_classes(k: int):
    """``k`` classes, two images: each class one box per image, detected once in its
    own class and once as the next class over."""
    cats = [{"id": i + 1, "name": f"class {i + 1}"} for i in range(k)]
    images = [{"id": 1, "width": 4000, "height": 200}, {"id": 2, "width": 4000, "height": 200}]
    anns, dets = [], []
    for img in (1, 2):
        for i in range(k):
            box = [40.0 * i, 10.0, 30.0, 30.0]
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": i + 1,
                         "bbox": box, "area": 900.0, "iscrowd": 0})  # fmt: skip
            other = (i + 1) % k + 1 if img == 2 else i + 1
            dets.append({"image_id": img, "category_id": other, "bbox": box, "score": 0.9})
    return {"images": images, "annotations": anns, "categories": cats}, dets


def test_the_confusion_figure_of_many_classes_stays_legible():
    """Sized by the class count; past 30 classes, colour alone (no number in each cell)."""
    from matplotlib.figure import Figure

    from prcore.html_report import confusion_section

    sizes = {}
    for k in (5, 80):
        gt, dets = _many_classes(k)
        result = prcore.evaluate(gt, dets)
        ctx = ReportContext(result, 0.5, "all", score_threshold=0.5)
        section = confusion_section(ctx)
        (spec,) = section.figures
        fig = Figure(figsize=spec.size)
        spec.draw(fig)
        ax = fig.axes[0]
        sizes[k] = spec.size
        cm = result.confusion(0.5, 0.5)
        assert section.numbers["counts"] == cm.counts.tolist()
        # image 2 confuses each class with the next one: k confusions of count 1
        assert np.trace(cm.counts) == k and cm.counts[:k, :k].sum() == 2 * k
        assert len(ax.get_xticklabels()) == k + 1
        assert len(ax.texts) == (0 if k > 30 else (k + 1) ** 2)
    assert sizes[5][0] < sizes[80][0] <= 21.0


def test_scores_outside_0_1_skip_calibration_with_a_note(tmp_path):
    """Logits are no probabilities: calibration is left out, with the reason, and the
    rest of the report is written."""
    dets = json.loads(example_paths()[1].read_text())
    for d in dets:
        d["score"] = 10 * d["score"] - 5
    result = prcore.evaluate(GT, dets)
    with pytest.raises(prcore.PrcoreInputError, match="in \\[0, 1\\]"):
        result.calibration()
    path = write_report(result, tmp_path / "r")
    sections = json.loads((tmp_path / "r" / "report.json").read_text())["sections"]
    cal = sections["calibration"]
    assert cal["figures"] == [] and "in [0, 1]" in cal["numbers"]["note"]
    assert "calibration reads scores as probabilities" in path.read_text()
    assert sections["errors"]["figures"] == ["figures/errors.png"]
    assert sections["confusion"]["numbers"]["score_threshold"] == (
        result.select_thresholds(best_f1=True).shared.threshold
    )
