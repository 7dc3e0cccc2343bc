"""COCO run-length encoding: pycocotools' ``common/maskApi.c``, bit for bit.

Many masks are held as columns: every mask's counts concatenated in one
``uint32`` array (maskApi.c's ``uint``), mask ``i`` being
``counts[offsets[i]:offsets[i + 1]]``, with its height and width in arrays of
their own. Masks are column-major (Fortran order), as COCO stores them.

The kernels trust their input: the callers (:mod:`prcore.mask`, the loaders)
check sizes, that counts sum to ``h * w`` and that ``h * w < 2**32``. Where
maskApi.c computes in ``uint`` the kernels compute in int64 and wrap to 32 bits
at the same places, so that even odd but valid masks (zero-length runs, masks
whose every foreground run is empty) give maskApi.c's numbers. Output sizes
come from the caller, who allocates with the bound each kernel documents.
"""

from __future__ import annotations

import numpy as np

from prcore._kernels.jit import jit

_U32 = 0xFFFFFFFF
_BIG = 1 << 62
SCALE = 5.0  # rleFrPoly's upsampling


# ---------------------------------------------------------------- strings


@jit
def _unescape(buf, p, end):
    """The character a JSON escape at ``buf[p]`` (a backslash) stands for, and where the
    next starts: ``\\\\``, ``\\/``, ``\\"`` and ``\\uXXXX``; -1 for any other."""
    if p + 1 >= end:
        return -1, end
    e = np.int64(buf[p + 1])
    if e == 92 or e == 47 or e == 34:
        return e, p + 2
    if e != 117 or p + 6 > end:  # \u
        return -1, end
    value = 0
    for q in range(p + 2, p + 6):
        h = np.int64(buf[q])
        if 48 <= h <= 57:
            value = value * 16 + h - 48
        elif 65 <= h <= 70:
            value = value * 16 + h - 55
        elif 97 <= h <= 102:
            value = value * 16 + h - 87
        else:
            return -1, end
    return value, p + 6


@jit
def _advance(x, h, col, row):
    """The position ``cc + x``, with ``cc`` held as (column, row): no division within a column."""
    r = row + x
    if r < h:
        return col, r
    if r < 2 * h:
        return col + 1, r - h
    q = r // h
    return col + q, r - q * h


@jit
def _box_step(x, j, h, col, row, xs, ys, xe, ye):
    """maskApi.c ``rleToBbox``'s loop body for count ``j`` of ``x`` pixels, at (col, row)."""
    if x == 0 or h == 0:
        return col, row, xs, ys, xe, ye
    x_start = col
    y_start = row
    col, row = _advance(x, h, col, row)
    if j % 2 == 0:
        return col, row, xs, ys, xe, ye
    if row > 0:
        x_end = col
        y_end = row - 1
    else:
        x_end = col - 1
        y_end = h - 1
    xs = min(xs, x_start)
    xe = max(xe, x_end)
    if x_start < x_end:
        ys = 0
        ye = h - 1
    else:
        ys = min(ys, y_start)
        ye = max(ye, y_end)
    return col, row, xs, ys, xe, ye


@jit
def _write_box(bbox, i, m, w, h, xs, ys, xe, ye):
    if m < 2:  # maskApi.c: m = m / 2 * 2, and no runs left
        bbox[i, 0] = 0.0
        bbox[i, 1] = 0.0
        bbox[i, 2] = 0.0
        bbox[i, 3] = 0.0
        return
    if xs > w:  # no foreground pixel: maskApi.c's xs = w, xe = 0
        xs = w
        ys = h
        xe = 0
        ye = 0
    bbox[i, 0] = np.float64(xs)
    bbox[i, 2] = np.float64((xe - xs + 1) & _U32)  # unsigned, as maskApi.c
    bbox[i, 1] = np.float64(ys)
    bbox[i, 3] = np.float64((ye - ys + 1) & _U32)


@jit
def rle_from_strings(buf, starts, ends, h, w, escaped, counts, count_offsets, area, bbox):
    """Decode compressed RLE strings into counts columns (maskApi.c ``rleFrString``),
    with each mask's ``rleArea`` and ``rleToBbox`` on the way.

    String ``i`` is ``buf[starts[i]:ends[i]]`` (JSON-escaped when ``escaped``),
    of an ``h[i] x w[i]`` mask; its counts go to
    ``counts[count_offsets[i]:count_offsets[i + 1]]``, written densely from
    ``count_offsets[0] = 0``, its area to ``area[i]`` and its box to
    ``bbox[i]`` (as :func:`rle_area` and :func:`rle_to_bbox`). A string
    yields at most one count per byte, so ``counts`` needs ``sum(ends -
    starts)`` entries. An empty ``counts`` or ``bbox`` skips storing the
    counts or the boxes: a first pass can check every string and take its
    area and number of counts, and a second decode only the masks needed.

    Six bits a character, from ``'0'`` (48); bit 0x20 continues the value, bit
    0x10 of the last character is its sign, and from the fourth count on the
    value is the difference to the count two before. As in maskApi.c the
    5-bit groups are shifted as C ``int`` (the shift count taken modulo 32 as
    x86-64 does) and each count is cast to ``uint``; only the low 32 bits of a
    value reach its count, so those are all that is computed.

    Returns -1, or the index of the first string that does not decode: a byte
    outside ``'0'..'o'``, a value cut off at the end, a bad escape, or counts
    that do not sum to ``h[i] * w[i]``. Counts before it are written.
    """
    n = starts.shape[0]
    boxes = bbox.shape[0] > 0
    store = counts.shape[0] > 0
    count_offsets[0] = 0
    pos = 0
    for i in range(n):
        p = starts[i]
        end = ends[i]
        hh = h[i]
        ww = w[i]
        m = 0
        total = 0
        fg = 0
        prev1 = 0
        prev2 = 0
        col = 0
        row = 0
        xs = ww + 1  # no foreground yet
        ys = hh
        xe = 0
        ye = 0
        while p < end:
            x = 0
            k = 0
            c = 0
            while True:
                if p >= end:  # cut off inside a value
                    count_offsets[i + 1] = pos + m
                    return i
                ch = np.int64(buf[p])
                p += 1
                if escaped and ch == 92:
                    ch, p = _unescape(buf, p - 1, end)
                c = ch - 48
                if c < 0 or c > 63:
                    count_offsets[i + 1] = pos + m
                    return i
                x |= (c & 0x1F) << ((5 * k) & 31)
                k += 1
                if c & 0x20 == 0:
                    break
            if c & 0x10:
                x |= _U32 << ((5 * k) & 31)
            if m > 2:
                x += prev2
            x &= _U32
            prev2 = prev1
            prev1 = x
            if store:
                counts[pos + m] = x
            total += x
            if m & 1:
                fg += x
            if boxes:
                col, row, xs, ys, xe, ye = _box_step(x, m, hh, col, row, xs, ys, xe, ye)
            m += 1
        pos += m
        count_offsets[i + 1] = pos
        area[i] = fg & _U32
        if boxes:
            _write_box(bbox, i, m, ww, hh, xs, ys, xe, ye)
        if total != hh * ww:
            return i
    return -1


@jit
def rle_to_strings(counts, count_offsets, buf, str_offsets):
    """Encode counts columns as compressed RLE strings (maskApi.c ``rleToString``).

    String ``i`` is written to ``buf[str_offsets[i]:str_offsets[i + 1]]``,
    densely from ``str_offsets[0] = 0``; a count takes at most 7 bytes, so
    ``buf`` needs ``7 * counts.shape[0]``. Returns the bytes written.
    """
    n = count_offsets.shape[0] - 1
    p = 0
    str_offsets[0] = 0
    for i in range(n):
        s = count_offsets[i]
        m = count_offsets[i + 1] - s
        for j in range(m):
            x = np.int64(counts[s + j])
            if j > 2:
                x -= np.int64(counts[s + j - 2])
            more = True
            while more:
                c = x & 0x1F
                x >>= 5  # arithmetic, as on C's long
                if c & 0x10:
                    more = x != -1
                else:
                    more = x != 0
                if more:
                    c |= 0x20
                buf[p] = c + 48
                p += 1
        str_offsets[i + 1] = p
    return p


# ---------------------------------------------------------------- masks


@jit
def rle_encode_lengths(mask, area, count_offsets):
    """How many counts ``rle_encode`` writes for each mask: ``count_offsets[n + 1]``.

    ``mask`` holds ``n`` masks of ``area`` bytes each, one after the other,
    column-major (a Fortran ``[h, w, n]`` array's memory).
    """
    n = count_offsets.shape[0] - 1
    count_offsets[0] = 0
    total = 0
    for i in range(n):
        base = i * area
        k = 0
        p = 0
        for j in range(area):
            v = mask[base + j]
            if v != p:
                k += 1
                p = v
        total += k + 1
        count_offsets[i + 1] = total


@jit
def rle_encode(mask, area, count_offsets, counts):
    """Run-length encode ``n`` masks (maskApi.c ``rleEncode``).

    ``mask`` as for :func:`rle_encode_lengths`, which gives ``count_offsets``.
    Runs alternate from 0, so a mask that starts with 1 starts with a count of
    0. As in maskApi.c a run ends wherever the byte changes, whatever its
    values: ``[0, 1, 2]`` is three runs.
    """
    n = count_offsets.shape[0] - 1
    for i in range(n):
        base = i * area
        k = count_offsets[i]
        p = 0
        c = 0
        for j in range(area):
            v = mask[base + j]
            if v != p:
                counts[k] = c
                k += 1
                c = 0
                p = v
            c += 1
        counts[k] = c


@jit
def rle_decode(counts, count_offsets, area, out):
    """Decode ``n`` masks of ``area`` pixels each into ``out[n * area]`` (maskApi.c ``rleDecode``).

    Masks are written one after the other, column-major (a Fortran
    ``[h, w, n]`` array's memory). Returns 1, or 0 where the counts would run
    past the end of ``out``, as maskApi.c does.
    """
    n = count_offsets.shape[0] - 1
    size = out.shape[0]
    c = 0
    for i in range(n):
        v = 0
        for j in range(count_offsets[i], count_offsets[i + 1]):
            run = np.int64(counts[j])
            if c + run > size:
                out[c:size] = v
                return 0
            out[c : c + run] = v
            c += run
            v = 1 - v
    return 1


@jit
def rle_area(counts, count_offsets, out):
    """Foreground pixels of each mask, into ``out[n]`` (maskApi.c ``rleArea``): the odd counts."""
    n = count_offsets.shape[0] - 1
    for i in range(n):
        a = 0
        for j in range(count_offsets[i] + 1, count_offsets[i + 1], 2):
            a += np.int64(counts[j])
        out[i] = a & _U32


@jit
def rle_to_bbox(counts, count_offsets, h, w, out):
    """Bounding box ``[x, y, w, h]`` of each mask, into ``out[n, 4]`` (maskApi.c ``rleToBbox``).

    An odd last count is left out (``m = m / 2 * 2``; it is background); a
    mask with no counts left is ``[0, 0, 0, 0]``. A mask whose foreground
    runs are all empty keeps maskApi.c's unsigned wrap-around: ``[w, h,
    2**32 - w + 1, 2**32 - h + 1]``.
    """
    n = count_offsets.shape[0] - 1
    for i in range(n):
        hh = h[i]
        ww = w[i]
        col = 0
        row = 0
        xs = ww + 1
        ys = hh
        xe = 0
        ye = 0
        s = count_offsets[i]
        m = count_offsets[i + 1] - s
        for j in range(m):
            col, row, xs, ys, xe, ye = _box_step(
                np.int64(counts[s + j]), j, hh, col, row, xs, ys, xe, ye
            )
        _write_box(out, i, m, ww, hh, xs, ys, xe, ye)


@jit
def rle_check_area(counts, count_offsets, area):
    """Index of the first mask whose counts do not sum to ``area[i]``, or -1."""
    n = count_offsets.shape[0] - 1
    for i in range(n):
        total = 0
        for j in range(count_offsets[i], count_offsets[i + 1]):
            total += np.int64(counts[j])
        if total != area[i]:
            return i
    return -1


# ---------------------------------------------------------------- merge


@jit
def _merge_two(a_cnt, a_m, b_cnt, b_s, b_m, intersect, out):
    """One step of maskApi.c ``rleMerge``: ``a_cnt[:a_m]`` with ``b_cnt[b_s:b_s + b_m]`` into ``out``.

    Returns the counts written, or -1 where maskApi.c never returns: its walk
    stops early when both masks reach zero-length runs at once, and a third
    mask then outlasts that short result.
    """
    ca = np.int64(a_cnt[0]) if a_m > 0 else 0
    cb = np.int64(b_cnt[b_s]) if b_m > 0 else 0
    v = False
    va = False
    vb = False
    m = 0
    a = 1
    b = 1
    cc = 0
    ct = 1
    while ct > 0:
        c = min(ca, cb)
        cc += c
        ca -= c
        if ca == 0 and a < a_m:
            ca = np.int64(a_cnt[a])
            a += 1
            va = not va
        cb -= c
        if cb == 0 and b < b_m:
            cb = np.int64(b_cnt[b_s + b])
            b += 1
            vb = not vb
        ct = (ca + cb) & _U32  # uint in maskApi.c
        if ct > 0 and ((ca == 0 and a >= a_m) or (cb == 0 and b >= b_m)):
            return -1  # one mask ran out before the other: maskApi.c loops forever
        vp = v
        if intersect:
            v = va and vb
        else:
            v = va or vb
        if v != vp or ct == 0:
            out[m] = cc
            m += 1
            cc = 0
    return m


@jit
def _merge_group(counts, count_offsets, first, last, intersect, acc, nxt, out, pos):
    """Masks ``first:last`` of a counts column merged left to right, as maskApi.c
    ``rleMerge`` does, into ``out[pos:]``: returns the new ``pos``, or -1 where
    maskApi.c never returns (see :func:`_merge_two`). ``acc`` and ``nxt`` hold the
    group's counts together, each."""
    if last - first == 1:
        for j in range(count_offsets[first], count_offsets[first + 1]):
            out[pos] = counts[j]
            pos += 1
    elif last - first > 1:
        a_m = count_offsets[first + 1] - count_offsets[first]
        for j in range(a_m):
            acc[j] = np.int64(counts[count_offsets[first] + j])
        for i in range(first + 1, last):
            b_s = count_offsets[i]
            b_m = count_offsets[i + 1] - b_s
            a_m = _merge_two(acc, a_m, counts, b_s, b_m, intersect, nxt)
            if a_m < 0:
                return -1
            acc, nxt = nxt, acc
        for j in range(a_m):
            out[pos] = acc[j]
            pos += 1
    return pos


@jit
def rle_merge(counts, count_offsets, group_offsets, intersect, scratch, out_counts, out_offsets):
    """Union (or intersection) of each group of masks (maskApi.c ``rleMerge``).

    Group ``g`` is masks ``group_offsets[g]:group_offsets[g + 1]``, all of one
    size (the caller checks); merged left to right as maskApi.c does, into
    ``out_counts[out_offsets[g]:out_offsets[g + 1]]``, densely from
    ``out_offsets[0] = 0``. An empty group gives no counts; a single mask is
    copied as it is. A merge has at most as many counts as its masks
    together, so ``out_counts`` needs ``counts.shape[0]`` entries and
    ``scratch`` (int64) twice the largest group's total. Returns the counts
    written, or ``-1 - g`` for the first group ``g`` on which maskApi.c would
    loop forever (zero-length runs inside its masks; see :func:`_merge_two`).
    """
    n_groups = group_offsets.shape[0] - 1
    half = scratch.shape[0] // 2
    pos = 0
    out_offsets[0] = 0
    for g in range(n_groups):
        pos = _merge_group(
            counts, count_offsets, group_offsets[g], group_offsets[g + 1], intersect,
            scratch[:half], scratch[half:], out_counts, pos,
        )  # fmt: skip
        if pos < 0:
            out_offsets[g + 1] = out_offsets[g]
            return -1 - g
        out_offsets[g + 1] = pos
    return pos


# ---------------------------------------------------------------- polygons


@jit
def _scaled(v):
    """``(int)(scale * v + .5)``: C truncates toward zero (the caller bounds ``v``)."""
    return np.int64(SCALE * v + 0.5)


@jit
def polys_rle_bounds(xy, point_offsets, w, bounds):
    """An upper bound on the counts :func:`polys_to_rle` writes for each polygon.

    A boundary point needs an upsampled x of ``5 * i + 2`` (a pixel centre),
    and within one edge those are distinct, so an edge of upsampled width
    ``dx`` gives at most ``min(dx // 5 + 2, w)`` points, plus one where it
    meets the previous edge; the image's ``h * w`` adds one. ``bounds[i]`` for
    polygon ``i``; returns their sum, and puts the int64 scratch
    :func:`polys_to_rle` needs in ``bounds[n]``.
    """
    n = point_offsets.shape[0] - 1
    total = 0
    largest = 0
    for i in range(n):
        p0 = point_offsets[i]
        k = point_offsets[i + 1] - p0
        b = 1
        for j in range(k):
            j1 = j + 1 if j + 1 < k else 0
            dx = abs(_scaled(xy[2 * (p0 + j1)]) - _scaled(xy[2 * (p0 + j)]))
            cap = dx // 5 + 2
            if 0 < w[i] < cap:
                cap = w[i]
            b += cap + 1
        bounds[i] = b
        total += b
        largest = max(largest, 3 * b + max(w[i], 0) + 1)
    bounds[n] = largest
    return total


@jit
def _row(v, h):
    """maskApi.c ``rleFrPoly``'s ``ceil(clamp((v + .5) / 5 - .5, 0, h))``, in integers.

    ``(v + .5) / 5 - .5`` is ``(v - 2) / 5``: exactly where that is whole (the
    division is correctly rounded), and otherwise at least 0.2 from a whole
    number, far beyond its rounding error, so its ceiling is the integer one.
    """
    q = v - 2
    if q <= 0:
        return 0
    return min((q + 4) // 5, h)


@jit
def _crossing(u, pu, v, pv, h, w_max, a, cols, m):
    """maskApi.c ``rleFrPoly``'s second pass for the point ``(u, v)`` after ``(pu, pv)``
    (``u != pu``): a boundary point where x passes a pixel centre inside the image.

    Its ``xd = (x + .5) / 5 - .5`` is whole exactly when ``x = 5 * i + 2``
    (see :func:`_row`); then ``xd = i``, kept when ``0 <= i <= w - 1``.
    """
    x = u if u < pu else u - 1
    i = (x - 2) // 5
    if x - 2 != 5 * i or i < 0 or i > w_max:
        return m
    a[m] = (i * h + _row(min(v, pv), h)) & _U32
    cols[m] = i
    return m + 1


@jit
def _u(xs, s, t):
    """maskApi.c's ``(int)(xs + s * t + .5)``: x at step ``t`` of a y-major edge."""
    return np.int64(np.float64(xs) + s * np.float64(t) + 0.5)


@jit
def _y_major_steps(xs, ys, dy, s, flip, h, w_max, a, cols, m):
    """The boundary points of a y-major edge, step by step as maskApi.c walks it."""
    u_prev = _u(xs, s, 0)
    for t in range(1, dy + 1):
        u = _u(xs, s, t)
        if u != u_prev:
            if flip:  # walked from t to t - 1
                m = _crossing(u_prev, u, ys + t - 1, ys + t, h, w_max, a, cols, m)
            else:
                m = _crossing(u, u_prev, ys + t, ys + t - 1, h, w_max, a, cols, m)
        u_prev = u
    return m


@jit
def _y_major(xs, ys, dy, s, flip, h, w_max, a, cols, m):
    """The boundary points of a y-major edge (``|s| < 1``: x changes at most once a step).

    Only the steps where x passes a pixel centre ``5 * i + 2`` give one; each
    is found from an estimate and checked with maskApi.c's own arithmetic
    (``_u`` is monotone in ``t``). Where x moves by more than one in a step
    (rounding at huge coordinates) the edge is walked step by step instead.
    """
    if s == 0.0:
        return m
    m0 = m
    u_first = _u(xs, s, 0)
    u_last = _u(xs, s, dy)
    rising = s > 0
    lo = min(u_first, u_last)
    hi = max(u_first, u_last) - 1
    i_lo = max(0, -((2 - lo) // 5))
    i_hi = min(w_max, (hi - 2) // 5)
    for i in range(i_lo, i_hi + 1):
        x = 5 * i + 2  # the step from x to x + 1 (rising) or from x + 1 to x
        target = x + 1 if rising else x
        # the first t with u(t) >= x + 1 (rising) or u(t) <= x (falling)
        t = np.int64(np.ceil((np.float64(target) - 0.5 - np.float64(xs)) / s))
        t = min(max(t, 1), dy)
        if rising:
            while t > 1 and _u(xs, s, t - 1) >= target:
                t -= 1
            while t < dy and _u(xs, s, t) < target:
                t += 1
        else:
            while t > 1 and _u(xs, s, t - 1) <= target:
                t -= 1
            while t < dy and _u(xs, s, t) > target:
                t += 1
        before = _u(xs, s, t - 1)
        after = _u(xs, s, t)
        if min(before, after) != x or abs(after - before) != 1:
            return _y_major_steps(xs, ys, dy, s, flip, h, w_max, a, cols, m0)
        # maskApi.c's x for a step of one is the smaller; its y the smaller, ys + t - 1
        a[m] = (i * h + _row(ys + t - 1, h)) & _U32
        cols[m] = i
        m += 1
    return m


@jit
def _sort_by_column(a, cols, m, work):
    """``a[:m]`` in ascending order, given each value's column ``cols[:m]`` (``a`` is
    ``column * h + row`` with ``row <= h``, so column order is value order up to ties
    across a column's end). Returns the sorted values at the start of ``work``, of
    length ``m + 1`` (one slot spare), the rest of ``work`` being the histogram."""
    out = work[: m + 1]
    if m == 0:
        return out
    lo = cols[0]
    hi = cols[0]
    for j in range(1, m):
        lo = min(lo, cols[j])
        hi = max(hi, cols[j])
    if hi - lo + 2 > work.shape[0] - m - 1:  # no room (only for w == 0): sort plainly
        out[:m] = a[:m]
        out[:m].sort()
        return out
    hist = work[m + 1 : m + 1 + hi - lo + 2]
    hist[:] = 0
    for j in range(m):
        hist[cols[j] - lo + 1] += 1
    for c in range(1, hi - lo + 2):
        hist[c] += hist[c - 1]
    for j in range(m):
        c = cols[j] - lo
        out[hist[c]] = a[j]
        hist[c] += 1
    # within a column (a few values each): insertion sort; across columns the
    # order already holds
    for j in range(1, m):
        v = out[j]
        q = j - 1
        while q >= 0 and out[q] > v:
            out[q + 1] = out[q]
            q -= 1
        out[q + 1] = v
    return out


@jit
def _poly_to_rle(xy, p0, k, h, w, scratch, bound, out, pos):
    """One polygon of ``k`` points from ``xy[2 * p0]``; counts to ``out[pos:]``; returns how many.

    maskApi.c walks every edge one upsampled pixel at a time and keeps the
    steps where x passes a pixel centre. Here an x-major edge (``dx >= dy``,
    x moving by one each step) visits only those steps, one in five; a
    y-major edge is walked step by step. The points are sorted afterwards,
    so the order they are found in does not matter; they are sorted by
    column with a counting sort, then within each column (see
    :func:`_sort_by_column`), as maskApi.c's ``qsort`` orders them.
    """
    w_max = w - 1 if w > 0 else _BIG  # maskApi.c's unsigned w - 1
    a = scratch[:bound]
    cols = scratch[bound : 2 * bound]
    m = 0
    started = False
    pu = 0
    pv = 0
    for j in range(k):
        j1 = j + 1 if j + 1 < k else 0
        xs = _scaled(xy[2 * (p0 + j)])
        ys = _scaled(xy[2 * (p0 + j) + 1])
        xe = _scaled(xy[2 * (p0 + j1)])
        ye = _scaled(xy[2 * (p0 + j1) + 1])
        dx = abs(xe - xs)
        dy = abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        # points t = 0..D from (xs, ys); walked from t = D down when flipped
        if dx >= dy:
            # dx == dy == 0 (a repeated vertex): maskApi.c takes 0.0 / 0 here and
            # an undefined y; that point's y is never read (its x repeats its
            # neighbours', or lies left of the image), so any y will do.
            s = np.float64(ye - ys) / dx if dx > 0 else 0.0
            t0 = dx if flip else 0
            u0 = xs + t0
            v0 = np.int64(np.float64(ys) + s * np.float64(t0) + 0.5) if dx > 0 else ys
            if started and u0 != pu:
                m = _crossing(u0, pu, v0, pv, h, w_max, a, cols, m)
            # steps t -> t + 1 pass x = xs + t; the pixel centres 5 * i + 2 among them
            i_lo = max(0, -((2 - xs) // 5))  # ceil((xs - 2) / 5)
            i_hi = min(w_max, (xs + dx - 3) // 5)
            for i in range(i_lo, i_hi + 1):
                t = 5 * i + 2 - xs
                va = np.int64(np.float64(ys) + s * np.float64(t) + 0.5)
                vb = np.int64(np.float64(ys) + s * np.float64(t + 1) + 0.5)
                a[m] = (i * h + _row(min(va, vb), h)) & _U32
                cols[m] = i
                m += 1
            t1 = 0 if flip else dx
            pu = xs + t1
            pv = np.int64(np.float64(ys) + s * np.float64(t1) + 0.5) if dx > 0 else ys
        else:
            s = np.float64(xe - xs) / dy
            t0 = dy if flip else 0
            u0 = np.int64(np.float64(xs) + s * np.float64(t0) + 0.5)
            if started and u0 != pu:
                m = _crossing(u0, pu, ys + t0, pv, h, w_max, a, cols, m)
            m = _y_major(xs, ys, dy, s, flip, h, w_max, a, cols, m)
            t1 = 0 if flip else dy
            pu = np.int64(np.float64(xs) + s * np.float64(t1) + 0.5)
            pv = ys + t1
        started = True
    a = _sort_by_column(a, cols, m, scratch[2 * bound :])
    a[m] = (h * w) & _U32  # the largest: x <= w - 1 and y <= h
    kk = m + 1
    p = 0
    for j in range(kk):
        t = a[j]
        a[j] = t - p
        p = t
    # Two crossings at one pixel cancel: a zero difference folds the next into the last run.
    out[pos] = a[0]
    mm = 1
    j = 1
    while j < kk:
        if a[j] > 0:
            out[pos + mm] = a[j]
            mm += 1
            j += 1
        else:
            j += 1
            if j < kk:
                out[pos + mm - 1] = (np.int64(out[pos + mm - 1]) + a[j]) & _U32
                j += 1
    return mm


@jit
def polys_to_rle(xy, point_offsets, h, w, scratch, counts, count_offsets):
    """Rasterise polygons into counts columns (maskApi.c ``rleFrPoly``).

    Polygon ``i`` is the points ``point_offsets[i]:point_offsets[i + 1]`` of
    ``xy`` (``x0, y0, x1, y1, ...``), closed, on an ``h[i] x w[i]`` image. The
    same rasterisation: coordinates times 5 rounded as C's ``(int)(5 * v +
    .5)``, edges walked one upsampled pixel at a time (maskApi.c's
    arithmetic for every point kept), a boundary point where x passes a
    pixel centre, y clamped to the image and rounded up, points sorted and
    turned into runs, repeated points cancelling. Counts are written densely
    from ``count_offsets[0] = 0``; ``counts`` needs the total
    :func:`polys_rle_bounds` returns and the int64 ``scratch`` its
    ``bounds[n]``. Returns the counts written.

    Coordinates must keep ``5 * v`` within C's ``int`` (the caller checks).
    """
    n = point_offsets.shape[0] - 1
    pos = 0
    count_offsets[0] = 0
    for i in range(n):
        p0 = point_offsets[i]
        bound = (scratch.shape[0] - w[i] - 1) // 3
        pos += _poly_to_rle(
            xy, p0, point_offsets[i + 1] - p0, h[i], w[i], scratch, bound, counts, pos
        )
        count_offsets[i + 1] = pos
    return pos


@jit
def polys_to_merged_rle(xy, point_offsets, groups, h, w, scratch, parts, part_offsets, merge_scratch, counts, count_offsets):  # fmt: skip
    """Each group of polygons rasterised and merged into one mask, as ``COCO.annToRLE``
    does with an object's polygons (``frPyObjects``, then ``rleMerge``'s union).

    Group ``g`` is polygons ``groups[g]:groups[g + 1]`` (:func:`polys_to_rle`'s
    ``xy``, ``point_offsets``, ``h`` and ``w``, per polygon). A group of one
    polygon is rasterised straight into ``counts``; a larger one into ``parts``
    (room for the group's :func:`polys_rle_bounds` together, ``part_offsets``
    for its polygons + 1), then merged into ``counts`` with ``merge_scratch``
    (int64, twice that room). Masks are written densely from
    ``count_offsets[0] = 0``; a merge has no more counts than its parts, so
    ``counts`` needs the bounds' total. ``scratch`` is :func:`polys_to_rle`'s.
    Returns the counts written, or ``-1 - g`` for the first group that
    ``rleMerge`` cannot merge (:func:`_merge_two`).
    """
    n_groups = groups.shape[0] - 1
    half = merge_scratch.shape[0] // 2
    pos = 0
    count_offsets[0] = 0
    for g in range(n_groups):
        first = groups[g]
        last = groups[g + 1]
        if last - first == 1:
            p0 = point_offsets[first]
            bound = (scratch.shape[0] - w[first] - 1) // 3
            pos += _poly_to_rle(
                xy, p0, point_offsets[first + 1] - p0, h[first], w[first], scratch, bound,
                counts, pos,
            )  # fmt: skip
        elif last - first > 1:
            part_offsets[0] = 0
            q = 0
            for i in range(first, last):
                p0 = point_offsets[i]
                bound = (scratch.shape[0] - w[i] - 1) // 3
                q += _poly_to_rle(
                    xy, p0, point_offsets[i + 1] - p0, h[i], w[i], scratch, bound, parts, q
                )
                part_offsets[i - first + 1] = q
            pos = _merge_group(
                parts, part_offsets, 0, last - first, False, merge_scratch[:half],
                merge_scratch[half:], counts, pos,
            )  # fmt: skip
            if pos < 0:
                count_offsets[g + 1] = count_offsets[g]
                return -1 - g
        count_offsets[g + 1] = pos
    return pos


# ---------------------------------------------------------------- IoU


@jit
def _inter_union(dc, ds, dm, gc, gs, gm):
    """maskApi.c ``rleIou``'s walk over two masks' runs: (intersection, union)."""
    ca = np.int64(dc[ds]) if dm > 0 else 0
    cb = np.int64(gc[gs]) if gm > 0 else 0
    va = False
    vb = False
    a = 1
    b = 1
    inter = 0
    union = 0
    ct = 1
    while ct > 0:
        c = min(ca, cb)
        if va or vb:
            union += c
            if va and vb:
                inter += c
        ca -= c
        if ca == 0 and a < dm:
            ca = np.int64(dc[ds + a])
            a += 1
            va = not va
        cb -= c
        if cb == 0 and b < gm:
            cb = np.int64(gc[gs + b])
            b += 1
            vb = not vb
        ct = (ca + cb) & _U32  # uint in maskApi.c
    return inter, union


@jit
def _area_of(cnt, s, m):
    a = 0
    for j in range(s + 1, s + m, 2):
        a += np.int64(cnt[j])
    return a & _U32


@jit
def _boxes_overlap(db, d, gb, g):
    """maskApi.c ``bbIou``'s test: positive width and height of the intersection."""
    w = min(db[d, 2] + db[d, 0], gb[g, 2] + gb[g, 0]) - max(db[d, 0], gb[g, 0])
    if w <= 0:
        return False
    h = min(db[d, 3] + db[d, 1], gb[g, 3] + gb[g, 1]) - max(db[d, 1], gb[g, 1])
    return h > 0


@jit
def _mask_iou(dc, ds, dm, gc, gs, gm, crowd):
    """maskApi.c ``rleIou`` for one pair whose boxes overlap."""
    inter, ad, ag, exact = _sweep(dc, ds, dm, gc, gs, gm)
    if exact:
        if inter == 0:
            return 0.0
        union = ad if crowd else ad + ag - inter
        return np.float64(inter) / np.float64(union)
    inter, union = _inter_union(dc, ds, dm, gc, gs, gm)
    if inter == 0:
        union = 1
    elif crowd:
        union = _area_of(dc, ds, dm)
    return np.float64(inter) / np.float64(union)


@jit
def rle_iou(
    dt_counts, dt_offsets, dt_bbox, dt_h, dt_w, gt_counts, gt_offsets, gt_bbox, gt_h, gt_w, crowd,
    out,
):  # fmt: skip
    """IoU of every detection mask with every ground-truth mask (maskApi.c ``rleIou``).

    ``out[g * m + d]`` for ``m`` detections (``pycocotools.mask.iou``'s memory
    order). The boxes are the masks' :func:`rle_to_bbox`: pairs whose boxes do
    not overlap (``bbIou``) are 0 without a look at the runs; pairs of
    different sizes that do are -1. For a crowd ground truth the union is
    the detection's area; no intersection gives 0.
    """
    m = dt_offsets.shape[0] - 1
    n = gt_offsets.shape[0] - 1
    for g in range(n):
        gs = gt_offsets[g]
        gm = gt_offsets[g + 1] - gs
        for d in range(m):
            o = g * m + d
            out[o] = 0.0
            if not _boxes_overlap(dt_bbox, d, gt_bbox, g):
                continue
            if dt_h[d] != gt_h[g] or dt_w[d] != gt_w[g]:
                out[o] = -1.0
                continue
            ds = dt_offsets[d]
            out[o] = _mask_iou(dt_counts, ds, dt_offsets[d + 1] - ds, gt_counts, gs, gm, crowd[g])


@jit
def mask_iou_cells(
    det_offsets, det_index, buf, starts, ends, h, w, escaped, gt_offsets, gt_index, gt_counts,
    gt_mask_offsets, gt_mask_bbox, gt_crowd, sim_offsets, sim, c_lo, c_hi, runs,
):  # fmt: skip
    """Mask IoU of cells ``c_lo:c_hi`` into ``sim`` (``COCOeval.computeIoU`` for segm).

    The cell layout of :func:`prcore._kernels.similarity.box_iou_cells`: cell
    ``c``'s row-major ``[D, G]`` matrix starts at ``sim[sim_offsets[c] -
    sim_offsets[c_lo]]``. Detection ``d`` of the cell is result
    ``r = det_index[det_offsets[c] + d]``, whose mask is the compressed RLE
    string ``buf[starts[r]:ends[r]]`` of an ``h[r] x w[r]`` image (JSON-escaped
    when ``escaped``; every string was checked when loaded). It is decoded here,
    once, into ``runs`` (scratch of at least ``max(ends - starts)`` entries:
    a string yields at most one count per byte), with its :func:`rle_to_bbox`
    box on the way, and compared with each ground truth of its cell; so no
    column of the detections' runs is ever held, and a detection whose cell
    has no ground truth is never decoded. Ground truth ``g`` is mask column
    ``gt_index[gt_offsets[c] + g]`` of ``gt_counts``/``gt_mask_offsets``/
    ``gt_mask_bbox`` (read in place, never copied into cell order), with crowd
    flag ``gt_crowd[gt_offsets[c] + g]``.

    Each value is ``maskUtils.iou(dt, gt, iscrowd)``'s (maskApi.c ``rleIou``):
    0 where the masks' boxes do not overlap, else intersection over union, the
    union being the detection's area for a crowd. A cell's masks all have its
    image's size (the loader checks), so the -1 of a size mismatch never occurs.
    """
    base = sim_offsets[c_lo]
    run_offsets = np.empty(2, np.int64)
    area = np.empty(1, np.int64)
    box = np.empty((1, 4), np.float64)
    for c in range(c_lo, c_hi):
        d0 = det_offsets[c]
        n_d = det_offsets[c + 1] - d0
        g0 = gt_offsets[c]
        n_g = gt_offsets[c + 1] - g0
        if n_d == 0 or n_g == 0:
            continue
        s0 = sim_offsets[c] - base
        for d in range(n_d):
            r = det_index[d0 + d]
            rle_from_strings(
                buf, starts[r : r + 1], ends[r : r + 1], h[r : r + 1], w[r : r + 1], escaped,
                runs, run_offsets, area, box,
            )  # fmt: skip
            dm = run_offsets[1]
            row = s0 + d * n_g
            for g in range(n_g):
                gi = gt_index[g0 + g]
                if not _boxes_overlap(box, 0, gt_mask_bbox, gi):
                    sim[row + g] = 0.0
                    continue
                gs = gt_mask_offsets[gi]
                sim[row + g] = _mask_iou(
                    runs, 0, dm, gt_counts, gs, gt_mask_offsets[gi + 1] - gs, gt_crowd[g0 + g]
                )


_FAST_MAX = 1 << 31  # runs below this cannot wrap maskApi.c's 32-bit ``ct`` to 0


@jit
def _next_run(c, s0, m, a, end):
    """The foreground run after the one at count ``a``, which ends at ``end``.

    Returns ``(start, stop, index)``; index ``m`` when there is none, start -1
    when a count is empty or 2**31 or more (the sweep then gives up).
    """
    if a + 1 >= m:
        return end, end, m
    x = np.int64(c[s0 + a + 1])
    if not 0 < x < _FAST_MAX:
        return -1, -1, m
    if a + 2 >= m:
        return end, end, m
    y = np.int64(c[s0 + a + 2])
    if not 0 < y < _FAST_MAX:
        return -1, -1, m
    return end + x, end + x + y, a + 2


@jit
def _sweep(dc, ds, dm, gc, gs, gm):
    """``(intersection, detection area, ground-truth area, exact)`` over foreground runs.

    maskApi.c ``rleIou`` walks every run of both masks; where every run but
    the first is non-empty and below 2**31 that walk visits all of them and
    its ``uint`` sums do not wrap, so its intersection is this one and its
    union the two areas less it. This sweep visits foreground runs only, and
    runs of one mask that lie before the other's in a tight loop. ``exact`` is
    False where that condition fails; the caller then walks as maskApi.c does.
    """
    if dm < 2 or gm < 2:
        return 0, 0, 0, False
    x = np.int64(dc[ds])
    y = np.int64(dc[ds + 1])
    if x >= _FAST_MAX or not 0 < y < _FAST_MAX:
        return 0, 0, 0, False
    d_s, d_e, a = x, x + y, 1
    x = np.int64(gc[gs])
    y = np.int64(gc[gs + 1])
    if x >= _FAST_MAX or not 0 < y < _FAST_MAX:
        return 0, 0, 0, False
    g_s, g_e, b = x, x + y, 1
    inter = 0
    ad = 0
    ag = 0
    while a < dm and b < gm:
        if d_e <= g_s:
            ad += d_e - d_s
            d_s, d_e, a = _next_run(dc, ds, dm, a, d_e)
        elif g_e <= d_s:
            ag += g_e - g_s
            g_s, g_e, b = _next_run(gc, gs, gm, b, g_e)
        else:
            inter += min(d_e, g_e) - max(d_s, g_s)
            if d_e <= g_e:
                ad += d_e - d_s
                d_s, d_e, a = _next_run(dc, ds, dm, a, d_e)
            else:
                ag += g_e - g_s
                g_s, g_e, b = _next_run(gc, gs, gm, b, g_e)
        if d_s < 0 or g_s < 0:
            return 0, 0, 0, False
    while a < dm:
        ad += d_e - d_s
        d_s, d_e, a = _next_run(dc, ds, dm, a, d_e)
        if d_s < 0:
            return 0, 0, 0, False
    while b < gm:
        ag += g_e - g_s
        g_s, g_e, b = _next_run(gc, gs, gm, b, g_e)
        if g_s < 0:
            return 0, 0, 0, False
    return inter, ad, ag, True
