"""The prcore command: each subcommand on the bundled example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import prcore
from prcore.cli import main
from prcore.example import example_paths

GT, DT = (str(p) for p in example_paths())


def test_demo(capsys, tmp_path, monkeypatch):
    """The bundled example: summary, per-class table, two threshold picks, the
    truncation note and a sweep, each as the library gives it; then where its HTML
    report went (./prcore-demo-report by default)."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    result = prcore.evaluate(GT, DT)
    note = result.truncation()
    assert note  # the example stops at detectron2's 0.05 cut-off
    blocks = [
        "prcore demo: example_gt.json + example_dt.json (bundled example)",
        result.summary(),
        result.per_class_table(),
        result.select_thresholds(best_f1=True).to_text(),
        result.select_thresholds(min_precision=0.9).to_text(),
        note,
        result.sweep([0.05, 0.3, 0.5, 0.7]).to_text(),
        f"prcore demo: wrote the report to {Path.cwd() / 'prcore-demo-report' / 'report.html'}",
    ]
    assert out == "\n\n".join(blocks) + "\n"
    report = json.loads((tmp_path / "prcore-demo-report" / "report.json").read_text())
    assert report["sections"]["summary"]["numbers"]["stats"] == result.stats_dict()
    assert report["inputs"] == {"ground truth": "example_gt.json", "detections": "example_dt.json"}


def test_demo_report_where_asked(capsys, tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"prcore demo: wrote the report to {out / 'report.html'}"
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_eval_prints_summary_then_per_class(capsys):
    assert main(["eval", GT, DT]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert prcore.evaluate(GT, DT).summary().splitlines() == lines[:12]
    assert lines[13].split()[:4] == ["class", "AP", "AP50", "AP75"]


def test_threshold_json(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert (
        main(["threshold", GT, DT, "--min-precision", "0.8", "--per-class", "--json", str(out)])
        == 0
    )
    result = prcore.evaluate(GT, DT)
    library = result.select_thresholds(min_precision=0.8, per_class=True)
    assert json.loads(out.read_text()) == library.to_dict()
    assert capsys.readouterr().out == library.to_text() + "\n"
    # the shared pick, read off the pooled raw curve: of the thresholds with precision
    # >= 0.8, those keeping the most true positives, the highest of them
    report = json.loads(out.read_text())
    assert [p["category_name"] for p in report["per_class"]] == list(result.cat_names)
    curve = result.curve(None)
    ok = np.flatnonzero(curve.precision[:-1] >= 0.8)
    i = ok[curve.tp[ok] == curve.tp[ok].max()].max()
    assert report["shared"]["threshold"] == curve.thresholds[i]
    assert (report["shared"]["tp"], report["shared"]["fp"]) == (curve.tp[i], curve.fp[i])


@pytest.mark.parametrize(
    ("flags", "n_per_class"), [([], 5), (["--per-class"], 5), (["--no-per-class"], 0)]
)
def test_threshold_per_class_by_default_as_the_library(flags, n_per_class, tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main(["threshold", GT, DT, "--best-f1", *flags, "--json", str(out)]) == 0
    assert len(json.loads(out.read_text())["per_class"]) == n_per_class
    library = prcore.evaluate(GT, DT).select_thresholds(best_f1=True, per_class=bool(n_per_class))
    assert out.read_text() == json.dumps(library.to_dict(), indent=2)
    assert capsys.readouterr().out == library.to_text() + "\n"


def test_curves_csv_matches_library(tmp_path):
    out = tmp_path / "c.csv"
    assert main(["curves", GT, DT, "--class", "car", "--iou", "0.75", "--csv", str(out)]) == 0
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    curve = prcore.evaluate(GT, DT).curve("car", iou=0.75)
    np.testing.assert_array_equal(rows[:, 0], curve.thresholds[::-1])
    np.testing.assert_array_equal(rows[:, 1], curve.precision[:-1][::-1])


def test_sweep(capsys):
    assert main(["sweep", GT, DT, "--thresholds", "0.05,0.5"]) == 0
    out = capsys.readouterr().out
    assert out == prcore.evaluate(GT, DT).sweep([0.05, 0.5]).to_text() + "\n"
    assert len(out.splitlines()) == 4  # a header, a rule and one row per threshold


def test_sweep_bad_thresholds(capsys):
    assert main(["sweep", GT, DT, "--thresholds", "0.1,abc"]) == 2
    assert capsys.readouterr().err == (
        "prcore: error: prcore sweep: argument --thresholds: expected comma-separated "
        "finite numbers (e.g. 0.05,0.5), got '0.1,abc'\n"
    )


def test_console_script_process(tmp_path):
    """`python -m prcore` (the console script's path, with its start-up shortcut) in a
    fresh process: the same 12 lines as the library, and a bad file is one line, exit 2."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "prcore", "eval", GT, DT], capture_output=True,
                        text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[:12] == prcore.evaluate(GT, DT).summary().splitlines()
    empty = tmp_path / "dt.json"
    empty.write_bytes(b"")
    bad = subprocess.run([sys.executable, "-m", "prcore", "eval", GT, str(empty)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"prcore: error: {empty}: file is empty, expected JSON"
    ]


def test_console_script_writes_complete_files(tmp_path):
    """The command exits without interpreter teardown: its files must be complete first."""
    import json
    import subprocess
    import sys

    out = tmp_path / "report.json"
    ok = subprocess.run([sys.executable, "-m", "prcore", "eval", GT, DT, "--json", str(out)],
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[:12] == prcore.evaluate(GT, DT).summary().splitlines()
    assert json.loads(out.read_text())["stats"] == prcore.evaluate(GT, DT).stats.tolist()
