"""Hypothesis: random Params on random small datasets, prcore equal to pycocotools.

Id subsets (absent ids, empty lists, duplicates, any order), custom area ranges
(overlapping, zero-width, inverted, bounds exactly at object areas, 1 to 6 of
them, any labels), custom iouThrs / recThrs / maxDets (one or two values,
unsorted, repeated), useCats on and off. ``evaluate`` and the drop-in
``COCOeval`` both, arrays element for element.

Where pycocotools' ``summarize()`` crashes (fewer than three maxDets: it reads
``maxDets[2]``) the arrays are still compared and the stats are prcore's
documented ones (pycocotools_oracle.documented_stats).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_oracle_property import datasets, f32

from pycocotools_oracle import check

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ABSENT_IMG_IDS = [0, 99, 10**9]  # datasets() numbers its images 1..6
ABSENT_CAT_IDS = [3, 500]


def _check(gt, dets, prcore_kw=None, **params):
    if not dets:
        return  # pycocotools' loadRes cannot take []; covered by hand in test_oracle_cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(gt, dets, drop_in=True, prcore_kw=prcore_kw, **params)


def _some_of(draw, pool: list[int]) -> list[int]:
    """A sub-list of ``pool``: maybe empty, maybe repeated ids, in any order."""
    ids = draw(st.lists(st.sampled_from(pool), max_size=len(pool) + 2))
    return draw(st.permutations(ids))


@SETTINGS
@given(datasets(), st.data())
def test_id_subsets(data, draw):
    gt, dets = data
    params = {"useCats": int(draw.draw(st.booleans()))}
    if draw.draw(st.integers(0, 3)):
        pool = [im["id"] for im in gt["images"]] + ABSENT_IMG_IDS
        params["imgIds"] = _some_of(draw.draw, pool)
    if draw.draw(st.integers(0, 3)):
        pool = [c["id"] for c in gt["categories"]] + ABSENT_CAT_IDS
        params["catIds"] = _some_of(draw.draw, pool)
    prcore_kw = None
    if not params["useCats"] and "catIds" in params:
        # With useCats=0, pycocotools skips np.unique on catIds: it pools each image's
        # objects in catIds' order (which decides score and IoU ties) and counts a
        # repeated id's objects twice. prcore sorts and de-duplicates the ids (its
        # documented Params); test_oracle_cases pins the difference.
        prcore_kw = {"catIds": params["catIds"]}
        params["catIds"] = sorted(set(params["catIds"]))
    _check(gt, dets, prcore_kw=prcore_kw, **params)


def _object_areas(gt: dict, dets: list) -> list[float]:
    """Every area a range bound can fall on: ground-truth areas, detection w*h (loadRes)."""
    areas = [a["area"] for a in gt["annotations"]]
    areas += [d["bbox"][2] * d["bbox"][3] for d in dets]
    return areas


@SETTINGS
@given(datasets(), st.data())
def test_area_ranges(data, draw):
    gt, dets = data
    areas = _object_areas(gt, dets) or [100.0]
    on_object = st.sampled_from(areas)
    bound = st.one_of(
        on_object,  # exactly at an object's area: both bounds are inclusive
        on_object.map(lambda a: math.nextafter(a, -math.inf)),
        on_object.map(lambda a: math.nextafter(a, math.inf)),
        st.sampled_from([0.0, 32.0**2, 96.0**2, 1e5**2, 1e10, -1.0]),
        st.floats(0, 2e4),
    )
    n = draw.draw(st.integers(1, 6))
    ranges = []
    for _ in range(n):
        lo = draw.draw(bound)
        kind = draw.draw(st.integers(0, 4))
        if kind == 0:
            hi = lo  # zero width: only objects of exactly this area
        elif kind == 1:
            hi = draw.draw(bound)  # any order, inverted included (nothing inside)
        else:
            hi = max(lo, draw.draw(bound))
        ranges.append([lo, hi])
    params = {"areaRng": ranges}
    if n != 4 or draw.draw(st.booleans()):
        # The labels decide which ranges the stats read ('all', 'small', ...); a label may
        # repeat (the stat then averages both) or be unknown (the stat is -1).
        params["areaRngLbl"] = draw.draw(
            st.lists(
                st.sampled_from(["all", "small", "medium", "large", "tiny"]),
                min_size=n,
                max_size=n,
            )
        )
    if draw.draw(st.booleans()):
        params["useCats"] = 0
    _check(gt, dets, **params)


THRESHOLD = st.one_of(
    st.sampled_from([0.0, 0.5, 0.75, 1.0, 0.95, 1 / 3, 2 / 3, 0.25, 0.1]),
    st.floats(0, 1),
    st.floats(0, 1).map(f32),
)


@SETTINGS
@given(
    datasets(),
    st.lists(THRESHOLD, min_size=1, max_size=5),
    st.one_of(st.none(), st.lists(THRESHOLD, min_size=1, max_size=8)),
    st.lists(st.integers(1, 12), min_size=1, max_size=4),
    st.booleans(),
)
def test_thresholds_and_max_dets(data, iou_thrs, rec_thrs, max_dets, use_cats):
    """Thresholds in any order, repeated, at 0 and 1; maxDets like [1, 3] or [5]."""
    params = {"iouThrs": np.array(iou_thrs), "maxDets": max_dets, "useCats": int(use_cats)}
    if rec_thrs is not None:
        params["recThrs"] = np.array(rec_thrs)
    _check(*data, **params)
