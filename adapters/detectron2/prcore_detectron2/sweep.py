"""Inference once per value of one config key; COCO stats and time side by side."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from prcore_detectron2.config import override_opts
from prcore_detectron2.errors import AdapterInputError
from prcore_detectron2.infer import InferenceSpec, remove_outputs, run


@dataclass(frozen=True)
class SweepSetting:
    key: str
    values: tuple[str, ...]


def parse_sweep(text: str) -> SweepSetting:
    key, sep, values = text.partition("=")
    vals = tuple(v.strip() for v in values.split(",") if v.strip())
    if not sep or not key.strip() or not vals:
        raise AdapterInputError(f"--sweep {text!r}: expected KEY=v1,v2,...")
    return SweepSetting(key.strip(), vals)


def sweep_out(out: str, i: int, value: str) -> str:
    stem, ext = os.path.splitext(out)
    safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in value)
    return f"{stem}.sweep{i}-{safe}{ext or '.json'}"


def remove_sweep_outputs(out: str, setting: SweepSetting) -> None:
    """Every value's results and sidecar from a previous sweep, before any value runs."""
    for i, value in enumerate(setting.values):
        remove_outputs(sweep_out(out, i, value))


def run_sweep(spec: InferenceSpec, setting: SweepSetting, **launch_kw) -> str:
    """Run every setting, evaluate each with prcore, return the table."""
    import prcore
    from prcore.summary import STAT_NAMES, fmt_num, format_table

    rows = []
    for i, value in enumerate(setting.values):
        s = replace(
            spec,
            out=sweep_out(spec.out, i, value),
            opts=(*spec.opts, *override_opts(spec.config_file, setting.key, value)),
            extra_meta={"sweep": {"key": setting.key, "value": value}},
        )
        meta = run(s, **launch_kw)
        if not meta:  # not the machine of rank 0
            continue
        stats = prcore.evaluate(spec.gt, s.out).stats
        rows.append(
            [
                value,
                f"{meta['seconds']:.2f}",
                f"{meta['images_per_s']:.2f}",
                str(meta["n_detections"]),
                *(fmt_num(v) for v in stats),
                os.path.basename(s.out),
            ]
        )
    headers = [setting.key, "seconds", "img/s", "dets", *STAT_NAMES, "results"]
    return format_table(headers, rows)
