"""prcore.mask against pycocotools.mask, value for value and byte for byte.

Named cases have their numbers written out; the rest compare with
pycocotools 2.0.11 on generated masks, polygons, boxes and RLE: every return
value's type, dtype, shape and memory order, and every number. Also the
evaluation kernel ``mask_iou_cells`` against ``maskUtils.iou`` cell by cell,
and bad input.
"""

from __future__ import annotations

import json

import numpy as np
import pycocotools.mask as cmask
import pytest

import prcore.mask as pmask
from prcore._kernels import rle as _kernels
from prcore.errors import PrcoreInputError

# ---------------------------------------------------------------- comparing


def assert_same(got, want) -> None:
    """Equal values of equal types, recursively; arrays also in dtype, shape and memory order."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), type(got)
        assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)  # fmt: skip
        assert got.flags.f_contiguous == want.flags.f_contiguous
        assert got.flags.c_contiguous == want.flags.c_contiguous
        np.testing.assert_array_equal(got, want, strict=True)
        return
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, dict):
        assert got.keys() == want.keys()
        for key in want:
            assert_same(got[key], want[key])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif isinstance(want, float) and np.isnan(want):
        assert np.isnan(got)
    else:
        assert got == want, (got, want)


def check_rles(rles: list[dict], crowd_seed: int = 0, zero_runs: bool = False) -> None:
    """Every function that reads RLE, on ``rles`` (pycocotools' own dicts), against pycocotools.

    With ``zero_runs`` (empty runs inside the counts) only merges that
    pycocotools survives are compared: its merge buffer holds ``h * w + 1``
    counts, and of three masks or more it can loop forever (prcore raises).
    """
    rng = np.random.default_rng(crowd_seed)
    assert_same(pmask.area(rles), cmask.area(rles))
    assert_same(pmask.toBbox(rles), cmask.toBbox(rles))
    for r in rles[:3]:
        assert_same(pmask.area(r), cmask.area(r))
        assert_same(pmask.toBbox(r), cmask.toBbox(r))
    crowd = rng.integers(0, 2, len(rles)).tolist()
    assert_same(pmask.iou(rles, rles, crowd), cmask.iou(rles, rles, crowd))
    sizes = {tuple(r["size"]) for r in rles}
    if int(np.prod(rles[0]["size"])) > 1 << 26:  # maskApi.c's merge allocates h * w counts
        return
    if len(sizes) == 1 and zero_runs:
        room = int(np.prod(rles[0]["size"])) + 1
        for intersect in (0, 1):
            for pair in zip(rles, rles[1:]):
                merged = pmask.merge(list(pair), intersect)
                if max(len(_decoded(r["counts"])) for r in [*pair, merged]) <= room:
                    assert_same(merged, cmask.merge(list(pair), intersect))
            try:
                pmask.merge(rles, intersect)
            except PrcoreInputError as exc:
                assert "never returns" in str(exc)
    elif len(sizes) == 1:
        for intersect in (0, 1):
            assert_same(pmask.merge(rles, intersect), cmask.merge(rles, intersect))
            assert_same(pmask.merge(rles[:2], intersect), cmask.merge(rles[:2], intersect))
        if np.prod(rles[0]["size"]) <= 1 << 20:
            assert_same(pmask.decode(rles), cmask.decode(rles))
            assert_same(pmask.decode(rles[0]), cmask.decode(rles[0]))
    assert_same(pmask.merge(rles[:1]), cmask.merge(rles[:1]))


# ---------------------------------------------------------------- generated data


def disc(h: int, w: int, cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).astype(np.uint8)


def mask_sets(seed: int) -> list[np.ndarray]:
    """``[h, w, n]`` uint8 stacks (Fortran order): random, blobs, borders, empty, full, odd sizes."""
    rng = np.random.default_rng(seed)
    sets = []
    for h, w in [(1, 1), (1, 9), (9, 1), (2, 3), (17, 13), (40, 61)]:
        n = 5
        stack = np.zeros((h, w, n), np.uint8, order="F")
        stack[:, :, 0] = rng.random((h, w)) < rng.random()  # random density
        stack[:, :, 1] = 1  # full
        # stack[:, :, 2] stays empty
        stack[:, :, 3] = disc(
            h, w, rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.5, max(h, w))
        )
        border = np.zeros((h, w), np.uint8)
        border[0, :] = border[-1, :] = 1
        border[:, 0] = rng.random(h) < 0.5
        stack[:, :, 4] = border
        sets.append(stack)
    for _ in range(4):  # blobs: unions of discs, some clipped by the border
        h, w = rng.integers(5, 70, 2)
        stack = np.zeros((h, w, 6), np.uint8, order="F")
        for k in range(6):
            for _ in range(rng.integers(1, 4)):
                stack[:, :, k] |= disc(h, w, rng.uniform(-5, h + 5), rng.uniform(-5, w + 5), rng.uniform(1, 20))  # fmt: skip
        sets.append(stack)
    return sets


def random_polygon(rng, h: int, w: int) -> list[float]:
    n = int(rng.integers(3, 12))
    kind = rng.integers(0, 6)
    if kind == 0:  # anywhere, partly outside, float
        xy = np.stack([rng.uniform(-10, w + 10, n), rng.uniform(-10, h + 10, n)], 1)
    elif kind == 1:  # whole pixels
        xy = np.stack([rng.integers(-3, w + 3, n), rng.integers(-3, h + 3, n)], 1).astype(float)
    elif kind == 2:  # star-shaped around a centre: simple, like annotations
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(1, max(h, w) / 2, n)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        xy = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
    elif kind == 3:  # on the rounding edges of the 5x upsampling: k/10
        xy = (
            np.stack([rng.integers(-20, 10 * w + 20, n), rng.integers(-20, 10 * h + 20, n)], 1) / 10
        )
    elif kind == 4:  # float32 values, as a model writes them
        xy = (
            np.stack([rng.uniform(0, w, n), rng.uniform(0, h, n)], 1)
            .astype(np.float32)
            .astype(float)
        )
    else:  # two decimals, as COCO's files
        xy = np.round(np.stack([rng.uniform(-1, w + 1, n), rng.uniform(-1, h + 1, n)], 1), 2)
    if rng.random() < 0.3:  # repeated vertices
        i = int(rng.integers(0, n))
        xy = np.insert(xy, i, xy[i], axis=0)
    if rng.random() < 0.1:  # collinear
        xy[:, 1] = xy[0, 1]
    return xy.reshape(-1).tolist()


# ---------------------------------------------------------------- named cases


def test_encode_named_mask():
    # column-major: column 0 is 0 1 0, column 1 is 1 1 0 -> runs 1 1 1 2 1
    mask = np.asfortranarray(np.array([[0, 1], [1, 1], [0, 0]], np.uint8))
    want = {"size": [3, 2], "counts": b"11110"}
    assert_same(pmask.encode(mask), want)
    assert_same(cmask.encode(mask), want)
    assert pmask.area(want) == 3
    assert pmask.toBbox(want).tolist() == [0.0, 0.0, 2.0, 2.0]


def test_polygon_named_square():
    # the square (0,0)-(4,4) covers pixels 0..3 in both directions
    rle = pmask.frPyObjects([[0, 0, 4, 0, 4, 4, 0, 4]], 6, 6)[0]
    assert pmask.area(rle) == 16
    assert pmask.toBbox(rle).tolist() == [0.0, 0.0, 4.0, 4.0]
    assert_same(rle, cmask.frPyObjects([[0, 0, 4, 0, 4, 4, 0, 4]], 6, 6)[0])


def test_box_of_empty_foreground_wraps_as_maskapi_does():
    # counts [20, 0]: two runs, no foreground pixel; maskApi.c's unsigned w - xs + 1
    rle = {"size": [4, 5], "counts": b"d00"}
    assert_same(rle, cmask.frPyObjects({"size": [4, 5], "counts": [20, 0]}, 4, 5))
    want = np.array([5.0, 4.0, 2.0**32 - 5 + 1, 2.0**32 - 4 + 1])
    np.testing.assert_array_equal(pmask.toBbox(rle), want)
    assert_same(pmask.toBbox(rle), cmask.toBbox(rle))


def test_crowd_iou_named():
    a = np.zeros((4, 4), np.uint8, order="F")
    b = np.zeros((4, 4), np.uint8, order="F")
    a[:2, :2] = 1  # 4 pixels
    b[:, :2] = 1  # 8 pixels, 4 shared
    dt, gt = [pmask.encode(a)], [pmask.encode(b)]
    assert pmask.iou(dt, gt, [0]).tolist() == [[0.5]]
    assert pmask.iou(dt, gt, [1]).tolist() == [[1.0]]  # over the detection's area
    assert pmask.iou(gt, dt, [1]).tolist() == [[0.5]]


# ---------------------------------------------------------------- oracle: masks


@pytest.mark.parametrize("seed", [0, 1])
def test_masks_against_pycocotools(seed):
    for stack in mask_sets(seed):
        rles = cmask.encode(stack)
        assert_same(pmask.encode(stack), rles)
        assert_same(pmask.encode(stack[:, :, 0]), cmask.encode(stack[:, :, :1].copy(order="F"))[0])
        check_rles(rles, seed)


def test_encode_any_memory_order_and_bool():
    rng = np.random.default_rng(3)
    mask = (rng.random((9, 7, 3)) < 0.4).astype(np.uint8)
    want = cmask.encode(np.asfortranarray(mask))
    assert_same(pmask.encode(mask), want)  # C order
    assert_same(pmask.encode(mask.astype(bool)), want)
    assert_same(pmask.encode(mask[:, ::-1, :][:, ::-1, :]), want)  # strided
    assert_same(pmask.encode(mask[:, :, 1]), want[1])


def test_encode_bytes_other_than_0_and_1_start_runs():
    mask = np.asfortranarray(np.array([[0, 1, 2, 2, 1, 0, 3]], np.uint8).T)
    assert_same(pmask.encode(mask), cmask.encode(mask.reshape(7, 1, 1, order="F"))[0])


def test_empty_image_and_zero_masks():
    for shape in [(0, 0, 1), (0, 3, 2), (3, 0, 1), (4, 4, 0)]:
        mask = np.zeros(shape, np.uint8, order="F")
        assert_same(pmask.encode(mask), cmask.encode(mask))
    assert_same(pmask.area([]), cmask.area([]))
    assert_same(pmask.toBbox([]), cmask.toBbox([]))
    assert_same(pmask.merge([]), cmask.merge([]))
    rle = cmask.encode(np.zeros((0, 3, 1), np.uint8, order="F"))
    assert_same(pmask.area(rle), cmask.area(rle))
    assert_same(pmask.toBbox(rle), cmask.toBbox(rle))


# ---------------------------------------------------------------- oracle: polygons and boxes


@pytest.mark.parametrize("seed", range(4))
def test_polygons_against_pycocotools(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        polys = [random_polygon(rng, h, w) for _ in range(int(rng.integers(1, 4)))]
        want = cmask.frPyObjects(polys, h, w)
        got = pmask.frPyObjects(polys, h, w)
        assert_same(got, want)
        for p in polys:  # one polygon as a flat list (pycocotools fails on it)
            assert_same(pmask.frPyObjects(p, h, w), cmask.frPyObjects([p], h, w)[0])
        # an object of several parts, as annToRLE merges them; and their overlap
        check_rles(want, seed)


def test_polygon_edge_cases_against_pycocotools():
    h, w = 20, 30
    cases = [
        [5, 5, 5, 5, 5, 5],  # one point three times
        [1, 1, 10, 1, 20, 1],  # a line
        [0, 0, 10, 10, 10, 0, 0, 10],  # a bow tie (self-intersecting)
        [2, 2, 12, 2, 12, 12, 2, 12, 2, 2, 12, 2],  # retraced edges
        [-50, -50, 80, -50, 80, 70, -50, 70],  # covers the image
        [-10, 5, -1, 5, -1, 15, -10, 15],  # left of the image
        [31, 5, 40, 5, 40, 15, 31, 15],  # right of it
        [0.1, 0.1, 0.3, 0.1, 0.3, 0.3],  # smaller than a pixel
        [29.5, 19.5, 30.0, 19.5, 30.0, 20.0],  # the last pixel
        [0, 0, 30, 0, 30, 20, 0, 20],  # the whole image, exactly
        [-0.3, -0.1, 4.7, -0.3, 4.1, 6.3, -0.7, 5.9],  # negative rounding: C truncates toward 0
        [10, 0, 14, 10, 5, 4, 15, 4, 6, 10],  # a pentagram
        [3, 3, 3, 3, 9, 3, 9, 3, 9, 9, 3, 9],  # consecutive duplicates
    ]
    for poly in cases:
        assert_same(pmask.frPyObjects([poly], h, w), cmask.frPyObjects([poly], h, w))
    # holes: a ring as a frame minus its inside, and parts of one object merged
    outer, inner = [2, 2, 20, 2, 20, 18, 2, 18], [6, 6, 14, 6, 14, 12, 6, 12]
    check_rles(cmask.frPyObjects([outer, inner], h, w))


def test_boxes_against_pycocotools():
    rng = np.random.default_rng(7)
    for _ in range(30):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        n = int(rng.integers(1, 6))
        boxes = np.stack(
            [rng.uniform(-10, w, n), rng.uniform(-10, h, n), rng.uniform(-2, w, n), rng.uniform(-2, h, n)], 1
        )  # fmt: skip
        boxes[0] = np.round(boxes[0])
        want = cmask.frPyObjects(boxes, h, w)
        assert_same(pmask.frPyObjects(boxes, h, w), want)
        assert_same(pmask.frPyObjects(boxes.tolist(), h, w), want)  # pycocotools: TypeError
        assert_same(pmask.frPyObjects(boxes[0].tolist(), h, w), want[0])
        assert_same(pmask.frPyObjects(boxes.astype(np.float32), h, w), cmask.frPyObjects(boxes.astype(np.float32).astype(np.float64), h, w))  # fmt: skip
        crowd = rng.integers(0, 2, n).tolist()
        other = boxes[::-1].copy()
        assert_same(pmask.iou(boxes, other, crowd), cmask.iou(boxes, other, crowd))
        assert_same(pmask.iou(boxes.tolist(), other.tolist(), crowd), cmask.iou(boxes.tolist(), other.tolist(), crowd))  # fmt: skip
        assert_same(pmask.iou([b for b in boxes], other, crowd), cmask.iou([b for b in boxes], other, crowd))  # fmt: skip


# ---------------------------------------------------------------- oracle: RLE and strings


def random_counts(rng, area: int, zeros: bool) -> list[int]:
    """Run lengths summing to ``area``; with ``zeros``, empty runs anywhere."""
    k = int(rng.integers(1, 12))
    cuts = np.sort(rng.integers(0, area + 1, k - 1)) if area else np.zeros(k - 1, np.int64)
    counts = np.diff(np.concatenate([[0], cuts, [area]])).tolist()
    if not zeros:
        counts = [counts[0]] + [c for c in counts[1:] if c]  # a leading 0 is normal
        if len(counts) > 1 and counts[-1] == 0:
            counts.pop()
    return counts


@pytest.mark.parametrize("zeros", [False, True])
def test_uncompressed_rle_against_pycocotools(zeros):
    rng = np.random.default_rng(11 + zeros)
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(0 if zeros else 1, 12, 2))
        objs = [{"size": [h, w], "counts": random_counts(rng, h * w, zeros)} for _ in range(4)]
        want = cmask.frPyObjects(objs, h, w)
        assert_same(pmask.frPyObjects(objs, h, w), want)
        assert_same(pmask.frPyObjects(objs[0], 99, 99), cmask.frPyObjects(objs[0], 99, 99))
        if h * w:
            check_rles(want, int(rng.integers(1 << 30)), zero_runs=zeros)
        else:
            assert_same(pmask.area(want), cmask.area(want))
            assert_same(pmask.toBbox(want), cmask.toBbox(want))


def large_counts(rng, area: int) -> list[int] | None:
    """Run lengths up to ``2**32 - 1`` summing to ``area``, each within ``2**29`` below the
    one two before: maskApi.c cannot read back a difference of -2**29 or less (test below)."""
    limit = 1 << 29
    counts = [int(v) for v in rng.integers(0, min(area, 1 << 32) // 3 + 1, 3)]
    for _ in range(int(rng.integers(0, 6))):
        counts.append(max(0, counts[-2] + int(rng.integers(-limit + 1, limit))))
    last = area - sum(counts)
    if last < 0 or last <= counts[-2] - limit:
        return None
    return counts + [last]


def test_large_counts_and_strings():
    """Counts up to 2**32 - 1: values of 6 and 7 characters, negative differences."""
    rng = np.random.default_rng(5)
    for h, w in [(65535, 65535), (1, 4294967295), (4294967295, 1), (3000, 5000)]:
        objs = []
        while len(objs) < 5:
            counts = large_counts(rng, h * w)
            if counts is None:
                continue
            obj = {"size": [h, w], "counts": counts}
            # maskApi.c's rleToString has room for 6 bytes a count and a count
            # can take 7: only strings that fit are safe to make there
            if len(pmask.frPyObjects(obj, h, w)["counts"]) < 6 * len(counts):
                objs.append(obj)
        rles = cmask.frPyObjects(objs, h, w)
        assert_same(pmask.frPyObjects(objs, h, w), rles)
        check_rles(rles)


def test_a_string_maskapi_cannot_read_back_is_refused():
    # the difference 5 - 3e9 takes 7 characters; maskApi.c's decoder shifts the
    # sign fill as a C int by 35 (x86: by 3) and reads another count
    counts = [100, 3_000_000_000, 5, 1000, 4]
    rle = cmask.frPyObjects({"size": [1, sum(counts)], "counts": counts}, 1, sum(counts))
    assert_same(pmask.frPyObjects({"size": [1, sum(counts)], "counts": counts}, 1, 1), rle)
    assert cmask.area(rle) != 3_000_001_000  # pycocotools' own area is wrong
    with pytest.raises(PrcoreInputError, match="counts sum to"):
        pmask.area(rle)


def test_strings_as_pycocotools_reads_them():
    """Any string of the alphabet whose counts sum to its size: maskApi.c's decoding,
    including groups of 7 and more characters (C int shifts) and non-canonical values."""
    rng = np.random.default_rng(9)
    done = 0
    while done < 300:
        n = int(rng.integers(1, 30))
        s = bytes(rng.integers(48, 112, n).tolist())
        if (s[-1] - 48) & 0x20:
            s = s[:-1] + bytes([s[-1] - 32])
        counts = _decoded(s)
        total = int(counts.astype(np.int64).sum())
        if not 0 < total < 1 << 32:
            continue
        rle = {"size": [1, total], "counts": s}
        assert_same(pmask.area(rle), cmask.area(rle))
        assert_same(pmask.toBbox(rle), cmask.toBbox(rle))
        # merge of one mask re-encodes it; maskApi.c's buffer holds 6 bytes a count
        if len(pmask.merge([rle])["counts"]) < 6 * len(counts):
            assert_same(pmask.merge([rle]), cmask.merge([rle]))
        done += 1


def _decoded(s: bytes) -> np.ndarray:
    """The counts maskApi.c reads from ``s``, whatever they sum to."""
    return pmask._read_rles([{"size": [1, 1], "counts": s}], check=False).counts


def test_str_counts_and_json_escapes():
    rles = [r for stack in mask_sets(2) for r in cmask.encode(stack)]
    as_str = [{"size": r["size"], "counts": r["counts"].decode()} for r in rles]
    assert_same(pmask.area(as_str), cmask.area(as_str))
    crowd = [0] * len(rles)
    assert_same(pmask.iou(as_str, rles, crowd), cmask.iou(as_str, rles, crowd))

    # the kernel also reads the strings as a JSON file holds them: \\ for \, \u004f for O,
    # giving the counts, areas and boxes of the plain strings
    def escape(b: bytes) -> bytes:
        return b.replace(b"\\", b"\\\\").replace(b"O", b"\\u004f")

    raw = b"".join(r["counts"] for r in rles)
    assert b"\\" in raw and b"O" in raw
    escaped = escape(raw)
    ends = np.cumsum([len(escape(r["counts"])) for r in rles]).astype(np.int64)
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    h = np.array([r["size"][0] for r in rles], np.int64)
    w = np.array([r["size"][1] for r in rles], np.int64)
    counts = np.empty(len(escaped), np.uint32)
    offsets = np.empty(len(rles) + 1, np.int64)
    area = np.empty(len(rles), np.int64)
    bbox = np.empty((len(rles), 4), np.float64)
    buf = np.frombuffer(escaped, np.uint8)
    assert (
        _kernels.rle_from_strings(buf, starts, ends, h, w, True, counts, offsets, area, bbox) == -1
    )
    np.testing.assert_array_equal(counts[: offsets[-1]], np.concatenate([_decoded(r["counts"]) for r in rles]))  # fmt: skip
    np.testing.assert_array_equal(area, cmask.area(rles).astype(np.int64))
    np.testing.assert_array_equal(bbox, cmask.toBbox(rles))
    for bad in [b"\\x", b"\\u00", b"\\u004g", b"\\"]:
        buf = np.frombuffer(bad, np.uint8)
        one = np.ones(1, np.int64)
        end = np.array([len(bad)], np.int64)
        assert _kernels.rle_from_strings(buf, one - 1, end, one, one, True, counts, offsets, area, bbox) == 0  # fmt: skip


def test_strings_in_two_passes():
    """A first pass without counts or boxes gives every string's area and number of
    counts; a second decodes only the masks wanted, into exactly sized columns."""
    rles = [r for stack in mask_sets(4) for r in cmask.encode(stack)]
    strings = [r["counts"] for r in rles]
    buf = np.frombuffer(b"".join(strings), np.uint8)
    ends = np.cumsum([len(x) for x in strings]).astype(np.int64)
    starts = ends - np.array([len(x) for x in strings], np.int64)
    h = np.array([r["size"][0] for r in rles], np.int64)
    w = np.array([r["size"][1] for r in rles], np.int64)
    n = len(rles)
    offsets = np.empty(n + 1, np.int64)
    area = np.empty(n, np.int64)
    none = np.empty(0, np.uint32)
    no_box = np.empty((0, 4), np.float64)
    assert _kernels.rle_from_strings(buf, starts, ends, h, w, False, none, offsets, area, no_box) == -1  # fmt: skip
    np.testing.assert_array_equal(area, cmask.area(rles).astype(np.int64))
    want = np.flatnonzero(np.arange(n) % 3 == 1)
    lengths = np.diff(offsets)[want]
    counts = np.empty(lengths.sum(), np.uint32)
    part = np.empty(len(want) + 1, np.int64)
    bbox = np.empty((len(want), 4), np.float64)
    sub_area = np.empty(len(want), np.int64)
    args = (starts[want], ends[want], h[want], w[want], False, counts, part, sub_area, bbox)
    assert _kernels.rle_from_strings(buf, *args) == -1
    np.testing.assert_array_equal(np.diff(part), lengths)
    np.testing.assert_array_equal(bbox, cmask.toBbox([rles[i] for i in want]))
    np.testing.assert_array_equal(counts, np.concatenate([_decoded(strings[i]) for i in want]))
    # a bad string is found without storing anything too
    bad = np.frombuffer(b"<<>" + b"".join(strings), np.uint8)
    assert _kernels.rle_from_strings(bad, starts, ends + 3, h, w, False, none, offsets, area, no_box) == 0  # fmt: skip


def test_column_kernels_equal_pycocotools():
    """rle_area, rle_to_bbox and rle_check_area on columns, as a loader calls them."""
    rles = [r for stack in mask_sets(3) for r in cmask.encode(stack)]
    masks = pmask._read_rles(rles)
    area = np.empty(len(rles), np.int64)
    _kernels.rle_area(masks.counts, masks.offsets, area)
    np.testing.assert_array_equal(area, cmask.area(rles).astype(np.int64))
    bbox = np.empty((len(rles), 4), np.float64)
    _kernels.rle_to_bbox(masks.counts, masks.offsets, masks.h, masks.w, bbox)
    np.testing.assert_array_equal(bbox, cmask.toBbox(rles))
    assert _kernels.rle_check_area(masks.counts, masks.offsets, masks.h * masks.w) == -1
    odd = masks.h * masks.w
    odd[5] += 1
    assert _kernels.rle_check_area(masks.counts, masks.offsets, odd) == 5


# ---------------------------------------------------------------- oracle: IoU


def test_iou_sizes_and_empty_sides_as_pycocotools():
    a = cmask.encode(np.asfortranarray(np.ones((5, 6, 2), np.uint8)))
    # b: boxes overlapping a's, another size; c: no box, so 0 rather than -1
    b = cmask.encode(np.asfortranarray(np.ones((6, 5, 1), np.uint8)))
    c = cmask.encode(np.asfortranarray(np.zeros((6, 5, 1), np.uint8)))
    assert_same(pmask.iou(a, b + c, [0, 1]), cmask.iou(a, b + c, [0, 1]))
    assert pmask.iou(a, b, [0]).tolist() == [[-1.0], [-1.0]]
    for dt, gt, crowd in [
        ([], [], []),
        (a, [], []),
        ([], a, [0, 0]),
        (np.zeros((0, 4)), a, [0, 0]),
    ]:
        assert_same(pmask.iou(dt, gt, crowd), cmask.iou(dt, gt, crowd))
    assert_same(pmask.iou(a, a, np.array([True, False])), cmask.iou(a, a, np.array([True, False])))
    assert_same(pmask.iou(a, a, [2, 0]), cmask.iou(a, a, [2, 0]))  # any non-zero flag is a crowd


# ---------------------------------------------------------------- the evaluation kernel


def _columns(rles: list[dict]):
    """Counts columns and :func:`toBbox` boxes, as a loader builds them."""
    counts = [_decoded(r["counts"]) for r in rles]
    offsets = np.zeros(len(rles) + 1, np.int64)
    np.cumsum([len(c) for c in counts], out=offsets[1:])
    flat = np.concatenate(counts) if counts else np.zeros(0, np.uint32)
    return flat, offsets, np.ascontiguousarray(cmask.toBbox(rles).reshape(-1, 4))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_iou_cells_equal_maskutils_iou(seed):
    rng = np.random.default_rng(seed)
    cells_dt, cells_gt, crowd_cells = [], [], []
    for _ in range(12):
        h, w = (int(v) for v in rng.integers(8, 64, 2))
        n_gt, n_dt = (int(v) for v in rng.integers(0, 6, 2))
        gt = [
            cmask.merge(cmask.frPyObjects([random_polygon(rng, h, w)], h, w)) for _ in range(n_gt)
        ]
        dt = []
        for _ in range(n_dt):
            if gt and rng.random() < 0.6:  # near a ground truth
                m = cmask.decode(gt[int(rng.integers(len(gt)))]).copy(order="F")
                m = np.roll(m, int(rng.integers(-3, 4)), axis=int(rng.integers(2)))
                m[rng.random(m.shape) < 0.05] ^= 1
            else:
                m = disc(h, w, rng.uniform(0, h), rng.uniform(0, w), rng.uniform(1, 15))
            dt.append(cmask.encode(np.asfortranarray(m)))
        cells_dt.append(dt)
        cells_gt.append(gt)
        crowd_cells.append((rng.random(n_gt) < 0.3).tolist())
    # detections in file order, shuffled; the cells reach them through det_index
    all_dt = [r for dt in cells_dt for r in dt]
    order = rng.permutation(len(all_dt))
    file_dt = [all_dt[i] for i in order]
    det_index = np.argsort(order).astype(np.int32)
    # their strings as a results file holds them: between other bytes, JSON-escaped for
    # odd seeds (a backslash is an RLE character)
    escaped = seed % 2 == 1
    texts = [r["counts"].decode() for r in file_dt]
    texts = [json.dumps(t)[1:-1] if escaped else t for t in texts]
    starts, ends, data = [], [], b'{"x": "'
    for t in texts:
        starts.append(len(data))
        data += t.encode()
        ends.append(len(data))
        data += b'"}, {"counts": "'
    buf = np.frombuffer(data, np.uint8)
    starts, ends = np.array(starts, np.int64), np.array(ends, np.int64)
    det_h = np.array([r["size"][0] for r in file_dt], np.int64)
    det_w = np.array([r["size"][1] for r in file_dt], np.int64)
    runs = np.empty(max(int((ends - starts).max(initial=0)), 1), np.uint32)
    # ground-truth masks in another order too; the cells reach them through gt_index
    gt_all = [r for gt in cells_gt for r in gt]
    gt_order = rng.permutation(len(gt_all))
    gt_counts, gt_mask_offsets, gt_bbox = _columns([gt_all[i] for i in gt_order])
    gt_index = np.argsort(gt_order).astype(np.int64)
    gt_crowd = np.array([c for cs in crowd_cells for c in cs], bool)
    det_offsets = np.zeros(len(cells_dt) + 1, np.int64)
    np.cumsum([len(d) for d in cells_dt], out=det_offsets[1:])
    gt_offsets = np.zeros(len(cells_gt) + 1, np.int64)
    np.cumsum([len(g) for g in cells_gt], out=gt_offsets[1:])
    sizes = np.diff(det_offsets) * np.diff(gt_offsets)
    sim_offsets = np.zeros(len(cells_dt) + 1, np.int64)
    np.cumsum(sizes, out=sim_offsets[1:])
    c_lo, c_hi = 2, len(cells_dt)  # a range of cells, as a thread gets
    sim = np.full(sim_offsets[c_hi] - sim_offsets[c_lo], np.nan)
    _kernels.mask_iou_cells(
        det_offsets, det_index, buf, starts, ends, det_h, det_w, escaped, gt_offsets, gt_index,
        gt_counts, gt_mask_offsets, gt_bbox, gt_crowd, sim_offsets, sim, c_lo, c_hi, runs,
    )  # fmt: skip
    for c in range(c_lo, c_hi):
        dt, gt = cells_dt[c], cells_gt[c]
        if not dt or not gt:
            continue
        s0 = sim_offsets[c] - sim_offsets[c_lo]
        got = sim[s0 : s0 + len(dt) * len(gt)].reshape(len(dt), len(gt))
        want = cmask.iou(dt, gt, crowd_cells[c])
        np.testing.assert_array_equal(got, want, strict=True)


# ---------------------------------------------------------------- bad input


GOOD = {"size": [3, 4], "counts": b"<"}  # 12 zeros


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: pmask.frPyObjects([[1, 2, 3, 4, 5, 6, 7]], 10, 10), "odd number of coordinates"),
        (lambda: pmask.frPyObjects([[1, 2, 3, 4, 5, 6], [1, 2, 3, 4]], 10, 10), "needs at least 3"),
        (lambda: pmask.frPyObjects([[1, 2, 3, 4, 5, 6], []], 10, 10), "needs at least 3"),
        (lambda: pmask.frPyObjects([[1, 2, 3, float("nan"), 5, 6]], 10, 10), "finite"),
        (lambda: pmask.frPyObjects([[1, 2, 3, 1e12, 5, 6]], 10, 10), "finite"),
        (lambda: pmask.frPyObjects([[1, 2, 3, 4, 5, 6]], 0, 10), "0 x 10 image"),
        (lambda: pmask.frPyObjects([[1, 2, 3, 4, 5, 6]], -1, 10), "non-negative"),
        (lambda: pmask.frPyObjects([[1, 2, 3, 4, 5, 6]], 70000, 70000), "not supported"),
        (lambda: pmask.frPyObjects({"size": [2, 2], "counts": [1, 2]}, 2, 2), "sum to 3, not"),
        (lambda: pmask.frPyObjects({"size": [2, 2], "counts": [1, -2, 5]}, 2, 2), "whole numbers"),
        (lambda: pmask.frPyObjects({"size": [2, 2], "counts": [1.5, 2.5]}, 2, 2), "whole numbers"),
        (lambda: pmask.frPyObjects({"size": [2, 2], "counts": b"4"}, 2, 2), "compressed already"),
        (lambda: pmask.frPyObjects({"size": [2], "counts": [4]}, 2, 2), "height, width"),
        (lambda: pmask.frPyObjects("x", 2, 2), "expected polygons"),
        (lambda: pmask.frPyObjects(np.zeros((2, 3)), 2, 2), "shape"),
        (
            lambda: pmask.area({"size": [3, 4], "counts": b"="}),
            "sum to 13, not to height x width = 3 x 4",
        ),
        (lambda: pmask.area({"size": [3, 4], "counts": b"<p"}), "byte b'p' at position 1"),
        (lambda: pmask.area({"size": [3, 4], "counts": b"<\x00"}), "position 1"),
        (lambda: pmask.area({"size": [3, 4], "counts": b"<1_"}), "ends inside a value"),
        (lambda: pmask.area({"size": [3, 4], "counts": [12]}), "frPyObjects first"),
        (lambda: pmask.area({"size": [3, 4]}), "'counts'"),
        (lambda: pmask.area([GOOD, 3]), "record 1"),
        (lambda: pmask.decode([]), "at least one"),
        (lambda: pmask.decode([GOOD, {"size": [4, 3], "counts": b"<"}]), "one size"),
        (lambda: pmask.merge([GOOD, {"size": [2, 6], "counts": b"<"}]), "one size"),
        (lambda: pmask.merge(GOOD), "list"),
        (lambda: pmask.merge([GOOD], intersect=0.5), "intersect"),
        (lambda: pmask.encode(np.zeros((2, 2), np.int64)), "uint8"),
        (lambda: pmask.encode(np.zeros(4, np.uint8)), "dimensions"),
        (lambda: pmask.encode([[0, 1]]), "numpy array"),
        (lambda: pmask.iou([GOOD], [GOOD], [0, 1]), "2 flags for 1"),
        (lambda: pmask.iou([GOOD], [[0, 0, 1, 1]], [0]), "both"),
        (lambda: pmask.iou(np.zeros(4), [GOOD], [0]), "shape"),
        (lambda: pmask.iou((GOOD,), [GOOD], [0]), "tuple"),
        (lambda: pmask.iou([GOOD, [1, 2]], [GOOD], [0]), "list of boxes"),
        (lambda: pmask.iou([GOOD], [GOOD], None), "iscrowd"),
    ],
)
def test_bad_input_raises_one_clear_error(call, message):
    with pytest.raises(PrcoreInputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        call()


def test_errors_are_value_errors_with_a_location():
    with pytest.raises(ValueError) as caught:
        pmask.toBbox([GOOD, GOOD, {"size": [3, 4], "counts": b"="}])
    assert caught.value.index == 2 and caught.value.field == "counts"
