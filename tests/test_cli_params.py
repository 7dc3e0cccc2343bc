"""The command's Params flags, against pycocotools' COCOeval with the same Params.

Each case sets pycocotools' ``params`` by hand, runs pycocotools, and runs the
command with the matching flags: ``eval`` must give the same stats (1e-12) and
the same precision, recall and scores arrays, element for element; ``curves``,
``threshold`` and ``sweep`` must hand the same Params to the library and print
its views of that (oracle-checked) result. Malformed values are one line and
exit 2 before anything is read or evaluated.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from test_oracle_generated import generate

import prcore
from prcore.cli import main
from prcore.example import example_paths
from pycocotools_oracle import assert_same, prcore_params, run_pycocotools

AREA_COCO = "all=0:1e10,small=0:1024,medium=1024:9216,large=9216:1e10"


@pytest.fixture(scope="module")
def data():
    return generate(5, n_img=120, n_cat=8)


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_params")
    gt, dt = folder / "gt.json", folder / "dt.json"
    gt.write_text(json.dumps(data[0]))
    dt.write_text(json.dumps(data[1]))
    return str(gt), str(dt)


def _case(name: str, gt: dict) -> tuple[list[str], dict]:
    """(command-line flags, the same parameters as pycocotools' ``params`` attributes)."""
    cat_ids = sorted(c["id"] for c in gt["categories"])
    img_ids = sorted(im["id"] for im in gt["images"])
    cats, imgs = cat_ids[1::3], img_ids[::3]
    return {
        "iou_thrs": (["--iou-thrs", "0.5,0.75"], {"iouThrs": np.array([0.5, 0.75])}),
        "iou_thrs_off_grid": (["--iou-thrs", "0.3,0.62"], {"iouThrs": np.array([0.3, 0.62])}),
        "max_dets": (["--max-dets", "1,10,300"], {"maxDets": [1, 10, 300]}),
        "max_dets_small": (["--max-dets", "3,5,20"], {"maxDets": [3, 5, 20]}),
        "area_rng": (
            ["--area-rng", AREA_COCO],
            {
                "areaRng": [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]],
                "areaRngLbl": ["all", "small", "medium", "large"],
            },
        ),
        "area_rng_other": (
            ["--area-rng", "all=0:1e10,tiny=0:256,small=256:2048,large=2048:1e10,mid=500:5e3"],
            {
                "areaRng": [[0, 1e10], [0, 256], [256, 2048], [2048, 1e10], [500, 5000]],
                "areaRngLbl": ["all", "tiny", "small", "large", "mid"],
            },
        ),
        "cat_ids": (["--cat-ids", ",".join(map(str, cats))], {"catIds": cats}),
        "img_ids": (["--img-ids", ",".join(map(str, imgs))], {"imgIds": imgs}),
        "no_cats": (["--no-cats"], {"useCats": 0}),
        "together": (
            [
                "--iou-thrs",
                "0.5,0.6,0.75",
                "--max-dets",
                "1,10,300",
                "--area-rng",
                AREA_COCO,
                "--img-ids",
                ",".join(map(str, imgs)),
                "--cat-ids",
                ",".join(map(str, cats)),
            ],
            {
                "iouThrs": np.array([0.5, 0.6, 0.75]),
                "maxDets": [1, 10, 300],
                "areaRng": [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]],
                "areaRngLbl": ["all", "small", "medium", "large"],
                "imgIds": imgs,
                "catIds": cats,
            },
        ),
        "together_no_cats": (
            ["--no-cats", "--iou-thrs", "0.5", "--img-ids", ",".join(map(str, imgs))],
            {"useCats": 0, "iouThrs": np.array([0.5]), "imgIds": imgs},
        ),
    }[name]


CASES = [
    "iou_thrs",
    "iou_thrs_off_grid",
    "max_dets",
    "max_dets_small",
    "area_rng",
    "area_rng_other",
    "cat_ids",
    "img_ids",
    "no_cats",
    "together",
    "together_no_cats",
]


@pytest.fixture
def seen_params(monkeypatch):
    """The Params each ``prcore.evaluate`` call of the command received."""
    seen = []
    evaluate = prcore.evaluate

    def spy(gt, dt, iou_type=None, params=None):
        seen.append(params)
        return evaluate(gt, dt, iou_type=iou_type, params=params)

    monkeypatch.setattr(prcore, "evaluate", spy)
    return seen


@pytest.mark.parametrize("name", CASES)
def test_eval_equals_pycocotools(name, data, files, tmp_path, capsys, seen_params):
    flags, params = _case(name, data[0])
    ev = run_pycocotools(*data, **params)
    out_json, out_npz = tmp_path / "r.json", tmp_path / "r.npz"
    argv = ["eval", *files, *flags, "--json", str(out_json), "--arrays", str(out_npz)]
    assert main(argv) == 0
    printed = capsys.readouterr().out.splitlines()

    report = json.loads(out_json.read_text())
    np.testing.assert_allclose(report["stats"], ev.stats, rtol=0, atol=1e-12)
    arrays = np.load(out_npz)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(arrays[key], ev.eval[key])
    with contextlib.redirect_stdout(io.StringIO()) as text:
        ev.summarize()
    assert printed[:12] == text.getvalue().splitlines()

    # The Params the command built are the oracle's, and the report records them.
    expected = prcore_params(**params)
    assert seen_params == [expected]
    assert report["params"]["iou_thrs"] == list(expected.iou_thrs)
    assert report["params"]["max_dets"] == list(expected.max_dets)
    assert report["params"]["area_rng_lbl"] == list(expected.area_rng_lbl)
    assert report["params"]["use_cats"] is expected.use_cats
    assert report["params"]["img_ids"] == list(ev.params.imgIds)
    if expected.use_cats:
        assert report["params"]["cat_ids"] == list(ev.params.catIds)
        assert [r["category_id"] for r in report["per_class"]] == list(ev.params.catIds)
    else:
        assert report["per_class"] == []


@pytest.mark.parametrize("name", ["max_dets", "area_rng_other", "together", "together_no_cats"])
def test_views_read_the_same_params(name, data, files, tmp_path, capsys, seen_params):
    """curves, threshold and sweep evaluate with the flags' Params and print the
    library's views of that result, which itself equals pycocotools."""
    flags, params = _case(name, data[0])
    expected = prcore_params(**params)
    result = prcore.evaluate(*files, params=expected)
    assert_same(result, run_pycocotools(*data, **params))
    seen_params.clear()
    iou = ["--iou", "0.75"] if 0.75 in expected.iou_thrs else ["--iou", "0.5"]
    iou_value = float(iou[1])

    out_csv = tmp_path / "c.csv"
    assert main(["curves", *files, *flags, *iou, "--csv", str(out_csv)]) == 0
    assert out_csv.read_text() == result.curve(None, iou=iou_value).to_csv()

    out_json = tmp_path / "t.json"
    assert main(["threshold", *files, *flags, *iou, "--best-f1", "--json", str(out_json)]) == 0
    picks = result.select_thresholds(best_f1=True, iou=iou_value)
    assert out_json.read_text() == json.dumps(picks.to_dict(), indent=2)

    capsys.readouterr()
    assert main(["sweep", *files, *flags, "--thresholds", "0.2,0.6"]) == 0
    assert capsys.readouterr().out == result.sweep([0.2, 0.6]).to_text() + "\n"

    assert seen_params == [expected] * 3


def test_sweep_rows_equal_pycocotools_on_filtered_detections(data, files, capsys, seen_params):
    """The swept stats under custom Params are pycocotools' on the detections kept."""
    flags, params = _case("together", data[0])
    assert main(["sweep", *files, *flags, "--thresholds", "0.4"]) == 0
    (used,) = seen_params
    (row,) = prcore.evaluate(*files, params=used).sweep([0.4]).rows
    kept = [d for d in data[1] if d["score"] >= 0.4]
    ev = run_pycocotools(data[0], kept, **params)
    cells = {(i, c) for i in params["imgIds"] for c in params["catIds"]}
    assert row.n_detections == sum((d["image_id"], d["category_id"]) in cells for d in kept)
    np.testing.assert_allclose(row.stats, ev.stats, rtol=0, atol=1e-12)


def test_curves_with_class_and_area(data, files, tmp_path):
    flags, params = _case("area_rng_other", data[0])
    cat = data[0]["categories"][2]["id"]
    out_csv = tmp_path / "c.csv"
    argv = ["curves", *files, *flags, "--class", str(cat), "--area", "tiny", "--csv", str(out_csv)]
    assert main(argv) == 0
    result = prcore.evaluate(*files, params=prcore_params(**params))
    assert out_csv.read_text() == result.curve(cat, iou=0.5, area="tiny").to_csv()


# ------------------------------------------------------------ bad values


BAD = [
    (["--iou-thrs", "0.5,x"], "--iou-thrs"),
    (["--iou-thrs", "0.5,,0.75"], "--iou-thrs"),
    (["--iou-thrs", ""], "--iou-thrs"),
    (["--iou-thrs", "1.5"], "--iou-thrs"),
    (["--iou-thrs", "nan"], "--iou-thrs"),
    (["--max-dets", "0"], "--max-dets"),
    (["--max-dets", "1,-10"], "--max-dets"),
    (["--max-dets", "1.5"], "--max-dets"),
    (["--max-dets", "1,10,"], "--max-dets"),
    (["--area-rng", "small=5"], "--area-rng"),
    (["--area-rng", "small"], "--area-rng"),
    (["--area-rng", "=0:5"], "--area-rng"),
    (["--area-rng", "small=0:x"], "--area-rng"),
    (["--area-rng", "small=0:inf"], "--area-rng"),
    (["--area-rng", "small=10:5"], "--area-rng"),
    (["--area-rng", "a=0:5,a=5:10"], "--area-rng"),
    (["--cat-ids", "1,x"], "--cat-ids"),
    (["--cat-ids", "1.5"], "--cat-ids"),
    (["--img-ids", "4,,6"], "--img-ids"),
]


@pytest.mark.parametrize("command", ["eval", "curves", "threshold", "sweep"])
@pytest.mark.parametrize(("flags", "flag"), BAD)
def test_bad_value_is_one_line_before_evaluating(command, flags, flag, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("evaluated despite a bad flag")

    monkeypatch.setattr(prcore, "evaluate", never)
    extra = ["--best-f1"] if command == "threshold" else []
    # The files do not exist either: the flag is refused before anything is read.
    assert main([command, "missing_gt.json", "missing_dt.json", *flags, *extra]) == 2
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert len(err) == 1 and err[0].startswith("prcore: error: "), captured.err
    assert f"argument {flag}:" in err[0]
    assert captured.out == ""


@pytest.mark.parametrize("thresholds", ["0.1,abc", "0.1,,0.5", "", "nan", "0.1,inf", "0.5;0.7"])
def test_sweep_thresholds_checked_before_evaluating(thresholds, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("evaluated despite bad --thresholds")

    monkeypatch.setattr(prcore, "evaluate", never)
    assert main(["sweep", "missing_gt.json", "missing_dt.json", "--thresholds", thresholds]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("prcore: error: ")
    assert "argument --thresholds:" in err[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["curves", "--iou-thrs", "0.75"], "--iou 0.5 is not among the evaluated IoU thresholds"),
        (["threshold", "--best-f1", "--iou", "0.52"], "--iou 0.52 is not among"),
        (["curves", "--area-rng", "small=0:1024"], "--area 'all' is not among the area ranges"),
        (["threshold", "--best-f1", "--area", "huge"], "--area 'huge' is not among"),
        (["curves", "--no-cats", "--class", "car"], "--class needs per-category evaluation"),
    ],
)
def test_unreadable_view_refused_before_evaluating(argv, message, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("evaluated although the view cannot be read")

    monkeypatch.setattr(prcore, "evaluate", never)
    assert main([argv[0], "missing_gt.json", "missing_dt.json", *argv[1:]]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"prcore: error: {message}"), err


def test_eval_without_iou_half_or_area_all(capsys):
    """The truncation note reads an IoU and the area "all" only where they were evaluated."""
    gt, dt = (str(p) for p in example_paths())
    assert main(["eval", gt, dt, "--iou-thrs", "0.75,0.9"]) == 0
    out = capsys.readouterr().out
    assert "at IoU=0.75" in out  # the bundled example stops at 0.05: truncated
    assert main(["eval", gt, dt, "--area-rng", "small=0:1024,large=1024:1e10"]) == 0
    out = capsys.readouterr().out
    assert "truncated" not in out and "area= small" in out
