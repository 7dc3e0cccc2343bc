"""Larger generated datasets: prcore equal to pycocotools array for array,
through every entry point (objects, files, the drop-in facade, the CLI arrays)."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO as RefCOCO
from pycocotools.cocoeval import COCOeval as RefCOCOeval

import prcore
from prcore.cli import main
from prcore.coco import COCO
from prcore.cocoeval import COCOeval
from pycocotools_oracle import assert_same, run_pycocotools


def generate(seed: int, n_img: int = 300, n_cat: int = 20):
    """COCO-like data: skewed object counts and sizes, ~1% crowd, detector-like results.

    Ground-truth boxes have two decimals, as COCO's; detections near them are float32
    values written as doubles, as detectors write them; the rest are any doubles.
    """
    rng = np.random.default_rng(seed)
    cat_ids = np.sort(rng.choice(np.arange(1, 91), n_cat, replace=False))
    cats = [{"id": int(c), "name": f"class_{c}"} for c in cat_ids]
    images = [
        {"id": int(i), "width": 640, "height": 480}
        for i in rng.choice(np.arange(1, 10**6), n_img, replace=False)
    ]
    anns, dets = [], []
    for im in images:
        for _ in range(int(rng.poisson(7))):
            side = float(np.exp(rng.uniform(np.log(4), np.log(400))))
            w, h = side * rng.uniform(0.6, 1.4), side * rng.uniform(0.6, 1.4)
            x, y = rng.uniform(0, 600), rng.uniform(0, 440)
            cat = int(rng.choice(cat_ids))
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": im["id"],
                    "category_id": cat,
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "area": float(w * h * rng.uniform(0.5, 0.9)),
                    "iscrowd": int(rng.random() < 0.01),
                }
            )
            for _ in range(int(rng.integers(0, 4))):
                j = rng.normal(0, 0.12, 4)
                dets.append(
                    {
                        "image_id": im["id"],
                        "category_id": cat if rng.random() < 0.85 else int(rng.choice(cat_ids)),
                        # float32 values, as a detector's output tensor holds them
                        "bbox": np.array(
                            [x + j[0] * w, y + j[1] * h, w * np.exp(j[2]), h * np.exp(j[3])],
                            np.float32,
                        ).tolist(),
                        "score": float(np.float32(rng.beta(2, 2))),
                    }
                )
        for _ in range(int(rng.poisson(20))):
            dets.append(
                {
                    "image_id": im["id"],
                    "category_id": int(rng.choice(cat_ids)),
                    "bbox": [
                        rng.uniform(0, 600),
                        rng.uniform(0, 440),
                        rng.uniform(2, 200),
                        rng.uniform(2, 200),
                    ],
                    "score": float(np.round(rng.beta(1, 4), 2)),
                }
            )
    return {"images": images, "annotations": anns, "categories": cats}, dets


@pytest.fixture(scope="module")
def data():
    return generate(11)


@pytest.fixture(scope="module")
def oracle(data):
    return run_pycocotools(*data)


def test_objects(data, oracle):
    assert len(data[1]) > 5000
    assert_same(prcore.evaluate(*data), oracle)


def test_files_take_the_same_numbers(tmp_path, data, oracle):
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(data[0]))
    dt_path.write_text(json.dumps(data[1]))
    assert_same(prcore.evaluate(gt_path, dt_path), oracle)


def test_drop_in_facade(tmp_path, data, oracle):
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(data[0]))
    dt_path.write_text(json.dumps(data[1]))
    out = []
    for coco_cls, eval_cls in ((RefCOCO, RefCOCOeval), (COCO, COCOeval)):
        with contextlib.redirect_stdout(io.StringIO()) as text:
            gt = coco_cls(str(gt_path))
            dt = gt.loadRes(str(dt_path))
            ev = eval_cls(gt, dt, "bbox")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        out.append((ev, [ln for ln in text.getvalue().splitlines() if ln.startswith(" Average")]))
    (ref, ref_lines), (ours, our_lines) = out
    assert our_lines == ref_lines
    np.testing.assert_array_equal(ours.stats, ref.stats)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], ref.eval[key])
    # pycocotools-style index access works on column-backed results
    assert len(dt.anns) == len(data[1]) and dt.loadAnns([1])[0]["id"] == 1


def test_cli_summary_and_arrays(tmp_path, data, oracle, capsys):
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(data[0]))
    dt_path.write_text(json.dumps(data[1]))
    out_json, out_npz = tmp_path / "r.json", tmp_path / "r.npz"
    assert (
        main(
            ["eval", str(gt_path), str(dt_path), "--json", str(out_json), "--arrays", str(out_npz)]
        )
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    with contextlib.redirect_stdout(io.StringIO()) as text:
        oracle.summarize()
    assert printed[:12] == text.getvalue().splitlines()
    arrays = np.load(out_npz)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(arrays[key], oracle.eval[key])
    report = json.loads(out_json.read_text())
    np.testing.assert_allclose(report["stats"], oracle.stats, rtol=0, atol=1e-12)
    assert len(report["per_class"]) == len(data[0]["categories"])
    assert report["params"]["max_dets"] == [1, 10, 100]


@pytest.mark.parametrize("seed", [1, 2])
def test_use_cats_off_and_subsets(seed):
    gt, dets = generate(seed, n_img=120, n_cat=8)
    img_ids = sorted(im["id"] for im in gt["images"])[::2]
    ev = run_pycocotools(gt, dets, useCats=0, imgIds=img_ids)
    result = prcore.evaluate(gt, dets, params=prcore.Params(use_cats=False, img_ids=img_ids))
    assert_same(result, ev)
