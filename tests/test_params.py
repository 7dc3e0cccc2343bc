"""Params: pycocotools' defaults, validation on construction, and the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import prcore
from prcore.example import example_paths


def test_defaults_are_pycocotools():
    p = prcore.Params()
    assert p.iou_thrs == tuple(np.linspace(0.5, 0.95, 10).tolist())
    assert p.iou_thrs[5] == 0.75
    assert p.rec_thrs == tuple(np.linspace(0.0, 1.0, 101).tolist())
    assert p.max_dets == (1, 10, 100)
    assert p.area_rng == ((0.0, 1e10), (0.0, 1024.0), (1024.0, 9216.0), (9216.0, 1e10))
    assert p.area_rng_lbl == ("all", "small", "medium", "large")
    assert prcore.Params(iou_type="keypoints").max_dets == (20,)


def test_ids_sorted_and_deduplicated_max_dets_sorted():
    p = prcore.Params(img_ids=[3, 1, 3], cat_ids=(np.int64(2),), max_dets=[100, 1])
    assert (p.img_ids, p.cat_ids, p.max_dets) == ((1, 3), (2,), (1, 100))
    assert p.with_ids([5, 4], [1]).img_ids == (4, 5)


def test_custom_area_ranges_get_labels():
    p = prcore.Params(area_rng=[[0, 100], [100, 1e10]])
    assert p.area_rng_lbl == ("all", "small")  # pycocotools pairs its default labels by position
    assert prcore.Params(area_rng=[[0, 1]] * 5).area_rng_lbl[3:] == ("large", "area4")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"iou_type": "mask"}, "iou_type"),
        ({"img_ids": [1.5]}, "img_ids"),
        ({"cat_ids": ["a"]}, "cat_ids"),
        ({"iou_thrs": [0.5, 1.5]}, "iou_thrs"),
        ({"rec_thrs": []}, "rec_thrs"),
        ({"max_dets": [0]}, "max_dets"),
        ({"area_rng": [[0]]}, "area_rng"),
        ({"area_rng": [[0, 1]], "area_rng_lbl": ["a", "b"]}, "area_rng_lbl"),
        ({"img_ids": [float("inf")]}, "img_ids"),
        ({"iou_thrs": [10**400]}, "iou_thrs"),
        ({"iou_thrs": "1"}, "iou_thrs"),
        ({"rec_thrs": [float("nan")]}, "rec_thrs"),
        ({"area_rng": [[0, 10**400]]}, "area_rng"),
        ({"use_cats": "false"}, "use_cats"),
        ({"max_dets": 100}, "max_dets"),
    ],
)
def test_bad_params_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"Params.*{field}"):
        prcore.Params(**kwargs)


def test_params_are_frozen():
    with pytest.raises(AttributeError):
        prcore.Params().use_cats = False


def test_report_round_trips_through_pydantic():
    from prcore.report import EvaluationReport

    result = prcore.evaluate(*example_paths(), params=prcore.Params(max_dets=(1, 5, 50)))
    doc = json.loads(result.to_json())
    assert doc["params"]["max_dets"] == [1, 5, 50]
    again = EvaluationReport.model_validate(doc)
    assert again.params == result.params
    assert again.stats == result.stats.tolist()


def test_evaluating_does_not_import_pydantic():
    """pydantic is for reports and for precise input errors, not for evaluating files."""
    code = (
        "import sys, prcore; from prcore.example import example_paths; "
        "prcore.evaluate(*example_paths()); "
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
