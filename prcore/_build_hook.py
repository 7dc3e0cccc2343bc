"""setuptools' ``build_py`` plus the kernels' ahead-of-time build (pyproject's ``cmdclass``).

``pip install`` runs this in its build environment, where ``[build-system]
requires`` put numba and numpy. The build (:func:`prcore._kernels.native.build`)
goes into the package, ``_kernels/prebuilt/`` (for an editable install, the
source tree's), so that the first run after install
compiles nothing and never imports numba. The build runs in a child process;
if it fails (no C compiler, say) the install goes on with a note, and prcore
builds in the background after its first run, or uses numba's JIT.
``PRCORE_NO_NATIVE=1`` at install time skips it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
from setuptools.command.build_py import build_py as _build_py

_BUILD = (
    "import sys; from pathlib import Path; from prcore._kernels import native; "
    "print(native.build(Path(sys.argv[1])))"
)


class build_py(_build_py):
    """``build_py``, then the kernels built ahead of time into the package."""

    def run(self) -> None:
        super().run()
        if os.environ.get("PRCORE_NO_NATIVE"):
            return
        try:
            self._build_kernels()
        except Exception as exc:  # never fail the install over it
            print(f"prcore: ahead-of-time build skipped ({exc}); the JIT serves", flush=True)

    def _build_kernels(self) -> None:
        root = Path(__file__).resolve().parent.parent  # the source tree
        if not getattr(self, "editable_mode", False):
            root = Path(self.build_lib).resolve()  # what gets installed
        target = root / "prcore" / "_kernels" / "prebuilt"
        shutil.rmtree(target, ignore_errors=True)  # an earlier build's leftovers
        target.mkdir(parents=True)
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
        )
        print("prcore: building the kernels ahead of time (about 20-60 s) ...", flush=True)
        try:
            done = subprocess.run(
                [sys.executable, "-c", _BUILD, str(target)],
                env=env,
                cwd=root,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=600,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"prcore: ahead-of-time build skipped ({exc}); the JIT serves", flush=True)
            return
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no message"]
            errors = [line for line in lines if re.match(r"\w+(Error|Exception):", line)]
            reason = (errors or lines)[-1]
            print(f"prcore: ahead-of-time build failed ({reason}); the JIT serves", flush=True)


class bdist_wheel(_bdist_wheel):
    """A wheel tagged for this Python and platform: it carries the built kernels."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False
