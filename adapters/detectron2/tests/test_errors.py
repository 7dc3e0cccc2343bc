"""Bad input: one line on stderr, exit status 2, no results file left behind."""

from __future__ import annotations

import json
import os
import shutil

import pytest

pytest.importorskip("torch")
pytest.importorskip("detectron2")

from prcore_detectron2.cli import main  # noqa: E402


def _fails(args, capsys, needle):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("prcore-detectron2: error: ")
    assert needle in err[0], err[0]


def _swap(args, flag, value):
    args = list(args)
    args[args.index(flag) + 1] = value
    return args


def test_missing_config(shapes, tmp_path, capsys):
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--config-file", "nope/none.yaml")
    _fails(args, capsys, "config file not found")


def test_missing_weights(shapes, tmp_path, capsys):
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--weights", str(tmp_path / "w.pth"))
    _fails(args, capsys, "weights file not found")


def test_missing_image_dir(shapes, tmp_path, capsys):
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--images", str(tmp_path / "no"))
    _fails(args, capsys, "image directory not found")


def test_gt_without_images(shapes, tmp_path, capsys):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1}]}))
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--gt", str(gt))
    _fails(args, capsys, "lists no images")


def _copy_images(shapes, tmp_path):
    d = tmp_path / "images"
    shutil.copytree(shapes.images, d)
    return d


def test_missing_image(shapes, tmp_path, capsys):
    d = _copy_images(shapes, tmp_path)
    os.unlink(d / "shape_0003.png")
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--images", str(d))
    _fails(args, capsys, "shape_0003.png: image not found")


@pytest.mark.parametrize("procs", ["1", "2"])
def test_undecodable_image_leaves_no_results(shapes, tmp_path, capsys, procs):
    d = _copy_images(shapes, tmp_path)
    (d / "shape_0011.png").write_bytes(b"not a png at all")
    out = tmp_path / "r.json"
    out.write_text("[]")  # a previous run's file must not survive as this run's result
    args = _swap(shapes.infer_args(str(out), "--num-gpus", procs), "--images", str(d))
    _fails(args, capsys, "shape_0011.png: cannot decode image")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images"]
