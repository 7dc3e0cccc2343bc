"""Bad input: one line on stderr, exit status 2, no results file left behind, not even an old one.

The README's promise is about the command a user runs, so the main cases run it as a
separate process, where torch's and detectron2's import warnings and detectron2's log
lines would land on the same stderr as the error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("detectron2")

from prcore_detectron2.cli import main  # noqa: E402

ERROR = "prcore-detectron2: error: "


def _command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "prcore-detectron2")
    if os.path.isfile(script):
        return [script]  # the installed entry point, as users run it
    return [sys.executable, "-m", "prcore_detectron2.cli"]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    return subprocess.run(_command() + args, capture_output=True, text=True, env=env, timeout=600)


def _swap(args, flag, value):
    args = list(args)
    args[args.index(flag) + 1] = value
    return args


def _old_outputs(out_dir) -> str:
    """A previous run's results, sidecar and stray shard at the --out about to be used."""
    out = out_dir / "results.json"
    out.write_text('[{"image_id": 1000, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}]')
    (out_dir / "results.json.meta.json").write_text("{}")
    (out_dir / "results.json.rank1-of-2.part").write_text("")
    return str(out)


def _copy_images(shapes, tmp_path):
    d = tmp_path / "images"
    shutil.copytree(shapes.images, d)
    return d


def _assert_one_line_and_nothing_left(proc, needle, out_dir):
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(ERROR) and needle in lines[0], lines[0]
    assert proc.stdout == ""
    assert sorted(os.listdir(out_dir)) == [], os.listdir(out_dir)


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


def test_command_missing_weights(shapes, tmp_path, out_dir):
    out = _old_outputs(out_dir)
    args = _swap(shapes.infer_args(out), "--weights", str(tmp_path / "w.pth"))
    _assert_one_line_and_nothing_left(_run(args), "weights file not found", out_dir)


def test_command_missing_image(shapes, tmp_path, out_dir):
    d = _copy_images(shapes, tmp_path)
    os.unlink(d / "shape_0003.png")
    out = _old_outputs(out_dir)
    args = _swap(shapes.infer_args(out), "--images", str(d))
    _assert_one_line_and_nothing_left(_run(args), "shape_0003.png: image not found", out_dir)


@pytest.mark.parametrize("procs", ["1", "2"])
def test_command_undecodable_image(shapes, tmp_path, out_dir, procs):
    # Found while the model runs (the images before it are already inferred), in a
    # DataLoader worker, on the second rank when there are two.
    d = _copy_images(shapes, tmp_path)
    (d / "shape_0011.png").write_bytes(b"not a png at all")
    out = _old_outputs(out_dir)
    args = _swap(shapes.infer_args(out, "--num-gpus", procs), "--images", str(d))
    _assert_one_line_and_nothing_left(_run(args), "shape_0011.png: cannot decode image", out_dir)


def test_command_gt_without_images(shapes, tmp_path, out_dir):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1}]}))
    out = _old_outputs(out_dir)
    args = _swap(shapes.infer_args(out), "--gt", str(gt))
    _assert_one_line_and_nothing_left(_run(args), "lists no images", out_dir)


def test_command_success_prints_only_its_summary(shapes, out_dir):
    """The held library output is dropped for good on success too, unless it matters."""
    out = _old_outputs(out_dir)
    proc = _run(shapes.infer_args(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith(
        f"wrote {len(json.loads((out_dir / 'results.json').read_text()))} "
    )
    assert sorted(os.listdir(out_dir)) == ["results.json", "results.json.meta.json"]


# Input refused before any heavy import: in process, the same one line.


def _fails(args, capsys, needle):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(ERROR)
    assert needle in err[0], err[0]


def test_missing_config(shapes, tmp_path, capsys):
    out = _old_outputs(tmp_path)
    args = _swap(shapes.infer_args(out), "--config-file", "nope/none.yaml")
    _fails(args, capsys, "config file not found")
    assert not os.path.exists(out)


def test_missing_image_dir(shapes, tmp_path, capsys):
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--images", str(tmp_path / "no"))
    _fails(args, capsys, "image directory not found")


def test_images_without_size(shapes, tmp_path, capsys):
    # detectron2's load_coco_json needs each image's height and width.
    with open(shapes.gt) as f:
        gt = json.load(f)
    del gt["images"][2]["height"]
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--gt", str(path))
    _fails(args, capsys, "images[2]: expected an integer 'id', 'height' and 'width'")


def test_unloadable_weights(shapes, tmp_path, capsys):
    bad = tmp_path / "w.pth"
    bad.write_bytes(b"not a checkpoint")
    args = _swap(shapes.infer_args(str(tmp_path / "r.json")), "--weights", str(bad))
    _fails(args, capsys, "w.pth: cannot load weights")


def test_bad_sweep_removes_the_sweeps_old_outputs(shapes, tmp_path, capsys):
    out = tmp_path / "r.json"
    old = tmp_path / "r.sweep1-0.7.json"
    old.write_text("[]")
    args = shapes.infer_args(str(out), "--sweep", "MODEL.ROI_HEADS.NMS_THRESH_TEST=0.3,0.7")
    args = _swap(args, "--weights", str(tmp_path / "w.pth"))
    _fails(args, capsys, "weights file not found")
    assert not old.exists()
