"""Record ids to dense indices: the one place where ids become positions."""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit

# Largest id for which a direct lookup table (8 bytes per id) is used.
_DIRECT_MAX_ID = 1 << 25


@jit
def dense_index(ids, table, out):
    """``out[i]``: the position of ``ids[i]`` in the sorted, unique ``table``.

    Returns the index of the first id absent from ``table`` (its ``out`` entry
    is 0), or -1 when all are present. Many lookups into a compact id range
    (COCO's image and category ids) go through a direct table; the rest
    through binary search.
    """
    n = ids.shape[0]
    n_t = table.shape[0]
    bad = -1
    if n_t == 0:
        for i in range(n):
            out[i] = 0
        return 0 if n else -1
    top = table[n_t - 1]
    if table[0] >= 0 and top < _DIRECT_MAX_ID and n > 4 * n_t:
        lookup = np.full(top + 1, -1, np.int64)
        for k in range(n_t):
            lookup[table[k]] = k
        for i in range(n):
            v = ids[i]
            p = lookup[v] if 0 <= v <= top else -1
            if p < 0:
                if bad < 0:
                    bad = i
                p = 0
            out[i] = p
        return bad
    for i in range(n):
        v = ids[i]
        p = np.searchsorted(table, v)
        if p >= n_t or table[p] != v:
            if bad < 0:
                bad = i
            p = 0
        out[i] = p
    return bad
