"""The byte scanners' keypoint columns against json.loads + numpy, bit for bit.

Keypoint evaluation reads ``keypoints`` from every result and ``keypoints`` and
``num_keypoints`` from every annotation. Asked for them, the results scanner
and the ground-truth scanner read these too; whatever they accept must equal
``json.loads`` followed by numpy's float64, and whatever they are not sure
about (a missing or ``null`` field, a non-number, a repeated key, a broken
document) they decline, so that the full parser gives the located error. The
loader's columns from the scan equal those of the dict path, and evaluating
files equals pycocotools.

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
from test_coco_scan import at_a_guard_page
from test_keypoints import keypoint_data
from test_results_scan import _double, _no_constants, assert_same, number_token
from test_results_scan import reference as box_reference

from prcore.io.coco_scan import scan_ground_truth
from prcore.io.load import (
    detections_from_records,
    ground_truth_from_dict,
    load_detections,
    load_ground_truth,
)
from prcore.io.results_scan import scan_results


def _numbers(v) -> list[float] | None:
    """A keypoint list as numpy's float64 gives it, or None unless a list of numbers."""
    if not isinstance(v, list) or not all(type(x) in (int, float) for x in v):
        return None
    return [_double(x) for x in v]


def assert_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (got, want)


# ---------------------------------------------------------------- results


def result_reference(data: bytes):
    """(box columns, keypoint values, offsets) as json.loads gives them, or None."""
    cols = box_reference(data)
    if cols is None:
        return None
    records = json.loads(data, parse_constant=_no_constants)
    lists = [_numbers(r.get("keypoints")) for r in records]
    if any(v is None for v in lists):
        return None
    offsets = np.zeros(len(lists) + 1, np.int64)
    np.cumsum([len(v) for v in lists], out=offsets[1:])
    values = np.array([x for v in lists for x in v], np.float64).reshape(-1)
    return cols, values, offsets


def scan_keypoint_results(data: bytes):
    """One thread and two (every split), also ending at an unreadable page: all agree."""
    one = scan_results(data, keypoints=True, split_min_bytes=1 << 62)
    with at_a_guard_page(data) as guarded:
        for source, split in ((data, 0), (guarded, 1 << 62), (guarded, 0)):
            other = scan_results(source, keypoints=True, split_min_bytes=split)
            assert (one is None) == (other is None)
            if one is not None:
                assert_same(other, one.as_tuple())
                assert_bits(other.keypoints, one.keypoints)
                assert_bits(other.keypoint_offsets, one.keypoint_offsets)
    return one


def check_results(data: bytes) -> None:
    want = result_reference(data)
    got = scan_keypoint_results(data)
    if want is None:
        assert got is None
        return
    assert got is not None
    assert_same(got, want[0])
    assert_bits(got.keypoints, want[1])
    assert_bits(got.keypoint_offsets, want[2])


def test_one_result_written_out():
    data = (
        b'[{"image_id": 4, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5,'
        b' "keypoints": [10.5, 20, 1.25, -0.0, 7e1, 0]}]'
    )
    cols = scan_results(data, keypoints=True)
    assert cols.keypoints.tolist() == [10.5, 20.0, 1.25, -0.0, 70.0, 0.0]
    assert math.copysign(1, cols.keypoints[3]) == -1
    assert cols.keypoint_offsets.tolist() == [0, 6]
    check_results(data)
    # not asked for, keypoints are any other key, whatever they hold
    plain = scan_results(data.replace(b"[10.5, 20", b'["a", {"b": null}'))
    assert plain is not None and plain.keypoints is None and plain.score.tolist() == [0.5]


RESULT = '{"image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 0.5%s}'


@pytest.mark.parametrize(
    "extra, accepted",
    [
        (', "keypoints": []', True),  # empty: the schema's to refuse, not the syntax's
        (', "keypoints": [1, 2, 3], "segmentation": [[1, 2]]', True),
        (', "keypoint": [1]', False),  # no keypoints
        ("", False),
        (', "keypoints": null', False),
        (', "keypoints": [1, null, 2]', False),
        (', "keypoints": [1, [2], 3]', False),
        (', "keypoints": [1, "2", 3]', False),
        (', "keypoints": [1, true]', False),
        (', "keypoints": [1, 2,]', False),
        (', "keypoints": [1 2]', False),
        (', "keypoints": {"x": 1}', False),
        (', "keypoints": [1], "keypoints": [2]', False),  # a repeated key
        (', "keypoints": [NaN]', False),
        (', "key\\u0070oints": [1, 2, 3]', False),  # escaped: maybe the key
    ],
)
def test_results_declined_or_read(extra, accepted):
    data = ("[" + RESULT % extra + "]").encode()
    assert (scan_results(data, keypoints=True) is not None) == accepted
    if accepted:
        check_results(data)


@st.composite
def keypoint_document(draw) -> bytes:
    records = []
    for _ in range(draw(st.integers(0, 6))):
        values = draw(st.lists(number_token(), max_size=9))
        ws = draw(st.sampled_from(["", " ", "\n  "]))
        kpt = "[" + ",".join(f"{ws}{v}" for v in values) + ws + "]"
        members = [
            f'"image_id": {draw(st.integers(-5, 10**12))}',
            f'"category_id": {draw(st.integers(0, 90))}',
            f'"bbox": [{draw(number_token())}, 1, {draw(number_token(non_negative=True))}, 2]',
            f'"score": {draw(number_token())}',
            f'"keypoints": {kpt}',
        ]
        if draw(st.booleans()):
            members.append('"segmentation": {"size": [2, 2], "counts": "04"}')
        records.append("{" + ", ".join(draw(st.permutations(members))) + "}")
    return ("[" + ",\n".join(records) + "]").encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keypoint_document())
def test_generated_results_match_json(data):
    assert result_reference(data) is not None
    check_results(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keypoint_document(), st.data())
def test_mutated_results_never_accept_wrongly(data, draw):
    buf = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 4))):
        if not buf:
            break
        i = draw.draw(st.integers(0, len(buf) - 1))
        byte = draw.draw(st.sampled_from(b'[]{}",:-+.eE0159 \\tnfu\x00'))
        op = draw.draw(st.integers(0, 2))
        if op == 0:
            buf[i] = byte
        elif op == 1:
            del buf[i]
        else:
            buf.insert(i, byte)
    got = scan_keypoint_results(bytes(buf))
    if got is not None:
        check_results(bytes(buf))


def _person_results(n: int, rnd: random.Random) -> list[dict]:
    return [
        {"image_id": i % 50, "category_id": 1, "bbox": [i / 7, 1.5, 2.25, i / 3],
         "score": rnd.random(), "keypoints": [rnd.uniform(-5, 600) for _ in range(51)]}
        for i in range(n)
    ]  # fmt: skip


def test_split_keypoints_join_with_undecided_numbers():
    # Numbers that the kernel hands back to float(), in both halves of a split file.
    records = _person_results(600, random.Random(0))
    text = json.dumps(records)
    hard = "0.1000000000000000055511151231257827021181583404541015625"
    marker = repr(records[50]["keypoints"][7]), repr(records[550]["keypoints"][40])
    for m in marker:
        text = text.replace(m, hard, 1)
    data = text.encode()
    assert data.count(hard.encode()) == 2
    check_results(data)
    cols = scan_results(data, keypoints=True, split_min_bytes=0)
    assert cols.keypoints[50 * 51 + 7] == cols.keypoints[550 * 51 + 40] == 0.1
    records[580]["keypoints"][3] = "1"  # a string in the second half
    assert scan_keypoint_results(json.dumps(records).encode()) is None


def test_results_cut_anywhere_end_where_memory_ends():
    whole = (
        b'[{"keypoints": [1e2, -0.0, 207.22605895996094, 5], "image_id": 1, "category_id": 2,'
        b' "bbox": [0, 0, 1, 1], "score": 0.5}, {"image_id": 3, "category_id": 4, "score": 1,'
        b' "bbox": [1, 2, 3, 4], "keypoints": [0.1000000000000000055511151231257827021181583404541015625]}]'
    )
    assert result_reference(whole) is not None
    for end in range(len(whole) + 1):
        data = whole[:end]
        with at_a_guard_page(data) as guarded:
            got = scan_results(guarded, keypoints=True, split_min_bytes=1 << 62)
        want = result_reference(data)
        assert (got is None) == (want is None), end
        if want is not None:
            assert_bits(got.keypoints, want[1])


# ---------------------------------------------------------------- ground truth


def gt_reference(data: bytes):
    """(keypoint values, offsets, missing, num_keypoints) as json.loads gives them, or None
    where the scanner must decline (a null or non-number in either field)."""

    def no_repeated_fields(pairs):
        keys = [k for k, _ in pairs if k in ("keypoints", "num_keypoints")]
        if len(keys) != len(set(keys)):
            raise ValueError("a repeated key: json.loads keeps the last, the scanner declines")
        return dict(pairs)

    try:
        doc = json.loads(data, parse_constant=_no_constants, object_pairs_hook=no_repeated_fields)
    except ValueError:
        return None
    anns = doc["annotations"]
    lists, missing, counts = [], [], []
    for a in anns:
        if "keypoints" in a:
            v = _numbers(a["keypoints"])
            if v is None:
                return None
            lists.append(v)
        else:
            lists.append([])
        missing.append("keypoints" not in a)
        if "num_keypoints" in a:
            if type(a["num_keypoints"]) not in (int, float):
                return None
            counts.append(_double(a["num_keypoints"]))
        else:
            counts.append(math.nan)
    offsets = np.zeros(len(lists) + 1, np.int64)
    np.cumsum([len(v) for v in lists], out=offsets[1:])
    values = np.array([x for v in lists for x in v], np.float64).reshape(-1)
    return values, offsets, np.array(missing, bool), np.array(counts, np.float64)


def check_ground_truth(data: bytes) -> None:
    want = gt_reference(data)
    got = scan_ground_truth(data, keypoints=True)
    with at_a_guard_page(data) as guarded:
        guarded_got = scan_ground_truth(guarded, keypoints=True)
    if want is None:
        assert got is None and guarded_got is None
        return
    plain = scan_ground_truth(data)
    assert plain.keypoints is None
    for cols in (got, guarded_got):
        assert cols is not None
        assert_bits(cols.keypoints, want[0])
        assert_bits(cols.keypoint_offsets, want[1])
        assert_bits(cols.keypoints_missing, want[2])
        assert_bits(cols.num_keypoints, want[3])
        assert_bits(cols.bbox, plain.bbox)


def _gt(*annotation_extras: str) -> bytes:
    anns = ",".join(
        f'{{"id": {i + 1}, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], '
        f'"area": 4{extra}}}'
        for i, extra in enumerate(annotation_extras)
    )
    return (
        '{"images": [{"id": 1}], "categories": [{"id": 1, "name": "person"}], '
        f'"annotations": [{anns}]}}'
    ).encode()


def test_ground_truth_written_out():
    data = _gt(', "keypoints": [1, 2, 2, 0, 0, 0], "num_keypoints": 1', "",
               ', "num_keypoints": 0.0, "keypoints": []')  # fmt: skip
    cols = scan_ground_truth(data, keypoints=True)
    assert cols.keypoints.tolist() == [1, 2, 2, 0, 0, 0]
    assert cols.keypoint_offsets.tolist() == [0, 6, 6, 6]
    assert cols.keypoints_missing.tolist() == [False, True, False]
    assert cols.num_keypoints[0] == 1 and math.isnan(cols.num_keypoints[1])
    check_ground_truth(data)


@pytest.mark.parametrize(
    "extra, accepted",
    [
        (', "keypoints": [1, 2, 3.5e0]', True),
        (', "num_keypoints": 17', True),
        (', "keypoints": null', False),  # absent to the dict path: the full parser's
        (', "num_keypoints": null', False),
        (', "keypoints": [1, "2", 3]', False),
        (', "num_keypoints": "3"', False),
        (', "num_keypoints": true', False),
        (', "keypoints": [[1, 2, 3]]', False),
        (', "keypoints": [1], "keypoints": [1]', False),
        (', "num_keypoints": 1, "num_keypoints": 1', False),
    ],
)
def test_ground_truth_declined_or_read(extra, accepted):
    data = _gt(extra)
    assert (scan_ground_truth(data, keypoints=True) is not None) == accepted
    assert scan_ground_truth(data) is not None  # not asked for, they are any other key
    check_ground_truth(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(number_token(), max_size=7), number_token(), st.integers(0, 3))))
def test_generated_ground_truth_matches_json(anns):
    extras = []
    for values, count, present in anns:
        parts = []
        if present & 1:
            parts.append(f'"keypoints": [{", ".join(values)}]')
        if present & 2:
            parts.append(f'"num_keypoints": {count}')
        extras.append("".join(", " + p for p in parts))
    check_ground_truth(_gt(*extras))


def test_ground_truth_undecided_numbers():
    hard = "0.1000000000000000055511151231257827021181583404541015625"
    data = _gt(f', "keypoints": [1, {hard}, 2], "num_keypoints": {hard}', ', "area2": 1',
               f', "num_keypoints": 3, "keypoints": [{hard}]')  # fmt: skip
    check_ground_truth(data)
    cols = scan_ground_truth(data, keypoints=True)
    assert cols.keypoints.tolist() == [1, 0.1, 2, 0.1] and cols.num_keypoints[0] == 0.1


# ---------------------------------------------------------------- through load.py


@pytest.mark.parametrize("seed", range(3))
def test_loaded_columns_same_as_dict_path(tmp_path, seed):
    gt, dets = keypoint_data(seed, n_img=12, box="all")
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    assert scan_ground_truth(gt_path.read_bytes(), keypoints=True) is not None
    assert scan_results(dt_path.read_bytes(), keypoints=True) is not None
    fast = load_ground_truth(gt_path, "keypoints")
    slow = ground_truth_from_dict(json.loads(gt_path.read_bytes()), str(gt_path), "keypoints")
    assert fast.dataset is None
    for key in ("ann_id", "ann_img", "ann_cat", "ann_bbox", "ann_area", "num_keypoints"):
        assert_bits(getattr(fast, key), getattr(slow, key))
    for key in ("values", "offsets", "missing"):
        assert_bits(getattr(fast.keypoints, key), getattr(slow.keypoints, key))
    fast_dt = load_detections(dt_path, fast, "keypoints")
    slow_dt = detections_from_records(json.loads(dt_path.read_bytes()), fast, "x", "keypoints")
    for key in ("img", "cat", "bbox", "score", "area"):
        assert_bits(getattr(fast_dt, key), getattr(slow_dt, key))
    for key in ("values", "offsets", "missing"):
        assert_bits(getattr(fast_dt.keypoints, key), getattr(slow_dt.keypoints, key))
