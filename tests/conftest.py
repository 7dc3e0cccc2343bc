"""Test-session settings.

The suite exercises numba's JIT kernels: an ahead-of-time build that a
background job might drop into the cache mid-session would otherwise switch
later tests (and their subprocesses) to it. ``tests/test_native.py`` builds
and checks that path on purpose, in a directory of its own.
"""

import os

os.environ["PRCORE_NO_NATIVE"] = "1"
