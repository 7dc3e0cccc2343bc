"""The drop-in ``COCO.annToRLE`` and ``COCO.annToMask`` against pycocotools'.

pycocotools' rule (``coco.py``): polygons are rasterised at the image's
height and width and their parts merged, an uncompressed RLE is compressed at
its own size, a compressed RLE is returned as it is. Compared value for value
(the RLE's size and counts string, the decoded mask's dtype, shape, order and
pixels) on generated ground truth and results of every kind.
"""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from test_keypoints import _ground_truth
from test_segm import _compressed, segm_data

from prcore.coco import COCO as DropInCOCO
from prcore.errors import PrcoreInputError

# pycocotools.mask.decode under numpy 2 warns about __array__'s copy keyword
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _pair(gt: dict, dets: list | None = None):
    """pycocotools' COCO and the drop-in's on copies of ``gt`` (and their loadRes of ``dets``)."""
    with contextlib.redirect_stdout(io.StringIO()):
        ref, ours = _ground_truth(COCO, gt), _ground_truth(DropInCOCO, gt)
        if dets is not None:
            ref, ours = ref.loadRes(copy.deepcopy(dets)), ours.loadRes(copy.deepcopy(dets))
    return ref, ours


def assert_same_rle(got: dict, want: dict) -> None:
    assert type(got["counts"]) is type(want["counts"])
    assert got["counts"] == want["counts"]
    assert [int(v) for v in got["size"]] == [int(v) for v in want["size"]]


def assert_same_mask(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype == np.uint8
    assert got.shape == want.shape
    assert got.flags.f_contiguous == want.flags.f_contiguous
    np.testing.assert_array_equal(got, want)


def assert_same_conversions(ref, ours) -> int:
    """Every annotation of ``ours`` converts as ``ref`` does; returns how many were compared."""
    assert sorted(ours.anns) == sorted(ref.anns)
    for ann_id, want_ann in ref.anns.items():
        ann = ours.anns[ann_id]
        assert_same_rle(ours.annToRLE(ann), ref.annToRLE(want_ann))
        assert_same_mask(ours.annToMask(ann), ref.annToMask(want_ann))
    return len(ref.anns)


# ---------------------------------------------------------------- written out


def test_written_out():
    # A 3 x 3 image. A polygon of two parts (pixels (x=0, y=0) and (x=2, y=2),
    # rasterised as maskApi.c does), an uncompressed RLE of the middle column
    # and a compressed RLE string returned untouched.
    gt = {
        "images": [{"id": 7, "height": 3, "width": 3}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 2, "bbox": [0, 0, 3, 3],
             "segmentation": [[0, 0, 0, 1, 1, 1, 1, 0], [2, 2, 2, 3, 3, 3, 3, 2]]},
            {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 1, "area": 3, "bbox": [1, 0, 1, 3],
             "segmentation": {"size": [3, 3], "counts": [3, 3, 3]}},
            {"id": 3, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 9, "bbox": [0, 0, 3, 3],
             "segmentation": {"size": [3, 3], "counts": "09"}},
        ],
    }  # fmt: skip
    _, coco = _pair(gt)
    assert coco.annToRLE(coco.anns[1]) == {"size": [3, 3], "counts": b"0170"}  # runs 0, 1, 7, 1
    assert coco.annToMask(coco.anns[1]).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 1]]
    assert coco.annToRLE(coco.anns[2]) == {"size": [3, 3], "counts": b"333"}
    assert coco.annToMask(coco.anns[2]).tolist() == [[0, 1, 0]] * 3
    compressed = coco.anns[3]["segmentation"]
    assert coco.annToRLE(coco.anns[3]) is compressed
    assert coco.annToMask(coco.anns[3]).tolist() == [[1, 1, 1]] * 3
    assert_same_conversions(*_pair(gt))


# ---------------------------------------------------------------- against pycocotools


@pytest.mark.parametrize("seed", range(6))
def test_ground_truth_of_every_kind(seed):
    gt, _ = segm_data(seed, n_img=10, n_cat=3)
    kinds = {type(a["segmentation"]).__name__ for a in gt["annotations"]}
    kinds |= {type(a["segmentation"]["counts"]).__name__ for a in gt["annotations"]
              if isinstance(a["segmentation"], dict)}  # fmt: skip
    assert kinds >= {"list", "dict", "str"}  # polygons, uncompressed and compressed RLE
    assert assert_same_conversions(*_pair(gt)) == len(gt["annotations"])


@pytest.mark.parametrize("box", ["all", "none"])
def test_results(box):
    gt, dets = segm_data(3, n_img=8, box=box)
    assert dets
    assert assert_same_conversions(*_pair(gt, dets)) == len(dets)


def test_box_results_as_their_polygons():
    # loadRes gives box results a polygon of their box; annToRLE rasterises it.
    gt, _ = segm_data(4, n_img=6)
    rng = np.random.default_rng(4)
    dets = [
        {"image_id": img["id"], "category_id": 1, "score": float(rng.uniform()),
         "bbox": [*rng.uniform(-5, 40, 2).tolist(), *rng.uniform(0, 30, 2).tolist()]}
        for img in gt["images"] for _ in range(3)
    ]  # fmt: skip
    assert assert_same_conversions(*_pair(gt, dets)) == len(dets)


def test_bytes_counts_and_the_image_size_not_the_rle_size():
    # A compressed RLE (here bytes, as pycocotools.mask.encode writes it) is returned
    # as is; polygons take the image's size, an uncompressed RLE its own.
    gt, _ = segm_data(8, n_img=4)
    img = gt["images"][0]
    m = np.zeros((img["height"], img["width"]), np.uint8)
    m[1:4, 2:5] = 1
    rle = _compressed(m)
    rle["counts"] = rle["counts"].encode()
    ann = {"id": 999, "image_id": img["id"], "category_id": 1, "iscrowd": 0, "area": 9.0,
           "bbox": [2, 1, 3, 3], "segmentation": rle}  # fmt: skip
    odd = {"id": 1000, "image_id": img["id"], "category_id": 1, "iscrowd": 1, "area": 4.0,
           "bbox": [0, 0, 2, 2], "segmentation": {"size": [2, 3], "counts": [0, 2, 4]}}  # fmt: skip
    ref, ours = _pair(gt)
    assert ours.annToRLE(ann) is rle
    assert_same_mask(ours.annToMask(ann), ref.annToMask(ann))
    assert_same_rle(ours.annToRLE(odd), ref.annToRLE(odd))
    assert_same_mask(ours.annToMask(odd), ref.annToMask(odd))
    assert ours.annToMask(odd).shape == (2, 3)


def test_a_malformed_polygon_is_a_located_error():
    gt, _ = segm_data(0, n_img=2)
    _, coco = _pair(gt)
    img = gt["images"][0]
    ann = {"image_id": img["id"], "segmentation": [[1, 1, 4, 4, 5, 6], [1, 1, 4, 4, 5]]}
    with pytest.raises(PrcoreInputError, match="polygon.*odd number"):
        coco.annToRLE(ann)
