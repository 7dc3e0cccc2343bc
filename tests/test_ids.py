"""Ids to dense indices: the kernel agrees with a numpy reference, missing ids are found."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from prcore._kernels.ids import dense_index


def _dense_numpy(ids: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, int]:
    """The reference: each id's position in sorted ``table`` (0 where missing), first missing."""
    pos = np.searchsorted(table, ids)
    pos_c = np.minimum(pos, max(len(table) - 1, 0))
    ok = (pos < len(table)) & (table[pos_c] == ids) if len(table) else np.zeros(len(ids), bool)
    bad = np.flatnonzero(~ok)
    pos_c[~ok] = 0
    return pos_c, (int(bad[0]) if len(bad) else -1)


ids_strategy = st.lists(st.integers(-5, 60) | st.integers(-(2**62), 2**62), max_size=200)


def _both(ids, table):
    ids = np.asarray(ids, np.int64)
    table = np.unique(np.asarray(table, np.int64))
    want, want_bad = _dense_numpy(ids, table)
    direct = len(table) and table[0] >= 0 and table[-1] < 1000
    for lookup_size in (0, int(table[-1]) + 1 if direct else 0):
        out = np.empty(len(ids), np.int64)
        bad = dense_index(ids, table, np.full(lookup_size, -1, np.int64), out)
        assert bad == want_bad
        np.testing.assert_array_equal(out, want)
    return out, bad


@settings(max_examples=300, deadline=None)
@given(ids_strategy, ids_strategy)
def test_kernel_and_numpy_agree(ids, table):
    out, bad = _both(ids, table)
    t = np.unique(np.asarray(table, np.int64))
    present = np.isin(np.asarray(ids, np.int64), t)
    assert bad == (int(np.flatnonzero(~present)[0]) if (~present).any() else -1)
    if len(ids):
        np.testing.assert_array_equal(t[out[present]], np.asarray(ids, np.int64)[present])


def test_direct_table_and_binary_search():
    table = np.array([1, 3, 7, 90], np.int64)
    ids = np.tile([90, 1, 7, 3], 10)
    out, bad = _both(ids, table)
    assert bad == -1 and out[:4].tolist() == [3, 0, 2, 1]
    out, bad = _both(np.append(ids, [91, 2]), table)
    assert bad == 40


def test_empty_table():
    assert _both([5], [])[1] == 0
    assert _both([], [])[1] == -1
