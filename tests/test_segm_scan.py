"""The ground-truth scanner's segmentation columns against json.loads + numpy, bit for bit.

A segm evaluation reads every annotation's ``segmentation`` and every image's
``height`` and ``width``. Asked for them, the ground-truth scanner reads these
too: polygons (each part's numbers, with part offsets) and uncompressed RLE
(``size`` and the ``counts`` list). Whatever it accepts must equal
``json.loads`` followed by numpy's float64, and whatever it is not sure about
(``null``, ``[]``, compressed RLE, other keys in an RLE, a repeated key, a
broken document) it declines, so that the full parser gives the located
error. The loader's masks from the scan equal those of the dict path, and a
malformed mask in a file gives the dict path's error.

Run again with ``PRCORE_SCAN_CHECKED=1`` by test_results_scan.py, where every
raw load is bounds-checked.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils
from test_coco_scan import Raw, _no_constants, at_a_guard_page, dump, number_token
from test_segm import _runs, _set, _small, segm_data

from prcore._kernels.scan_constants import SEG_POLYGONS, SEG_RUNS
from prcore.errors import PrcoreInputError
from prcore.io.coco_scan import scan_ground_truth
from prcore.io.load import ground_truth_from_dict, load_ground_truth


def _double(v) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def assert_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (got, want)


def _numbers(v) -> list[float] | None:
    if not isinstance(v, list) or not all(type(x) in (int, float) for x in v):
        return None
    return [_double(x) for x in v]


def _is_int(v) -> bool:
    return type(v) is int and -(2**63) <= v < 2**63


def seg_reference(data: bytes):
    """(image sizes, values, part offsets, parts, kinds, sizes) as json.loads gives them,
    or None where the scanner must decline."""

    def no_repeated_fields(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("a repeated key: json.loads keeps the last, the scanner declines")
        return dict(pairs)

    try:
        doc = json.loads(data, parse_constant=_no_constants, object_pairs_hook=no_repeated_fields)
    except ValueError:
        return None
    sizes = []
    for img in doc["images"]:
        if not (_is_int(img.get("height")) and _is_int(img.get("width"))):
            return None
        sizes.append([img["height"], img["width"]])
    values, part_ends, parts, kinds, rle_sizes = [], [0], [0], [], []
    for a in doc["annotations"]:
        seg = a.get("segmentation")
        rle_size = [0, 0]
        if isinstance(seg, list) and seg:
            kinds.append(SEG_POLYGONS)
            for poly in seg:
                v = _numbers(poly)
                if v is None:
                    return None
                values += v
                part_ends.append(len(values))
        elif isinstance(seg, dict) and seg.keys() == {"size", "counts"}:
            kinds.append(SEG_RUNS)
            size, v = seg["size"], _numbers(seg["counts"])
            if not (isinstance(size, list) and len(size) == 2 and all(map(_is_int, size))):
                return None
            if v is None:
                return None
            values += v
            part_ends.append(len(values))
            rle_size = size
        else:
            return None
        parts.append(len(part_ends) - 1)
        rle_sizes.append(rle_size)
    return (
        np.array(sizes, np.int64).reshape(-1, 2),
        np.array(values, np.float64),
        np.array(part_ends, np.int64),
        np.array(parts, np.int64),
        np.array(kinds, np.int8),
        np.array(rle_sizes, np.int64).reshape(-1, 2),
    )


def check_ground_truth(data: bytes) -> None:
    want = seg_reference(data)
    got = scan_ground_truth(data, segmentation=True)
    with at_a_guard_page(data) as guarded:
        guarded_got = scan_ground_truth(guarded, segmentation=True)
    if want is None:
        assert got is None and guarded_got is None
        return
    plain = scan_ground_truth(data)
    assert plain.seg_values is None and plain.image_size is None
    for cols in (got, guarded_got):
        assert cols is not None
        assert_bits(cols.image_size, want[0])
        assert_bits(cols.seg_values, want[1])
        assert_bits(cols.seg_part_offsets, want[2])
        assert_bits(cols.seg_parts, want[3])
        assert_bits(cols.seg_kind, want[4])
        runs = cols.seg_kind == SEG_RUNS
        assert_bits(cols.seg_size[runs], want[5][runs])
        assert_bits(cols.bbox, plain.bbox)


def _gt(*segmentations: str, image: str = '"height": 8, "width": 9') -> bytes:
    anns = ",".join(
        f'{{"id": {i + 1}, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], '
        f'"area": 4, "segmentation": {seg}}}'
        for i, seg in enumerate(segmentations)
    )
    return (
        f'{{"images": [{{"id": 1, {image}}}], "categories": [{{"id": 1, "name": "a"}}], '
        f'"annotations": [{anns}]}}'
    ).encode()


def test_ground_truth_written_out():
    data = _gt("[[1, 2, 3.5, 4, 5, 6], [0,0 , 1 ,1,2, 2 ]]",
               '{"counts": [3, 4, 65], "size": [8, 9]}', ' [ [ 7,8,9,1,2,3 ] ] ')  # fmt: skip
    cols = scan_ground_truth(data, segmentation=True)
    assert cols.image_size.tolist() == [[8, 9]]
    assert cols.seg_values.tolist() == [1, 2, 3.5, 4, 5, 6, 0, 0, 1, 1, 2, 2, 3, 4, 65,
                                        7, 8, 9, 1, 2, 3]  # fmt: skip
    assert cols.seg_part_offsets.tolist() == [0, 6, 12, 15, 21]
    assert cols.seg_parts.tolist() == [0, 2, 3, 4]
    assert cols.seg_kind.tolist() == [SEG_POLYGONS, SEG_RUNS, SEG_POLYGONS]
    assert cols.seg_size[1].tolist() == [8, 9]
    check_ground_truth(data)


@pytest.mark.parametrize(
    "seg, accepted",
    [
        ("[[1, 2, 3, 4, 5, 6]]", True),
        ("[[]]", True),  # the loader's checks refuse it, the dict path names why
        ('{"size": [8, 9], "counts": []}', True),
        ("null", False),
        ("[]", False),
        ("{}", False),
        ("7", False),
        ('"0"', False),
        ("[1, 2, 3]", False),
        ("[[1, 2, 3], null]", False),
        ('[[1, "2", 3]]', False),
        ("[[1, 2, true]]", False),
        ("[[1, 2, NaN]]", False),
        ("[[1, 2, 3],]", False),
        ('{"size": [8, 9], "counts": "0"}', False),  # compressed RLE: the full parser's
        ('{"size": [8, 9], "counts": [1], "x": 1}', False),
        ('{"size": [8, 9], "counts": [1], "size": [8, 9]}', False),
        ('{"size": [8, 9]}', False),
        ('{"counts": [72]}', False),
        ('{"size": [8, 9, 1], "counts": [72]}', False),
        ('{"size": [8], "counts": [72]}', False),
        ('{"size": [8.0, 9], "counts": [72]}', False),
        ('{"size": "8x9", "counts": [72]}', False),
        ('{"size": [8, 9], "counts": [1, [2]]}', False),
        ('{"size": [8, 9], "counts": null}', False),
    ],
)
def test_ground_truth_declined_or_read(seg, accepted):
    data = _gt(seg)
    assert (scan_ground_truth(data, segmentation=True) is not None) == accepted
    check_ground_truth(data)


@pytest.mark.parametrize(
    "image, accepted",
    [
        ('"height": 8, "width": 9', True),
        ('"width": 9, "height": -8', True),  # the loader's checks refuse it
        ('"height": 8', False),
        ('"width": 9', False),
        ('"height": 8.0, "width": 9', False),
        ('"height": null, "width": 9', False),
        ('"height": 8, "width": 9, "height": 8', False),
    ],
)
def test_image_sizes_declined_or_read(image, accepted):
    data = _gt("[[1, 2, 3, 4, 5, 6]]", image=image)
    assert (scan_ground_truth(data, segmentation=True) is not None) == accepted
    assert scan_ground_truth(data) is not None  # not asked for, they are any other key
    check_ground_truth(data)


def test_every_annotation_needs_a_segmentation():
    data = _gt("[[1, 2, 3, 4, 5, 6]]").replace(b', "segmentation": [[1, 2, 3, 4, 5, 6]]', b"")
    assert scan_ground_truth(data) is not None
    assert scan_ground_truth(data, segmentation=True) is None
    data = _gt('[[1, 2, 3, 4, 5, 6]], "segmentation": [[1, 2, 3, 4, 5, 6]]')
    assert scan_ground_truth(data, segmentation=True) is None  # repeated
    with pytest.raises(ValueError):
        scan_ground_truth(data, keypoints=True, segmentation=True)


def segmentation_text(rnd: random.Random) -> str:
    """Polygons or an uncompressed RLE of numbers in many spellings, with random
    whitespace (now and then a part with a value the scanner must decline)."""
    odd = [None, True, "1", [1], Raw("NaN")]
    if rnd.random() < 0.5:
        seg = [[number_token(rnd) for _ in range(rnd.randrange(10))]
               for _ in range(rnd.randint(1, 3))]  # fmt: skip
    else:
        seg = {"size": [8, 9], "counts": [number_token(rnd) for _ in range(rnd.randrange(7))]}
    if rnd.random() < 0.05:
        part = seg[0] if isinstance(seg, list) else seg["counts"]
        part.append(rnd.choice(odd))
    return dump(seg, rnd)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(1, 6))
def test_generated_ground_truth_matches_json(seed, n):
    rnd = random.Random(seed)
    check_ground_truth(_gt(*(segmentation_text(rnd) for _ in range(n))))


def test_ground_truth_undecided_numbers():
    hard = "0.1000000000000000055511151231257827021181583404541015625"
    data = _gt(f"[[1, {hard}, 2, 3, 4, 5]]", f'{{"size": [8, 9], "counts": [{hard}, 2]}}')
    check_ground_truth(data)
    cols = scan_ground_truth(data, segmentation=True)
    assert cols.seg_values.tolist() == [1, 0.1, 2, 3, 4, 5, 0.1, 2]


def test_cut_anywhere_ends_where_memory_ends():
    whole = _gt("[[1, 2.5e0, 3, 4, 5, 6], [1, 1, 2, 2, 3, 1]]", '{"size": [8, 9], "counts": [72]}')
    assert seg_reference(whole) is not None
    for end in range(len(whole) + 1):
        data = whole[:end]
        with at_a_guard_page(data) as guarded:
            got = scan_ground_truth(guarded, segmentation=True)
        assert (got is None) == (seg_reference(data) is None), end


# ---------------------------------------------------------------- through load.py


def _uncompressed(gt: dict) -> dict:
    """``gt`` with its compressed RLE (which the scanner declines) as uncompressed RLE."""
    sizes = {img["id"]: (img["height"], img["width"]) for img in gt["images"]}
    for a in gt["annotations"]:
        seg = a["segmentation"]
        if isinstance(seg, dict) and isinstance(seg["counts"], str):
            h, w = sizes[a["image_id"]]
            m = mask_utils.decode({"size": [h, w], "counts": seg["counts"].encode()})
            a["segmentation"] = {"size": [h, w], "counts": _runs(m)}
    return gt


def assert_same_ground_truth(fast, slow) -> None:
    assert fast.dataset is None
    for key in ("img_ids", "ann_id", "ann_img", "ann_cat", "ann_bbox", "ann_area", "ann_crowd",
                "img_h", "img_w"):  # fmt: skip
        assert_bits(getattr(fast, key), getattr(slow, key))
    for key in ("counts", "offsets", "bbox"):
        assert_bits(getattr(fast.masks, key), getattr(slow.masks, key))


@pytest.mark.parametrize("seed", range(4))
def test_loaded_masks_same_as_dict_path(tmp_path, seed):
    gt = _uncompressed(segm_data(seed, n_img=12, n_cat=3)[0])
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    assert scan_ground_truth(path.read_bytes(), segmentation=True) is not None
    slow = ground_truth_from_dict(json.loads(path.read_bytes()), str(path), "segm")
    assert_same_ground_truth(load_ground_truth(path, "segm"), slow)


def test_compressed_ground_truth_is_read_in_full(tmp_path):
    gt = segm_data(3, n_img=12)[0]
    assert any(isinstance(a["segmentation"], dict) and isinstance(a["segmentation"]["counts"], str)
               for a in gt["annotations"])  # fmt: skip
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    assert scan_ground_truth(path.read_bytes(), segmentation=True) is None
    slow = ground_truth_from_dict(json.loads(path.read_bytes()), str(path), "segm")
    assert_same_ground_truth(load_ground_truth(path, "segm"), slow)


_BAD = [
    (["segmentation"], [[1, 1, 6, 6]], "2 point(s); it needs 3"),
    (["segmentation"], [[1, 1, 1, 6, 6, 6, 6]], "odd number of coordinates (7)"),
    (["segmentation"], [[1, 1, 1, 6, 6, 6], [2, 2]], "1 point(s)"),
    (["segmentation"], [[1, 1, 1, 6, 6, 6], []], "0 point(s)"),
    (["segmentation"], [[1, 1, 1, "6", 6, 6]], "non-number"),
    (["segmentation"], [[1, 1, 1, 6, float("nan"), 6]], "not a finite number"),
    (["segmentation"], [[1, 1, 1, 6, 1e300, 6]], "1e+300"),
    (["segmentation"], [], "empty list"),
    (["segmentation"], None, "is missing"),
    (["segmentation"], {"size": [20, 31], "counts": [600]}, "'size' is [20, 31], but"),
    (["segmentation"], {"size": [20, 30], "counts": [1, 2]}, "sum to 3, not to"),
    (["segmentation"], {"size": [20, 30], "counts": [599, -1, 2]}, "whole numbers"),
    (["segmentation"], {"size": [20, 30], "counts": [599.5, 0.5]}, "whole numbers"),
    (["segmentation"], {"size": [20, 30], "counts": 7}, "'counts' must be"),
]


@pytest.mark.parametrize("path, value, message", _BAD, ids=[m for _, _, m in _BAD])
def test_bad_masks_in_a_file_are_the_full_parsers_errors(tmp_path, path, value, message):
    gt, _ = _small()
    _set(path, value)(gt["annotations"][0])
    file = tmp_path / "gt.json"
    file.write_text(json.dumps(gt))
    with pytest.raises(PrcoreInputError) as info:
        load_ground_truth(file, "segm")
    err = info.value
    assert (err.section, err.index, err.record_id, err.field) == (
        "annotations", 0, 5, "segmentation"), str(err)  # fmt: skip
    assert message in str(err), str(err)
    with pytest.raises(PrcoreInputError) as from_dict:
        load_ground_truth(gt, "segm")
    assert str(from_dict.value) == str(err).replace(str(file), "<ground truth>")


def test_bad_image_sizes_in_a_file_are_the_full_parsers_errors(tmp_path):
    for field, value, message in (
        ("height", None, "a segm evaluation needs each image's size"),
        ("width", 2.0, "expected an integer"),
        ("height", 0, "height and width must be >= 1"),
    ):
        gt, _ = _small()
        if value is None:
            del gt["images"][1][field]
        else:
            gt["images"][1][field] = value
        file = tmp_path / "gt.json"
        file.write_text(json.dumps(gt))
        with pytest.raises(PrcoreInputError, match=message) as info:
            load_ground_truth(file, "segm")
        assert (info.value.section, info.value.index) == ("images", 1)
