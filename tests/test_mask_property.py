"""Hypothesis: prcore.mask equal to pycocotools.mask on random masks, polygons, boxes,
run lengths and strings, for every function that takes them."""

from __future__ import annotations

import numpy as np
import pycocotools.mask as cmask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from test_mask import _decoded, assert_same, check_rles

import prcore.mask as pmask

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mask_stacks(draw) -> np.ndarray:
    h, w, n = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 4))
    values = st.sampled_from([0, 1]) if draw(st.booleans()) else st.integers(0, 2)
    stack = draw(arrays(np.uint8, (h, w, n), elements=values))
    return np.asfortranarray(stack)


@SETTINGS
@given(mask_stacks())
def test_masks(stack):
    rles = cmask.encode(stack)
    assert_same(pmask.encode(stack), rles)
    check_rles(rles)


def coordinates(size: int) -> st.SearchStrategy[float]:
    """Where annotators and models put vertices: whole pixels, tenths (on the 5x
    grid's rounding edges), two decimals, float32 values, a little outside."""
    return st.one_of(
        st.integers(-3, size + 3).map(float),
        st.integers(-30, 10 * size + 30).map(lambda v: v / 10),
        st.integers(-300, 100 * size + 300).map(lambda v: v / 100),
        st.floats(-3, size + 3, width=32).map(float),
    )


@st.composite
def polygon_sets(draw) -> tuple[list[list[float]], int, int]:
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    point = st.tuples(coordinates(w), coordinates(h))
    polys = []
    for _ in range(draw(st.integers(1, 3))):
        points = draw(st.lists(point, min_size=3, max_size=9))
        if draw(st.booleans()):  # a repeated vertex
            i = draw(st.integers(0, len(points) - 1))
            points.insert(i, points[i])
        polys.append([v for p in points for v in p])
    return polys, h, w


@SETTINGS
@given(polygon_sets())
def test_polygons(case):
    polys, h, w = case
    rles = cmask.frPyObjects(polys, h, w)
    assert_same(pmask.frPyObjects(polys, h, w), rles)
    check_rles(rles)


@SETTINGS
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.lists(st.tuples(*[st.floats(-10, 40, width=32).map(float)] * 4), min_size=1, max_size=5),
    st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_boxes(h, w, boxes, crowd):
    boxes = np.array(boxes, np.float64)
    rles = cmask.frPyObjects(boxes, h, w)
    assert_same(pmask.frPyObjects(boxes, h, w), rles)
    crowd = crowd[: len(boxes)]
    assert_same(pmask.iou(boxes, boxes[::-1].copy(), crowd), cmask.iou(boxes, boxes[::-1].copy(), crowd))  # fmt: skip
    check_rles(rles)


@st.composite
def run_lengths(draw) -> tuple[list[dict], int, int]:
    """Uncompressed RLE of one size; zero-length runs anywhere."""
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    objs = []
    for _ in range(draw(st.integers(1, 4))):
        cuts = sorted(draw(st.lists(st.integers(0, h * w), max_size=8)))
        counts = np.diff([0, *cuts, h * w]).tolist()
        objs.append({"size": [h, w], "counts": counts})
    return objs, h, w


@SETTINGS
@given(run_lengths())
def test_uncompressed_rle(case):
    objs, h, w = case
    rles = cmask.frPyObjects(objs, h, w)
    assert_same(pmask.frPyObjects(objs, h, w), rles)
    check_rles(rles, zero_runs=True)


@SETTINGS
@given(st.binary(min_size=1, max_size=40).map(lambda b: bytes(48 + (c & 63) for c in b)))
def test_any_string_of_the_alphabet(s):
    """maskApi.c's decoding of any string: the size set to what its counts sum to."""
    if (s[-1] - 48) & 0x20:
        s = s[:-1] + bytes([s[-1] - 32])
    counts = _decoded(s)
    total = int(counts.astype(np.int64).sum())
    if not 0 < total < 1 << 32:
        return
    rle = {"size": [1, total], "counts": s}
    assert_same(pmask.area(rle), cmask.area(rle))
    assert_same(pmask.toBbox(rle), cmask.toBbox(rle))
    assert_same(pmask.iou([rle], [rle], [1]), cmask.iou([rle], [rle], [1]))
    if len(pmask.merge([rle])["counts"]) < 6 * len(counts):  # maskApi.c's buffer
        assert_same(pmask.merge([rle]), cmask.merge([rle]))
