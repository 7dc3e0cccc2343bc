"""prcore.evaluate turns numpy's huge-page madvise off for its own arrays only."""

from __future__ import annotations

import pytest

import prcore
from prcore import pages
from prcore.example import example_paths

GT, DT = (str(p) for p in example_paths())

toggle = pages._set_madvise_hugepage
pytestmark = pytest.mark.skipif(toggle is None, reason="this numpy has no madvise switch")


@pytest.mark.parametrize("before", [True, False])
def test_setting_restored_after_success_and_error(before, tmp_path):
    toggle(before)
    try:
        inside = []
        with pages.plain_pages():
            inside.append(toggle(False))  # reads (and keeps) the setting inside
            with pages.plain_pages():  # nested / concurrent calls keep it off
                pass
            inside.append(toggle(False))
        assert inside == [False, False]
        assert toggle(before) is before

        prcore.evaluate(GT, DT)
        assert toggle(before) is before
        bad = tmp_path / "dt.json"
        bad.write_text("[{]")
        with pytest.raises(prcore.PrcoreInputError):
            prcore.evaluate(GT, str(bad))
        assert toggle(before) is before
    finally:
        toggle(True)


def test_free_heap_memory_is_returned_on_glibc():
    """On Linux (glibc) evaluate trims the heap between its phases; elsewhere a no-op."""
    import platform

    from prcore import pages

    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert pages._malloc_trim is not None
    pages.return_free_memory()  # callable everywhere
