"""The cold-start rule: scanners are used once compiled, results are the same either way."""

from __future__ import annotations

import numpy as np

import prcore
from prcore import load, warmup
from prcore._kernels.jit import compiled_or_cached
from prcore._kernels.results_scan import scan_results_kernel
from prcore.example import example_paths


def test_compile_scanners_makes_them_ready():
    warmup.compile_scanners()
    assert warmup.scanners_ready()
    assert compiled_or_cached(scan_results_kernel)


def test_general_and_fast_paths_agree(monkeypatch):
    gt, dt = example_paths()
    warmup.compile_scanners()
    fast = prcore.evaluate(gt, dt)
    monkeypatch.setattr(load, "_scanners_ready", lambda: False)
    general = prcore.evaluate(gt, dt)
    for a, b in zip(fast.arrays().values(), general.arrays().values()):
        np.testing.assert_array_equal(a, b)


def test_warmup_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("PRCORE_NO_WARMUP", "1")
    monkeypatch.setattr(warmup, "_started", False)
    warmup.start()
    assert warmup._started is False


def test_background_compile_starts_after_the_evaluation(monkeypatch):
    """The run that lacks the scanners is not slowed by their compile: the
    background process starts only once that evaluation is done."""
    from prcore import engine

    events = []
    monkeypatch.delenv("PRCORE_NO_WARMUP", raising=False)
    monkeypatch.setattr(warmup, "_requested", False)
    monkeypatch.setattr(warmup, "_started", False)
    monkeypatch.setattr(warmup, "scanners_ready", lambda: False)
    monkeypatch.setattr(warmup.atexit, "register", lambda fn: events.append("atexit"))
    monkeypatch.setattr(warmup.subprocess, "Popen", lambda *a, **k: events.append("compile"))
    real_match = engine.match
    monkeypatch.setattr(engine, "match", lambda *a: (events.append("match"), real_match(*a))[1])
    prcore.evaluate(*example_paths())
    assert events == ["atexit", "match", "compile"]
