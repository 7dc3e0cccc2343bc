"""Shared fixtures: synthetic shapes, a tiny Mask R-CNN trained on them, one reference run."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import pytest

sys.path.insert(0, os.path.dirname(__file__))
# As in tests/conftest.py: these tests run prcore's JIT kernels, and no run here
# starts a background build of the ahead-of-time ones.
os.environ.setdefault("PRCORE_NO_NATIVE", "1")


@dataclass(frozen=True)
class Shapes:
    root: str
    gt: str
    images: str
    weights: str
    config: str
    opts: tuple[str, ...]

    def infer_args(self, out: str, *extra: str) -> list[str]:
        return [
            "infer",
            "--config-file",
            self.config,
            "--gt",
            self.gt,
            "--images",
            self.images,
            "--out",
            out,
            "--weights",
            self.weights,
            "--device",
            "cpu",
            "--no-progress",
            "--num-workers",
            "1",
            *extra,
            *self.opts,
        ]


@pytest.fixture(scope="session")
def shapes(tmp_path_factory) -> Shapes:
    pytest.importorskip("torch")
    pytest.importorskip("detectron2")
    import shapes as shapes_mod

    root = tmp_path_factory.mktemp("shapes")
    train_gt = shapes_mod.write_dataset(str(root / "train"), 64, seed=1)
    gt = shapes_mod.write_dataset(str(root / "val"), 16, seed=2)
    weights = shapes_mod.train_tiny_model(
        train_gt, str(root / "train" / "images"), str(root / "tiny.pth"), iters=60
    )
    return Shapes(
        str(root),
        gt,
        str(root / "val" / "images"),
        weights,
        shapes_mod.BASE_CONFIG,
        tuple(shapes_mod.tiny_opts()),
    )


@pytest.fixture(scope="session")
def reference_results(shapes, tmp_path_factory) -> str:
    """One single-process run of the command, shared by the tests that only read it."""
    from prcore_detectron2.cli import main

    out = str(tmp_path_factory.mktemp("ref") / "results.json")
    assert main(shapes.infer_args(out)) == 0
    return out
