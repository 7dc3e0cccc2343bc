"""The command's hold on library output: shown after success, dropped after failure,
and every process-wide setting it touched put back."""

from __future__ import annotations

import logging
import os
import warnings

import pytest

from prcore.errors import PrcoreWarning
from prcore_detectron2.console import held_library_output


def _noise():
    warnings.warn("a library's deprecation", FutureWarning, stacklevel=1)
    warnings.warn("scores below 0.05 are missing", PrcoreWarning, stacklevel=1)
    logging.getLogger("fvcore.common.checkpoint").warning("Skip loading parameter 'x'")


def test_success_shows_prcore_warnings_and_log_warnings_after_the_block(capsys):
    with held_library_output():
        _noise()
        assert capsys.readouterr().err == ""  # held while the block runs
    assert capsys.readouterr().err.splitlines() == [
        "prcore-detectron2: warning: scores below 0.05 are missing",
        "WARNING fvcore.common.checkpoint: Skip loading parameter 'x'",
    ]


def test_failure_drops_everything(capsys):
    with pytest.raises(RuntimeError), held_library_output():
        _noise()
        raise RuntimeError("bad input")
    assert capsys.readouterr().err == ""


def test_ranks_other_than_0_drop_it_on_success(capsys):
    with held_library_output(replay=False):
        _noise()
    assert capsys.readouterr().err == ""


def test_settings_restored(monkeypatch):
    monkeypatch.setattr("sys.warnoptions", [])
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    filters = list(warnings.filters)
    handlers = list(logging.getLogger().handlers)
    with held_library_output():
        # Processes started in the block (spawned ranks, DataLoader workers) ignore
        # warnings from their first import on.
        assert os.environ["PYTHONWARNINGS"] == "ignore"
    assert "PYTHONWARNINGS" not in os.environ
    assert warnings.filters == filters
    assert logging.getLogger().handlers == handlers


def test_users_warning_options_decide(monkeypatch):
    monkeypatch.setattr("sys.warnoptions", ["default"])
    monkeypatch.setenv("PYTHONWARNINGS", "default")
    with pytest.warns(FutureWarning), held_library_output():
        warnings.warn("shown as the user asked", FutureWarning, stacklevel=1)
    assert os.environ["PYTHONWARNINGS"] == "default"
