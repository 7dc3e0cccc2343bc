"""Test-session settings.

The suite exercises numba's JIT kernels (``PRCORE_NO_NATIVE=1``), whatever
ahead-of-time build the install made. ``tests/test_native.py`` builds
that path on purpose, in a directory of its own, and reruns the oracle suites
on it with ``PRCORE_TEST_NATIVE=1``: then every kernel call must be served by
the build, numba must never be imported, and every built variant must serve.
"""

import os
import sys

import pytest

NATIVE = bool(os.environ.get("PRCORE_TEST_NATIVE"))
if not NATIVE:
    os.environ["PRCORE_NO_NATIVE"] = "1"


@pytest.fixture(scope="session", autouse=True)
def _native_serves_every_call():
    if not NATIVE:
        yield
        return
    from prcore._kernels import native

    assert native.bundle() is not None, "PRCORE_TEST_NATIVE=1 but no ahead-of-time build loads"
    yield
    assert "numba" not in sys.modules, "a kernel call fell back to numba's JIT"
    from prcore import _kernels

    unused = [
        f"{h.name}#{i}"
        for h in _kernels.handles()
        for i in range(len(native.SIGNATURES[h.name]))
        if i not in h.served
    ]
    assert not unused, f"built variants no call used: {unused}"
