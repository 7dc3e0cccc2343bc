#!/usr/bin/env bash
# Install what the detectron2 adapter's tests need, on a CPU machine with no
# detectron2 wheel to be had (see ../../shared/NOTES.md). Idempotent: run from
# the repository root as often as you like.
#
# detectron2 is only published on PyPI as the sdist `pb1-detectron2` 0.6, which
# ships the Python package without its C++ sources, so it cannot be built. Its
# Python code runs R-CNN/RetinaNet inference on torchvision's ops, so we copy
# that package into site-packages and add a placeholder `detectron2._C` (it is
# imported at module level by layers/deform_conv.py and friends, never called
# by the models we use). A real detectron2 install is never touched.
set -euo pipefail

PY=${PYTHON:-python}
PIP=("$PY" -m pip install --disable-pip-version-check --no-input -q)

# torch: exact pins, served from the machine's local copy (a range downloads GBs).
if ! "$PY" -c "import torch, torchvision" 2>/dev/null; then
    "${PIP[@]}" torch==2.14.1 torchvision==0.29.1
fi

# detectron2 0.6's pure-Python dependencies; Pillow<10 for Image.LINEAR,
# setuptools<81 for pkg_resources.
"${PIP[@]}" "Pillow<10" "setuptools<81" "fvcore>=0.1.5,<0.1.6" "iopath>=0.1.7,<0.1.10" \
    yacs omegaconf hydra-core tabulate termcolor cloudpickle tqdm \
    "pycocotools==2.0.11" matplotlib opencv-python-headless pytest

if ! "$PY" -c "import detectron2" 2>/dev/null; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # pip fetches and unpacks the sdist, then fails building its metadata; with
    # --no-clean the unpacked tree stays under a pip-download-* temp directory.
    "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary :all: \
        --no-clean pb1-detectron2==0.6 -d "$work/dl" >"$work/pip.log" 2>&1 || true
    src=""
    for d in $(grep -oE '/[^ ]*pip-download-[^ /]*/pb1-detectron2_[0-9a-f]+' "$work/pip.log" | sort -u) \
             $(ls -d "${TMPDIR:-/tmp}"/pip-download-*/pb1-detectron2_*/ 2>/dev/null); do
        if [ -f "$d/detectron2/__init__.py" ]; then src=${d%/}; break; fi
    done
    if [ -z "$src" ]; then
        echo "install_for_tests.sh: error: could not find the unpacked pb1-detectron2 sdist" >&2
        cat "$work/pip.log" >&2
        exit 2
    fi
    site=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    rm -rf "$site/detectron2"
    cp -r "$src/detectron2" "$site/detectron2"
    # Model-zoo configs: detectron2's model_zoo looks for them inside the package.
    if [ -d "$src/configs" ] && [ ! -d "$site/detectron2/model_zoo/configs" ]; then
        cp -r "$src/configs" "$site/detectron2/model_zoo/configs"
    fi
    cat >"$site/detectron2/_C.py" <<'PYEOF'
"""Placeholder for detectron2's compiled ops (not built: the pb1-detectron2 sdist
has no C++ sources). Installed by prcore's adapters/detectron2/install_for_tests.sh.
Deformable and rotated ops are unavailable; R-CNN/RetinaNet use torchvision ops."""


def __getattr__(name):
    raise ImportError(
        f"detectron2._C.{name} is unavailable: this detectron2 was installed from the "
        "pb1-detectron2 sdist without its compiled ops"
    )
PYEOF
    "$PY" -c "import detectron2, detectron2.modeling, detectron2.model_zoo; print('detectron2', detectron2.__version__, 'installed from', '$src')"
fi

"${PIP[@]}" -e adapters/detectron2
