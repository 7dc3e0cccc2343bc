"""Operating points at score thresholds, and thresholds files.

Hand-built cases with the counts written out; agreement with the raw curves
and the threshold picks; and counts recounted from pycocotools' own per-image
matches (``evalImgs``) on generated data.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_oracle_generated import generate
from test_oracle_property import datasets

import prcore
from prcore.cli import main
from prcore.operating import (
    THRESHOLDS_FORMAT,
    ScoreThresholds,
    read_thresholds,
    thresholds_from_dict,
)
from pycocotools_oracle import run_pycocotools


def _box(i, img, cat, bbox, crowd=0):
    return {
        "id": i, "image_id": img, "category_id": cat, "bbox": bbox,
        "area": float(bbox[2] * bbox[3]), "iscrowd": crowd,
    }  # fmt: skip


def small():
    """One image; 'cat' has two ground truths, 'dog' one and a crowd, 'bird' nothing.

    Detections (ids 1-8): cat 0.9 TP (gt 1), cat 0.8 FP (duplicate of gt 1),
    cat 0.3 TP (gt 2), cat 0.6 FP (background); dog 0.7 TP (gt 3), dog 0.95 and
    0.5 ignored (inside the crowd), dog 0.4 FP.
    """
    gt = {
        "images": [{"id": 1, "width": 100, "height": 100}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"},
                       {"id": 3, "name": "bird"}],
        "annotations": [
            _box(1, 1, 1, [0, 0, 10, 10]),
            _box(2, 1, 1, [50, 50, 10, 10]),
            _box(3, 1, 2, [0, 0, 20, 20]),
            _box(4, 1, 2, [60, 60, 30, 30], crowd=1),
        ],
    }  # fmt: skip
    dets = [
        {"image_id": 1, "category_id": c, "bbox": b, "score": s}
        for c, b, s in [
            (1, [0, 0, 10, 10], 0.9),
            (1, [0, 0, 10, 10], 0.8),
            (1, [50, 50, 10, 10], 0.3),
            (1, [30, 30, 10, 10], 0.6),
            (2, [0, 0, 20, 20], 0.7),
            (2, [60, 60, 30, 30], 0.95),
            (2, [82, 82, 10, 10], 0.5),
            (2, [0, 50, 10, 10], 0.4),
        ]
    ]
    return gt, dets


@pytest.fixture(scope="module")
def small_result():
    return prcore.evaluate(*small())


def _counts(point):
    return (point.tp, point.fp, point.fn, point.ignored, point.n_gt)


def _ratios(point):
    return (point.precision, point.recall, point.f1)


def test_one_threshold_written_out(small_result):
    report = small_result.at_threshold(0.5)
    cat, dog, bird = report.per_class
    assert (cat.category_name, dog.category_id, bird.category_name) == ("cat", 2, "bird")
    assert _counts(cat) == (1, 2, 1, 0, 2)  # 0.9 TP, 0.8 and 0.6 FP; 0.3 is below
    assert _ratios(cat) == (1 / 3, 0.5, 2 / 5)
    assert _counts(dog) == (1, 0, 0, 2, 1)  # 0.95 and 0.5 inside the crowd: ignored
    assert _ratios(dog) == (1.0, 1.0, 1.0)
    assert _counts(bird) == (0, 0, 0, 0, 0)
    assert all(math.isnan(x) for x in _ratios(bird))  # nothing kept, nothing to find
    assert _counts(report.pooled) == (2, 2, 1, 2, 3)
    assert _ratios(report.pooled) == (0.5, 2 / 3, 4 / 7)
    assert report.pooled.threshold == 0.5 and report.pooled.note is None
    assert (report.iou, report.area, report.max_dets) == (0.5, "all", 100)


def test_per_class_thresholds_written_out(small_result):
    report = small_result.at_threshold({"cat": 0.25, 2: 0.8, "bird": None})
    cat, dog, bird = report.per_class
    assert (cat.threshold, dog.threshold, bird.threshold) == (0.25, 0.8, None)
    assert _counts(cat) == (2, 2, 0, 0, 2)
    assert _ratios(cat) == (0.5, 1.0, 2 / 3)
    assert _counts(dog) == (0, 0, 1, 1, 1)  # only the crowd's 0.95 kept
    assert math.isnan(dog.precision) and (dog.recall, dog.f1) == (0.0, 0.0)
    assert bird.note == "no threshold given"
    # the pooled row sums the classes that have a threshold
    assert _counts(report.pooled) == (2, 2, 1, 1, 3)
    assert report.pooled.threshold is None
    assert "1 class(es) without one left out" in report.pooled.note


def test_classes_left_out_of_a_mapping(small_result):
    report = small_result.at_threshold({"1": 0.5})  # a digit string that is no name: an id
    cat, dog, bird = report.per_class
    assert _counts(cat) == (1, 2, 1, 0, 2)
    assert dog.threshold is None and dog.note == "not among the thresholds"
    assert _counts(dog) == (0, 0, 0, 0, 1) and all(math.isnan(x) for x in _ratios(dog))
    assert _counts(report.pooled) == _counts(cat)
    with_default = small_result.at_threshold({"cat": 0.5}, default=0.5)
    assert with_default.to_dict() == small_result.at_threshold(0.5).to_dict()


def test_area_and_max_dets_written_out(small_result):
    # maxDets 1: each (image, category) keeps its best detection only
    cat, dog, _ = small_result.at_threshold(0.5, max_dets=1).per_class
    assert _counts(cat) == (1, 0, 1, 0, 2)
    assert _counts(dog) == (0, 0, 1, 1, 1)
    # every object is below 1024 px: 'medium' ignores them all
    cat, dog, _ = small_result.at_threshold(0.5, area="medium").per_class
    assert _counts(cat) == (0, 0, 0, 3, 0)
    assert _counts(dog) == (0, 0, 0, 3, 0)


def test_nothing_kept(small_result):
    report = small_result.at_threshold(0.99)
    assert _counts(report.per_class[0]) == (0, 0, 2, 0, 2)
    assert math.isnan(report.per_class[0].precision)
    assert (report.per_class[0].recall, report.per_class[0].f1) == (0.0, 0.0)


def test_no_ground_truth_or_no_detection():
    gt, dets = small()
    nothing = prcore.evaluate({**gt, "annotations": []}, dets).at_threshold(0.5).pooled
    assert _counts(nothing) == (0, 6, 0, 0, 0)  # all six kept are false positives
    assert (nothing.precision, nothing.f1) == (0.0, 0.0) and math.isnan(nothing.recall)
    none = prcore.evaluate(gt, []).at_threshold(0.5).pooled
    assert _counts(none) == (0, 0, 3, 0, 3)
    assert math.isnan(none.precision) and (none.recall, none.f1) == (0.0, 0.0)


def test_pooled_only(small_result):
    report = small_result.at_threshold(0.5, per_class=False)
    assert report.per_class == () and _counts(report.pooled) == (2, 2, 1, 2, 3)


def test_text_and_dict(small_result):
    report = small_result.at_threshold({"cat": 0.25, "dog": 0.8, "bird": None})
    text = report.to_text()
    lines = text.splitlines()
    assert lines[0] == "Operating points (IoU=0.5, area=all, maxDets=100)"
    assert lines[1].split()[:5] == ["class", "threshold", "TP", "FP", "FN"]
    assert lines[3].split()[:5] == ["cat", "0.2500", "2", "2", "0"]
    assert lines[-1].startswith("ALL (pooled)")
    d = report.to_dict()
    json.dumps(d, allow_nan=False)  # NaN ratios are None
    assert d["per_class"][1]["precision"] is None and d["per_class"][1]["recall"] == 0.0
    assert d["pooled"]["tp"] == 2 and d["max_dets"] == 100


def test_use_cats_off():
    gt, dets = small()
    result = prcore.evaluate(gt, dets, params=prcore.Params(use_cats=False))
    report = result.at_threshold(0.5)
    assert report.per_class == ()
    # any detection may match any ground truth: 0.95 and 0.5 fall in the crowd,
    # 0.9 takes gt 1, 0.7 gt 3, 0.8 and 0.6 find nothing free
    assert _counts(report.pooled) == (2, 2, 1, 2, 3)
    with pytest.raises(prcore.PrcoreInputError, match="use_cats"):
        result.at_threshold({"cat": 0.5})
    assert result.at_threshold(ScoreThresholds(shared=0.5)).to_dict() == report.to_dict()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"score": "0.5"}, "score"),
        ({"score": math.nan}, "score"),
        ({"score": True}, "score"),
        ({"score": {"zebra": 0.5}}, "score['zebra']"),
        ({"score": {99: 0.5}}, "score[99]"),
        ({"score": {"cat": 0.5, 1: 0.4}}, "score[1]"),
        ({"score": {"cat": "high"}}, "score['cat']"),
        ({"score": {"cat": 0.5}, "default": math.inf}, "default"),
        ({"score": 0.5, "area": "huge"}, "area"),
        ({"score": 0.5, "max_dets": 5}, "max_dets"),
        ({"score": 0.5, "iou": 1.5}, "iou"),
        ({"score": 0.5, "per_class": "yes"}, "per_class"),
    ],
    ids=str,
)
def test_bad_arguments_name_the_field(small_result, kwargs, field):
    with pytest.raises(prcore.PrcoreInputError) as info:
        small_result.at_threshold(**kwargs)
    assert info.value.field == field


# ---------------------------------------------------------------- generated data


@pytest.fixture(scope="module")
def data():
    return generate(21, n_img=80, n_cat=6)


@pytest.fixture(scope="module")
def result(data):
    return prcore.evaluate(*data)


@pytest.fixture(scope="module")
def oracle(data):
    return run_pycocotools(*data)


@pytest.mark.parametrize(("area", "max_dets"), [("all", None), ("small", 100), ("large", 10)])
def test_agrees_with_the_raw_curves(result, area, max_dets):
    """At each curve threshold, the counts are the curve's; between them, the next one's."""
    for iou in (0.5, 0.75):
        for cat in [None, *result.params.cat_ids]:
            curve = result.curve(cat, iou=iou, area=area, max_dets=max_dets)
            probes = np.r_[curve.thresholds, curve.thresholds[:-1] + np.diff(curve.thresholds) / 2]
            for thr in probes[:: max(1, len(probes) // 25)]:
                report = result.at_threshold(float(thr), iou=iou, area=area, max_dets=max_dets)
                point = report.pooled
                if cat is not None:
                    point = report.per_class[result.params.cat_ids.index(cat)]
                i = int(np.searchsorted(curve.thresholds, thr, side="left"))
                assert (point.tp, point.fp, point.n_gt) == (curve.tp[i], curve.fp[i], curve.n_gt)
                assert point.precision == curve.precision[i]
                assert point.recall == curve.recall[i] or point.n_gt == 0


def _oracle_counts(ev, thr: float, t: int, a: int, max_det: int) -> dict:
    """(TP, FP, FN, ignored) per category id from pycocotools' evalImgs, at score >= thr."""
    out = {}
    for e in ev.evalImgs:
        if e is None or e["aRng"] != ev.params.areaRng[a]:
            continue
        tp, fp, fn, ig = out.get(e["category_id"], (0, 0, 0, 0))
        npig = int(np.count_nonzero(e["gtIgnore"] == 0))
        kept = np.asarray(e["dtScores"][:max_det]) >= thr
        matched = e["dtMatches"][t, :max_det][kept] > 0
        ignored = e["dtIgnore"][t, :max_det][kept].astype(bool)
        n_tp = int(np.count_nonzero(matched & ~ignored))
        out[e["category_id"]] = (
            tp + n_tp,
            fp + int(np.count_nonzero(~matched & ~ignored)),
            fn + npig - n_tp,
            ig + int(np.count_nonzero(ignored)),
        )
    return out


@pytest.mark.parametrize("thr", [0.0, 0.2, 0.45, 0.7])
def test_counts_recount_pycocotools_matches(result, oracle, thr):
    params = result.params
    for t, iou in [(0, 0.5), (5, 0.75), (9, 0.95)]:
        for a, area in enumerate(params.area_rng_lbl):
            for max_det in params.max_dets:
                report = result.at_threshold(thr, iou=iou, area=area, max_dets=max_det)
                want = _oracle_counts(oracle, thr, t, a, max_det)
                got = {p.category_id: (p.tp, p.fp, p.fn, p.ignored) for p in report.per_class}
                assert got == {c: want.get(c, (0, 0, 0, 0)) for c in params.cat_ids}
                pooled = report.pooled
                assert (pooled.tp, pooled.fp, pooled.fn, pooled.ignored) == tuple(
                    np.sum(list(want.values()), axis=0)
                )


def test_per_class_thresholds_recount_pycocotools_matches(result, oracle):
    rng = np.random.default_rng(0)
    thr = {c: float(rng.uniform(0, 0.8)) for c in result.params.cat_ids}
    report = result.at_threshold(thr)
    for point in report.per_class:
        want = _oracle_counts(oracle, thr[point.category_id], 0, 0, 100)[point.category_id]
        assert (point.tp, point.fp, point.fn, point.ignored) == want
    assert report.pooled.tp == sum(p.tp for p in report.per_class)
    assert report.pooled.fn == sum(p.fn for p in report.per_class)


def test_an_iou_not_evaluated_is_matched_again(data, result):
    only = prcore.evaluate(*data, params=prcore.Params(iou_thrs=[0.55]))
    for thr in (0.1, 0.5):
        for kw in ({}, {"area": "small", "max_dets": 10}):
            want = result.at_threshold(thr, iou=0.5, **kw).to_dict()
            assert only.at_threshold(thr, iou=0.5, **kw).to_dict() == want
    assert result.at_threshold(0.3, iou=0.52).iou == 0.52


def test_use_cats_off_recounts_pycocotools(data):
    result = prcore.evaluate(*data, params=prcore.Params(use_cats=False))
    ev = run_pycocotools(*data, useCats=0)
    for thr in (0.1, 0.6):
        want = _oracle_counts(ev, thr, 0, 0, 100)[-1]
        p = result.at_threshold(thr).pooled
        assert (p.tp, p.fp, p.fn, p.ignored) == want


# ---------------------------------------------------------------- thresholds files


@pytest.mark.parametrize(
    "criterion", [{"min_precision": 0.6}, {"min_recall": 0.5}, {"best_f1": True}], ids=str
)
def test_picked_thresholds_give_the_picks_counts(result, tmp_path, criterion):
    """Written, read back and applied to the same data, the thresholds give the counts,
    precision, recall and F1 each pick reported."""
    picks = result.select_thresholds(**criterion)
    path = tmp_path / "t.json"
    path.write_text(ScoreThresholds.from_report(picks).to_json())
    thresholds = read_thresholds(path)
    assert thresholds.criterion == picks.criterion and thresholds.source == str(path)
    assert thresholds.shared == picks.shared.threshold
    assert dict(thresholds.per_class) == {p.category_name: p.threshold for p in picks.per_class}
    report = result.at_threshold(thresholds)
    assert report.source == str(path)
    for pick, point in zip(picks.per_class, report.per_class):
        assert point.threshold == pick.threshold
        if pick.threshold is None:
            assert point.note == "no threshold given"
            continue
        assert (point.tp, point.fp, point.n_gt) == (pick.tp, pick.fp, pick.n_gt)
        assert (point.precision, point.recall) == (pick.precision, pick.recall)
        assert point.f1 == pytest.approx(pick.f1, rel=1e-12)
    shared = result.at_threshold(picks.shared.threshold, per_class=False).pooled
    assert (shared.tp, shared.fp) == (picks.shared.tp, picks.shared.fp)


def test_thresholds_file_written_out(small_result):
    picks = small_result.select_thresholds(best_f1=True)
    data = json.loads(ScoreThresholds.from_report(picks).to_json())
    assert data == {
        "format": THRESHOLDS_FORMAT,
        "version": 1,
        "criterion": "best F1",
        "iou": 0.5,
        "area": "all",
        "max_dets": 100,
        "shared": 0.7,
        "per_class": {"cat": 0.9, "dog": 0.7, "bird": None},
    }


def test_repeated_names_are_keyed_by_id():
    gt, dets = small()
    gt["categories"][1]["name"] = "cat"
    result = prcore.evaluate(gt, dets)
    data = json.loads(ScoreThresholds.from_report(result.select_thresholds(best_f1=True)).to_json())
    assert list(data["per_class"]) == ["1", "2", "bird"]
    report = result.at_threshold(thresholds_from_dict(data))
    assert [p.threshold for p in report.per_class] == [0.9, 0.7, None]


def test_a_file_with_a_shared_threshold_only(small_result):
    report = small_result.at_threshold(thresholds_from_dict({"shared": 0.5}))
    assert report.to_dict() == small_result.at_threshold(0.5).to_dict()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ("[0.5]", "expected a JSON object of score thresholds, got list"),
        ('{"shared": 0.5, "per-class": {}}', "field 'per-class': unknown key"),
        ('{"format": "other", "shared": 0.5}', "field 'format': expected"),
        ('{"version": 2, "shared": 0.5}', "field 'version': expected 1"),
        ('{"criterion": "best F1"}', "found neither"),
        ('{"per_class": [0.5]}', "field 'per_class': expected an object"),
        ('{"per_class": {"cat": "0.5"}}', "field 'per_class.cat': expected a number"),
        ('{"per_class": {"cat": NaN}}', "field 'per_class.cat': expected a finite number"),
        ('{"shared": true}', "field 'shared': expected a number"),
        ('{"shared": 0.5, "max_dets": 1.5}', "field 'max_dets': expected an integer"),
    ],
)
def test_bad_thresholds_files_name_the_file_and_key(tmp_path, content, message):
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(prcore.PrcoreInputError) as info:
        read_thresholds(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_unknown_classes_in_a_file_name_the_file_and_key(small_result, tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"per_class": {"cat": 0.5, "zebra": 0.5}}')
    with pytest.raises(prcore.PrcoreInputError, match=r"t.json: field 'per_class.zebra'"):
        small_result.at_threshold(read_thresholds(path))
    with pytest.raises(prcore.PrcoreInputError, match="cannot read file"):
        read_thresholds(tmp_path / "missing.json")


# ---------------------------------------------------------------- command line


@pytest.fixture()
def files(tmp_path):
    gt, dets = small()
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    return str(tmp_path / "gt.json"), str(tmp_path / "dt.json")


def test_cli_at(files, small_result, capsys, tmp_path):
    out = tmp_path / "op.json"
    assert main(["threshold", *files, "--at", "0.5", "--json", str(out)]) == 0
    assert capsys.readouterr().out.strip() == small_result.at_threshold(0.5).to_text()
    assert json.loads(out.read_text()) == json.loads(
        json.dumps(small_result.at_threshold(0.5).to_dict())
    )
    assert main(["threshold", *files, "--at", "0.5", "--no-per-class", "--area", "small"]) == 0
    want = small_result.at_threshold(0.5, area="small", per_class=False).to_text()
    assert capsys.readouterr().out.strip() == want


def test_cli_writes_and_reads_thresholds(files, capsys, tmp_path):
    path = tmp_path / "t.json"
    assert main(["threshold", *files, "--best-f1", "--write-thresholds", str(path)]) == 0
    capsys.readouterr()
    assert json.loads(path.read_text())["per_class"] == {"cat": 0.9, "dog": 0.7, "bird": None}
    # on other data: one more false positive for 'cat' above its threshold
    gt, dets = small()
    dets.append({"image_id": 1, "category_id": 1, "bbox": [80, 0, 10, 10], "score": 0.95})
    (tmp_path / "dt2.json").write_text(json.dumps(dets))
    assert main(["threshold", files[0], str(tmp_path / "dt2.json"), "--thresholds-file",
                 str(path)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert f"thresholds from {path}" in text.splitlines()[0]
    assert text.splitlines()[3].split()[:5] == ["cat", "0.9000", "1", "1", "1"]
    assert main(["threshold", files[0], str(tmp_path / "dt2.json"), "--thresholds-file",
                 str(path), "--no-per-class"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[3].split()[:6] == ["ALL", "(pooled)", "0.7000", "2", "2", "1"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--at", "x"], "expected a finite number"),
        (["--at", "0.5", "--best-f1"], "not allowed with argument"),
        (["--at", "0.5", "--write-thresholds", "OUT"], "use it with --min-precision"),
        (["--best-f1", "--write-thresholds", "nowhere/t.json"], "does not exist"),
        (["--thresholds-file", "BAD"], "BAD: field 'per_class.zebra': unknown category"),
        (["--thresholds-file", "NOSHARED", "--no-per-class"], "field 'shared'"),
        (["--thresholds-file", "MISSING"], "cannot read file"),
    ],
)
def test_cli_errors_write_nothing(files, tmp_path, capsys, extra, message):
    (tmp_path / "BAD").write_text('{"per_class": {"zebra": 0.5}}')
    (tmp_path / "NOSHARED").write_text('{"per_class": {"cat": 0.5}}')
    extra = [str(tmp_path / x) if x in ("OUT", "BAD", "NOSHARED", "MISSING") else x for x in extra]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["threshold", *files, *extra, "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_cli_reads_the_thresholds_file_before_evaluating(tmp_path, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("evaluated despite a bad thresholds file")

    monkeypatch.setattr(prcore, "evaluate", never)
    bad = tmp_path / "t.json"
    bad.write_text('{"shared": "high"}')
    assert main(["threshold", "gt.json", "dt.json", "--thresholds-file", str(bad)]) == 2
    assert f"{bad}: field 'shared': expected a number" in capsys.readouterr().err


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(datasets(), st.floats(0, 1), st.sampled_from([1, 2, 100]))
def test_random_datasets(data, thr, max_det):
    """Small random datasets (equal IoUs, crowds, area bounds, tied scores): the counts
    recount pycocotools' evalImgs at every IoU threshold and area range."""
    gt, dets = data
    assume(dets)  # pycocotools' loadRes fails on an empty list
    result = prcore.evaluate(gt, dets, params=prcore.Params(max_dets=[1, 2, 100]))
    ev = run_pycocotools(gt, dets, summarize=False, maxDets=[1, 2, 100])
    for t, iou in enumerate(result.params.iou_thrs[::3]):
        for a, area in enumerate(result.params.area_rng_lbl):
            report = result.at_threshold(thr, iou=iou, area=area, max_dets=max_det)
            want = _oracle_counts(ev, thr, 3 * t, a, max_det)
            got = {p.category_id: (p.tp, p.fp, p.fn, p.ignored) for p in report.per_class}
            assert got == {c: want.get(c, (0, 0, 0, 0)) for c in result.params.cat_ids}
