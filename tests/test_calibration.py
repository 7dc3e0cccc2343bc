"""Score calibration: reliability bins, ECE and MCE of hand-built detections."""

from __future__ import annotations

import numpy as np
import pytest
from test_oracle_generated import generate

import prcore

CATS = [{"id": 1, "name": "a"}, {"id": 5, "name": "b"}]


def box(i):
    return [20.0 * i, 0.0, 10.0, 10.0]


def det(cat, b, score, img=100):
    return {"image_id": img, "category_id": cat, "bbox": b, "score": score}


# Six a objects and two b objects, side by side on one image, and one crowd.
GT = {
    "images": [{"id": 100}],
    "categories": CATS,
    "annotations": [
        {
            "id": i + 1,
            "image_id": 100,
            "category_id": 1 if i < 6 else 5,
            "bbox": box(i),
            "area": 100.0,
            "iscrowd": 0,
        }
        for i in range(8)
    ]
    + [
        {
            "id": 9,
            "image_id": 100,
            "category_id": 1,
            "bbox": [0.0, 100.0, 50.0, 50.0],
            "area": 2500.0,
            "iscrowd": 1,
        }
    ],
}
FAR = [0.0, 500.0, 10.0, 10.0]  # on nothing: a false positive
DETS = [
    det(1, box(0), 0.95),  # TP
    det(1, box(1), 0.85),  # TP
    det(1, FAR, 0.9),  # FP
    det(1, box(2), 0.6),  # TP
    det(1, FAR, 0.55),  # FP
    det(1, FAR, 0.05),  # FP
    det(1, [10.0, 110.0, 10.0, 10.0], 0.5),  # on the crowd: ignored
    det(5, box(6), 1.0),  # TP, score exactly 1: the last bin
    det(5, FAR, 0.0),  # FP, score exactly 0: the first bin
]


@pytest.fixture(scope="module")
def result():
    return prcore.evaluate(GT, DETS)


def test_pooled_bins_written_out(result):
    cal = result.calibration(bins=4)
    np.testing.assert_array_equal(cal.edges, [0, 0.25, 0.5, 0.75, 1])
    c = cal.pooled
    assert c.category_id is None and c.category_name == "all classes"
    # bins: [0,.25): .05 FP, 0 FP; [.25,.5): none; [.5,.75): .6 TP, .55 FP (the .5 on
    # the crowd is ignored); [.75,1]: .95 TP, .85 TP, .9 FP, 1.0 TP
    np.testing.assert_array_equal(c.counts, [2, 0, 2, 4])
    np.testing.assert_array_equal(c.true_positives, [0, 0, 1, 3])
    np.testing.assert_allclose(c.mean_score, [0.025, np.nan, 0.575, 0.925], rtol=0, atol=1e-15)
    np.testing.assert_allclose(c.precision, [0, np.nan, 0.5, 0.75], rtol=0, atol=0)
    # ECE = 2/8 * .025 + 2/8 * .075 + 4/8 * .175 ; MCE = .175
    assert c.ece == pytest.approx(0.25 * 0.025 + 0.25 * 0.075 + 0.5 * 0.175, abs=1e-15)
    assert c.mce == pytest.approx(0.175, abs=1e-15)
    assert cal.ece == c.ece and cal.mce == c.mce and c.n_detections == 8


def test_per_class_bins_written_out(result):
    cal = result.calibration(bins=2)
    a, b = cal.per_class
    assert (a.category_id, a.category_name, b.category_name) == (1, "a", "b")
    # a: [0,.5): .05 FP; [.5,1]: .95 .85 .6 TP, .9 .55 FP
    np.testing.assert_array_equal(a.counts, [1, 5])
    np.testing.assert_allclose(a.mean_score, [0.05, (0.95 + 0.85 + 0.6 + 0.9 + 0.55) / 5])
    np.testing.assert_allclose(a.precision, [0, 0.6])
    assert a.ece == pytest.approx(1 / 6 * 0.05 + 5 / 6 * abs(0.6 - 0.77), abs=1e-15)
    # b: 0 FP in the first bin, 1.0 TP in the last: perfectly calibrated
    np.testing.assert_array_equal(b.counts, [1, 1])
    assert b.ece == 0 and b.mce == 0
    assert cal.curve("b") is b and cal.curve(5) is b and cal.curve("5") is b
    assert cal.curve() is cal.pooled


def test_stricter_iou_turns_loose_boxes_into_false_positives():
    dets = [det(1, [0.0, 0.0, 10.0, 7.0], 0.8)]  # IoU 0.7 with a's first object
    r = prcore.evaluate(GT, dets)
    assert r.calibration(iou=0.5, bins=1).pooled.true_positives.tolist() == [1]
    assert r.calibration(iou=0.75, bins=1).pooled.true_positives.tolist() == [0]


def test_max_dets_and_area(result):
    # maxDets=1 keeps the best of each image and category: a's .95 TP, b's 1.0 TP
    one = result.calibration(bins=1, max_dets=1).pooled
    assert one.counts.tolist() == [2] and one.true_positives.tolist() == [2]
    # the objects are small (area 100): every TP counts at "small" too
    assert result.calibration(area="small").pooled.true_positives.sum() == 4


def test_empty_bins_and_no_detections():
    r = prcore.evaluate(GT, [])
    c = r.calibration().pooled
    assert c.counts.sum() == 0 and np.isnan(c.ece) and np.isnan(c.mce)
    assert np.isnan(c.precision).all()
    assert c.to_dict()["ece"] is None


def test_scores_outside_0_1_are_refused():
    r = prcore.evaluate(GT, [det(1, box(0), 3.5), det(1, FAR, -1.0)])
    with pytest.raises(prcore.PrcoreInputError) as info:
        r.calibration()
    assert info.value.field == "score" and "2 detections" in str(info.value)


def test_bad_arguments_name_their_field(result):
    for kw, name in (
        ({"bins": 0}, "bins"),
        ({"bins": 2.5}, "bins"),
        ({"bins": True}, "bins"),
        ({"iou": 0.52}, "iou"),  # not an evaluated threshold
        ({"area": "huge"}, "area"),
        ({"max_dets": 3}, "max_dets"),
    ):
        with pytest.raises(prcore.PrcoreInputError) as info:
            result.calibration(**kw)
        assert info.value.field == name
    with pytest.raises(prcore.PrcoreInputError) as info:
        result.calibration().curve("zebra")
    assert info.value.field == "category"


def test_text_and_dict(result):
    cal = result.calibration(bins=4)
    text = cal.to_text()
    assert "ECE 0.113" in text and "[0.75, 1.00]" in text and "[0.00, 0.25)" in text
    assert text.splitlines()[-1].startswith("b ")  # the per-class table follows
    d = cal.to_dict()
    assert d["bin_edges"] == [0, 0.25, 0.5, 0.75, 1]
    assert d["pooled"]["counts"] == [2, 0, 2, 4] and d["pooled"]["precision"][1] is None
    assert [c["name"] for c in d["per_class"]] == ["a", "b"]


def test_pooled_is_the_classes_together_on_generated_data():
    r = prcore.evaluate(*generate(3, n_img=60, n_cat=6))
    cal = r.calibration(bins=10)
    counts = sum(c.counts for c in cal.per_class)
    tps = sum(c.true_positives for c in cal.per_class)
    np.testing.assert_array_equal(cal.pooled.counts, counts)
    np.testing.assert_array_equal(cal.pooled.true_positives, tps)
    pooled = r.curve(None)
    assert cal.pooled.true_positives.sum() == pooled.tp[0]
    assert cal.pooled.counts.sum() == pooled.tp[0] + pooled.fp[0]
    assert 0 < cal.ece < 1


def test_command_line(tmp_path, capsys):
    import json

    from prcore.cli import main

    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    gt.write_text(json.dumps(GT))
    dt.write_text(json.dumps(DETS))
    out = tmp_path / "cal.json"
    assert main(["calibration", str(gt), str(dt), "--bins", "4", "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == prcore.evaluate(GT, DETS).calibration(bins=4).to_dict()
    assert "ECE 0.113" in capsys.readouterr().out
    assert main(["calibration", str(gt), str(dt), "--class", "b", "--bins", "2"]) == 0
    assert capsys.readouterr().out.startswith("Calibration of b ")
    logits = tmp_path / "logits.json"
    logits.write_text(json.dumps([det(1, box(0), 3.5)]))
    for args in (
        [str(dt), "--class", "zebra"],
        [str(dt), "--bins", "0"],
        [str(dt), "--iou", "0.52"],
        [str(logits)],
    ):
        target = tmp_path / "bad.json"
        assert main(["calibration", str(gt), *args, "--json", str(target)]) == 2
        assert not target.exists()
        err = capsys.readouterr().err
        assert err.startswith("prcore: error:") and err.count("\n") == 1


def test_agrees_with_pycocotools_matches_on_generated_data():
    """Bins, ECE and MCE from pycocotools' own ``evalImgs`` (IoU .5, area all,
    maxDets 100), counted plainly."""
    from pycocotools_oracle import run_pycocotools

    gt, dets = generate(4, n_img=40, n_cat=5)
    ev = run_pycocotools(gt, dets, summarize=False)
    scores, tps = [], []
    n_area, n_img = len(ev.params.areaRng), len(ev.params.imgIds)
    for k in range(len(ev.params.catIds)):
        for i in range(n_img):
            e = ev.evalImgs[k * n_area * n_img + i]  # area "all" is the first
            if e is None:
                continue
            for r in range(len(e["dtIds"])):
                if not e["dtIgnore"][0, r]:
                    scores.append(e["dtScores"][r])
                    tps.append(bool(e["dtMatches"][0, r]))
    scores, tps = np.array(scores), np.array(tps)
    inner = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    b = (scores[:, None] >= inner).sum(1)  # a score on an edge opens the next bin
    assert np.isin(scores, inner).any()  # and some do, here
    counts = np.bincount(b, minlength=10)
    precision = np.bincount(b, tps, 10) / counts
    mean_score = np.bincount(b, scores, 10) / counts
    gap = np.abs(precision - mean_score)
    cal = prcore.evaluate(gt, dets).calibration()
    np.testing.assert_array_equal(cal.pooled.counts, counts)
    np.testing.assert_allclose(cal.pooled.precision, precision, rtol=0, atol=1e-15)
    np.testing.assert_allclose(cal.pooled.mean_score, mean_score, rtol=1e-14)
    assert cal.ece == pytest.approx(np.sum(counts / counts.sum() * gap), rel=1e-12)
    assert cal.mce == pytest.approx(gap.max(), rel=1e-12)


def test_a_score_on_an_edge_opens_the_next_bin():
    dets = [det(1, box(0), 0.3), det(1, box(1), 0.6), det(1, box(2), 0.7), det(1, FAR, 0.1)]
    c = prcore.evaluate(GT, dets).calibration(bins=10).pooled
    np.testing.assert_array_equal(c.counts, [0, 1, 0, 1, 0, 0, 1, 1, 0, 0])
