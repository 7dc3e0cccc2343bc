"""Record ids to dense indices: the one place where ids become positions."""

from __future__ import annotations

from prcore._kernels.jit import jit


@jit
def dense_index(ids, table, lookup, out):
    """``out[i]``: the position of ``ids[i]`` in the sorted, unique ``table``.

    Returns the index of the first id absent from ``table`` (its ``out`` entry
    is 0), or -1 when all are present. ``lookup``: empty for binary search,
    or ``table[-1] + 1`` entries of -1 (allocated by the caller) to fill as a
    direct table, which many lookups into a compact id range (COCO's image
    and category ids) make faster.
    """
    n = ids.shape[0]
    n_t = table.shape[0]
    bad = -1
    if lookup.shape[0]:
        for k in range(n_t):
            lookup[table[k]] = k
        top = lookup.shape[0] - 1
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
        lo = 0
        hi = n_t
        while lo < hi:  # first position with table[p] >= v
            mid = (lo + hi) >> 1
            if table[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        if lo >= n_t or table[lo] != v:
            if bad < 0:
                bad = i
            lo = 0
        out[i] = lo
    return bad
