"""Files the command writes: the umask's mode, written whole or not at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from prcore import cli
from prcore.example import example_paths

_WRITE_ALL = """
import sys
from prcore.cli import main
gt, dt, folder = sys.argv[1:]
assert main(["eval", gt, dt, "--json", f"{folder}/r.json", "--arrays", f"{folder}/r.npz"]) == 0
assert main(["curves", gt, dt, "--csv", f"{folder}/c.csv", "--plot", f"{folder}/p.png"]) == 0
assert main(["threshold", gt, dt, "--best-f1", "--json", f"{folder}/t.json"]) == 0
"""


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)], ids=["022", "077"])
def test_written_files_honour_the_umask(umask, mode, tmp_path):
    pytest.importorskip("matplotlib")
    gt, dt = (str(p) for p in example_paths())
    old = tmp_path / "r.json"  # an old file is replaced, and its mode goes with it
    old.write_text("old")
    old.chmod(0o600)
    old_inode = old.stat().st_ino
    done = subprocess.run(
        [sys.executable, "-c", _WRITE_ALL, gt, dt, str(tmp_path)],
        capture_output=True,
        text=True,
        umask=umask,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(os.listdir(tmp_path))
    assert names == ["c.csv", "p.png", "r.json", "r.npz", "t.json"]  # no temporary left
    for name in names:
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
    assert json.loads(old.read_text())["stats"] and old.stat().st_ino != old_inode


def test_failed_write_leaves_nothing(tmp_path):
    def fail(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cli._atomic_write(str(tmp_path / "out.json"), fail)
    assert os.listdir(tmp_path) == []
