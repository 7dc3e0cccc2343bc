"""The small example dataset shipped inside the package (for ``prcore demo``)."""

from __future__ import annotations

from pathlib import Path

_DATA = Path(__file__).parent / "data"


def example_paths() -> tuple[Path, Path]:
    """Paths of the bundled ground truth and detections (detectron2-style, scores >= 0.05)."""
    return _DATA / "example_gt.json", _DATA / "example_dt.json"
