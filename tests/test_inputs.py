"""Honest errors: every bad input names the file, the record and the field;
the CLI prints one line, exits 2 and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest

import prcore
from prcore.io.load import load_ground_truth

GT = {
    "images": [{"id": 1}, {"id": 2}],
    "annotations": [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 3,
            "bbox": [0, 0, 10, 10],
            "area": 100,
            "iscrowd": 0,
        },
        {
            "id": 2,
            "image_id": 2,
            "category_id": 3,
            "bbox": [5, 5, 10, 10],
            "area": 100,
            "iscrowd": 0,
        },
    ],
    "categories": [{"id": 3, "name": "cat"}, {"id": 4, "name": "dog"}],
}
DET = {"image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.9}


def dets_with(**change):
    bad = dict(DET)
    bad.update(change)
    for k in [k for k, v in change.items() if v is ...]:
        del bad[k]
    return [dict(DET), bad]


def gt_with(section, index, **change):
    gt = json.loads(json.dumps(GT))
    rec = gt[section][index]
    rec.update(change)
    for k in [k for k, v in change.items() if v is ...]:
        del rec[k]
    return gt


DET_CASES = [
    ("missing field", dets_with(score=...), "score", "missing"),
    ("string id", dets_with(image_id="1"), "image_id", "integer"),
    ("bool id", dets_with(category_id=True), "category_id", "integer"),
    ("float id", dets_with(image_id=1.0), "image_id", "integer"),
    ("bbox of 3", dets_with(bbox=[1, 2, 3]), "bbox", "4 numbers"),
    ("bbox not a list", dets_with(bbox="0 0 1 1"), "bbox", "4 numbers"),
    ("negative width", dets_with(bbox=[0, 0, -1, 5]), "bbox", ">= 0"),
    ("NaN bbox", dets_with(bbox=[0, float("nan"), 1, 1]), "bbox", "finite"),
    ("inf score", dets_with(score=float("inf")), "score", "finite"),
    ("null score", dets_with(score=None), "score", "number"),
    ("unknown image", dets_with(image_id=99), "image_id", "not in the ground truth"),
    ("unknown category", dets_with(category_id=1), "category_id", "label map"),
]


@pytest.mark.parametrize("name,dets,field,words", DET_CASES, ids=[c[0] for c in DET_CASES])
def test_detection_errors_name_record_and_field(tmp_path, name, dets, field, words):
    for source in (dets, tmp_path / "dt.json"):
        if not isinstance(source, list):
            source.write_text(json.dumps(dets))  # NaN/inf written as JSON NaN/Infinity
        with pytest.raises(prcore.PrcoreInputError) as err:
            prcore.evaluate(GT, source)
        msg = str(err.value)
        assert "record 1" in msg and f"field '{field}'" in msg and words in msg, msg
        if not isinstance(source, list):
            assert str(source) in msg


GT_CASES = [
    ("duplicate image id", gt_with("images", 1, id=1), "duplicate image id"),
    ("duplicate annotation id", gt_with("annotations", 1, id=1), "duplicate annotation id"),
    ("iscrowd 2", gt_with("annotations", 1, iscrowd=2), "0 or 1"),
    ("negative height", gt_with("annotations", 0, bbox=[0, 0, 1, -1]), ">= 0"),
    ("area NaN", gt_with("annotations", 0, area=float("nan")), "finite"),
    ("negative area", gt_with("annotations", 0, area=-3), ">= 0"),
    ("unknown image", gt_with("annotations", 1, image_id=7), "not in 'images'"),
    ("unknown category", gt_with("annotations", 1, category_id=9), "not in 'categories'"),
    ("string category id", gt_with("categories", 0, id="3"), "integer"),
    ("no images", {**GT, "images": []}, "no images"),
    ("images not a list", {**GT, "images": {}}, "JSON array"),
]


@pytest.mark.parametrize("name,gt,words", GT_CASES, ids=[c[0] for c in GT_CASES])
def test_ground_truth_errors(tmp_path, name, gt, words):
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    for source in (gt, path):
        with pytest.raises(prcore.PrcoreInputError) as err:
            prcore.evaluate(source, [])
        assert words in str(err.value), str(err.value)


@pytest.mark.parametrize(
    "content,words",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b'[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1', "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b'{"image_id": 1}', "JSON array"),
        (b"[1, 2]", "JSON object"),
    ],
)
def test_broken_files(tmp_path, content, words):
    path = tmp_path / "dt.json"
    path.write_bytes(content)
    with pytest.raises(prcore.PrcoreInputError) as err:
        prcore.evaluate(GT, path)
    assert words in str(err.value) and str(path) in str(err.value)


def test_missing_file():
    with pytest.raises(prcore.PrcoreInputError, match="cannot read"):
        prcore.evaluate(GT, "/no/such/file.json")


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_the_ground_truths_error_comes_first(tmp_path, iou_type):
    """The results file is read while the ground truth loads; when both are bad, the
    error is still the ground truth's, as when they are read one after the other."""
    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    gt.write_bytes(b'{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1')
    dt.write_bytes(b"[{not json")
    with pytest.raises(prcore.PrcoreInputError) as err:
        prcore.evaluate(gt, dt, iou_type=iou_type)
    assert str(gt) in str(err.value) and str(dt) not in str(err.value)
    gt.write_text(json.dumps(GT))
    with pytest.raises(prcore.PrcoreInputError, match="not valid JSON") as err:
        prcore.evaluate(gt, dt)
    assert str(dt) in str(err.value)


def test_quirk_warnings():
    gt = gt_with("annotations", 0, id=0, ignore=1)
    with pytest.warns(prcore.PrcoreWarning) as record:
        prcore.evaluate(gt, [DET, {**DET, "category_id": 4}])
    text = " ".join(str(w.message) for w in record)
    assert "id 0" in text and "'ignore'" in text and "no ground truth" in text


def test_empty_detection_list_is_valid(tmp_path):
    path = tmp_path / "dt.json"
    path.write_text("[]")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = prcore.evaluate(GT, path)
    assert result.stats[0] == 0.0


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "prcore", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize(
    "bad", [b"", b"[{]", b'[{"image_id": 1, "category_id": 3, "bbox": [0,0,1,-1], "score": 1}]']
)
def test_cli_one_line_exit_2_nothing_written(tmp_path, bad):
    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    gt.write_text(json.dumps(GT))
    dt.write_bytes(bad)
    out, npz = tmp_path / "out.json", tmp_path / "out.npz"
    proc = _cli("eval", gt, dt, "--json", out, "--arrays", npz)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("prcore: error: "), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not out.exists() and not npz.exists()
    assert list(tmp_path.iterdir()) == [gt, dt] or sorted(tmp_path.iterdir()) == sorted([gt, dt])


def test_cli_usage_errors_are_one_line():
    proc = _cli("threshold", "a.json", "b.json")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = _cli("frobnicate")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_named_pipes_are_read_once(tmp_path):
    """Files that cannot be memory-mapped (a FIFO, a shell's <(...)) are read once, and the
    general path reuses those bytes (here it must: an escaped key makes the scanner decline)."""
    import os
    import threading

    dets = [{"image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.9}]
    text = json.dumps(dets).replace('"score"', '"not\\u00e9": 1, "score"')
    want = prcore.evaluate(GT, json.loads(text)).stats
    paths = {}
    for name, content in (("gt", json.dumps(GT)), ("dt", text)):
        paths[name] = str(tmp_path / name)
        os.mkfifo(paths[name])

        def feed(path=paths[name], content=content):
            with open(path, "w") as f:
                f.write(content)

        threading.Thread(target=feed, daemon=True).start()
    got = []  # in a thread: a second open of a FIFO would block forever, not fail
    worker = threading.Thread(
        target=lambda: got.append(prcore.evaluate(paths["gt"], paths["dt"]).stats), daemon=True
    )
    worker.start()
    worker.join(60)
    assert got and got[0].tolist() == want.tolist()


def test_image_info_file_is_not_a_ground_truth(tmp_path):
    """image_info_test2017.json has images and categories but no annotations: evaluating
    against it would report every class as absent, so it is refused, by file or by dict
    (pycocotools' COCO still reads one, and so does prcore.coco.COCO)."""
    info = {"info": {"year": 2017}, "images": GT["images"], "categories": GT["categories"]}
    path = tmp_path / "image_info_test2017.json"
    path.write_text(json.dumps(info))
    for source in (info, path):
        with pytest.raises(prcore.PrcoreInputError) as err:
            prcore.evaluate(source, [DET])
        msg = str(err.value)
        assert "'annotations' is missing" in msg and "image-info file" in msg, msg
    assert str(path) in msg
    proc = _cli("eval", path, tmp_path / "dt.json")
    assert proc.returncode == 2 and "image-info file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    with pytest.warns(prcore.PrcoreWarning, match="no ground truth"):  # an empty one runs
        assert prcore.evaluate({**info, "annotations": []}, [DET]).stats[0] == -1.0


def test_missing_area_is_width_times_height(tmp_path):
    gt = gt_with("annotations", 0, area=...)
    gt["annotations"][1]["area"] = None
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    for source in (gt, path):
        with pytest.warns(prcore.PrcoreWarning, match=r"2 annotation\(s\) have no 'area'"):
            loaded = load_ground_truth(source)
        assert loaded.ann_area.tolist() == [100.0, 100.0]


@pytest.mark.parametrize(
    "dets,field,words",
    [
        (dets_with(image_id=2**63), "image_id", "within int64"),
        (dets_with(bbox=[0, 0, 10**400, 1]), "bbox", "finite, got inf"),
        (dets_with(score=-(10**400)), "score", "finite, got -inf"),
    ],
    ids=["id beyond int64", "integer beyond a double", "negative integer beyond a double"],
)
def test_numbers_beyond_the_columns_types(tmp_path, dets, field, words):
    path = tmp_path / "dt.json"
    path.write_text(json.dumps(dets))
    for source in (dets, path):
        with pytest.raises(prcore.PrcoreInputError) as err:
            prcore.evaluate(GT, source)
        msg = str(err.value)
        assert "record 1" in msg and f"field '{field}'" in msg and words in msg, msg
