"""Byte-level scan of a COCO results file into columns.

The kernel reads the UTF-8 bytes of a results file (a JSON array of
``{"image_id", "category_id", "bbox", "score", ...}`` objects) in one pass and
writes the four fields straight into arrays. It mirrors what
``json.loads`` + ``np.asarray(..., np.float64)`` produce (pycocotools'
``COCO.loadRes`` starts with ``json.load``), bit for bit, and it gives up
(status ``REJECT``) on anything it is not sure about, so that the caller can
fall back to the full parser and its located error messages.

Numbers become doubles by one of two correctly rounded routes, like CPython's
``float()``:

* Clinger's fast path: a decimal significand ``w <= 2**53`` with
  ``|exp10| <= 22`` is ``float(w) * 10**q`` or ``float(w) / 10**-q``, one
  IEEE operation on two exact values.
* Eisel-Lemire: ``w`` (up to 19 digits) times a 128-bit truncated power of
  ten, with the 64x64->128 multiply emulated in 32-bit halves. It either
  proves the rounding or declines; declined numbers (and numbers with more
  than 19 significant digits, or far out of range) are returned as byte spans
  for ``float(bytes)`` in Python.

Speed comes from three things: digits and keys are read 8 bytes at a time
(SWAR), the helpers take data addresses instead of arrays (numba reference
counts each array argument with atomic operations, which cost more than the
work per byte), and the small helpers are inlined.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros
from numba.extending import intrinsic

from prcore._kernels.jit import jit
from prcore._kernels.scan_constants import (
    FALLBACK_FULL,
    MAX_DEPTH,
    OK,
    PAUSED,
    POW10_MAX,
    POW10_MIN,
    REJECT,
)

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U3 = np.uint64(3)
_U9 = np.uint64(9)
_U10 = np.uint64(10)
_U32 = np.uint64(32)
_U52 = np.uint64(52)
_U53 = np.uint64(53)
_U63 = np.uint64(63)
_M32 = np.uint64(0xFFFFFFFF)
_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_SIGN = np.uint64(0x8000000000000000)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_TWO53 = np.uint64(1 << 53)
_U8 = np.uint64(8)
_U16 = np.uint64(16)
_E8 = np.uint64(10**8)
_M40 = np.uint64((1 << 40) - 1)
_M48 = np.uint64((1 << 48) - 1)
_HI_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_ASCII_0 = np.uint64(0x3030303030303030)
_ASCII_6 = np.uint64(0x0606060606060606)
_SWAR_MASK = np.uint64(0x000000FF000000FF)
_SWAR_MUL1 = np.uint64(100 + (1000000 << 32))
_SWAR_MUL2 = np.uint64(1 + (10000 << 32))


def _le(text: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(text, "little"))


# Byte strings the tokenizer compares against, as tuples of byte values.
_WORD_TRUE = tuple(b"true")
_WORD_FALSE = tuple(b"false")
_WORD_NULL = tuple(b"null")
_WORD_BBOX = tuple(b"bbox")
_WORD_SCORE = tuple(b"score")
_WORD_IMAGE_ID = tuple(b"image_id")
_WORD_CATEGORY_ID = tuple(b"category_id")
_SIMPLE_ESCAPES = tuple(b'"\\/bfnrt')  # after a backslash; \u is handled apart

# The four keys as little-endian words, closing quote included where it fits.
_KEY_IMAGE_ID = _le(b"image_id")
_KEY_CATEGORY = _le(b"category")
_KEY_ID_QUOTE = _le(b'_id"')
_KEY_BBOX = _le(b'bbox"')
_KEY_SCORE = _le(b'score"')

# Field bits of a detection record.
_F_IMG = 1
_F_CAT = 2
_F_BOX = 4
_F_SCORE = 8
_F_ALL = 15

_MAX_NUMBER_LEN = 4000  # CPython refuses int tokens over 4300 digits


@intrinsic
def _address(typingctx, arr):
    """The address of an array's data, as an int64.

    The helpers below take addresses rather than arrays: numba reference
    counts every array passed to a function, with atomic operations that
    cost more than the tokenizer's work on a byte. The kernel's array
    arguments keep the memory alive while it runs.
    """
    sig = types.int64(arr)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, ir.IntType(64))

    return sig, codegen


def _loader(llvm_type: ir.Type, numba_type: types.Type, unaligned: bool, what: str):
    @intrinsic
    def load(typingctx, addr, idx):
        sig = numba_type(addr, idx)

        def codegen(context, builder, signature, args):
            if unaligned:  # idx counts bytes
                base = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
                ptr = builder.gep(base, [args[1]], inbounds=True)
                ptr = builder.bitcast(ptr, llvm_type.as_pointer())
                return builder.load(ptr, align=1)
            base = builder.inttoptr(args[0], llvm_type.as_pointer())
            return builder.load(builder.gep(base, [args[1]], inbounds=True))

        return sig, codegen

    load.__doc__ = what
    return load


# Callers keep every index in bounds; there is no wraparound or bounds check.
_ld = _loader(ir.IntType(8), types.uint8, False, "Byte ``idx`` at ``addr``.")
_ld64 = _loader(
    ir.IntType(64),
    types.uint64,
    True,
    "Bytes ``idx .. idx + 7`` at ``addr`` as one little-endian uint64 (unaligned).",
)
_ld_u64 = _loader(ir.IntType(64), types.uint64, False, "Element ``idx`` of a uint64 array.")
_ld_i64 = _loader(ir.IntType(64), types.int64, False, "Element ``idx`` of an int64 array.")
_ld_f64 = _loader(ir.DoubleType(), types.float64, False, "Element ``idx`` of a float64 array.")


@intrinsic
def _f64_from_bits(typingctx, bits):
    """Reinterpret uint64 bits as a float64 (a register move)."""
    sig = types.float64(bits)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@jit(inline="always")
def _mul64(a, b):
    """Full 128-bit product of two uint64 as (high, low) words."""
    a_lo = a & _M32
    a_hi = a >> _U32
    b_lo = b & _M32
    b_hi = b >> _U32
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    hh = a_hi * b_hi
    mid = (ll >> _U32) + (lh & _M32) + (hl & _M32)
    lo = (mid << _U32) | (ll & _M32)
    hi = hh + (lh >> _U32) + (hl >> _U32) + (mid >> _U32)
    return hi, lo


@jit(inline="always")
def _round_top(hi, rest_nonzero, exp_base):
    """Round a number whose top word is hi (bit 63 or 62 set) to 53 bits.

    ``rest_nonzero`` says whether any bit below hi is set. Returns the biased
    exponent and the 53-bit significand, rounded half to even.
    """
    msb = hi >> _U63
    shift = msb + _U9
    mant = hi >> shift
    sticky = rest_nonzero or (hi & ((_U1 << shift) - _U1)) != _U0
    half = mant & _U1
    mant >>= _U1
    if half == _U1 and (sticky or (mant & _U1) == _U1):
        mant += _U1
    exp2 = exp_base + np.int64(msb)
    if (mant >> _U53) > _U0:
        mant >>= _U1
        exp2 += 1
    return exp2, mant


@jit
def _eisel_lemire(w, q, neg, t):
    """Correctly rounded ``w * 10**q`` as float64 bits, or ok=False.

    Eisel-Lemire as in Go's ``strconv.eiselLemire64``, with its decision
    stated as an interval: the table holds ``T = floor(10**q * 2**s)``, so the
    exact product ``m * (T + f)``, ``0 <= f < 1``, lies in ``[m*T, m*T + m)``.
    The result is accepted when both ends of that interval round to the same
    double (rounding is monotone), first with T's high word alone, then with
    all 128 bits; an exactly held power needs no interval. Otherwise, and for
    subnormal or overflowing results, it declines. (Go's test declines every
    exactly representable float32 value written with 17 digits and a
    negative exponent, which is most of a detectron2 results file.)
    Requires ``w != 0`` and ``POW10_MIN <= q <= POW10_MAX``; ``t`` holds the
    addresses of :func:`~prcore._kernels.scan_constants.power_tables`' arrays.
    """
    idx = q - POW10_MIN
    clz = leading_zeros(w)
    m = w << np.uint64(clz)
    exp_base = _ld_i64(t[2], idx) + (64 + 1023 - 1) - np.int64(clz)
    t_hi = _ld_u64(t[0], idx)
    t_lo = _ld_u64(t[1], idx)
    exact = _ld(t[3], idx) != 0

    # Level 1: value / 2**64 lies in [x, x + m) with x = m * t_hi (128 bits).
    x_hi, x_lo = _mul64(m, t_hi)
    e_lo, m_lo = _round_top(x_hi, x_lo != _U0, exp_base)
    if exact and t_lo == _U0:
        e_hi, m_hi = e_lo, m_lo
    else:
        u_lo = x_lo + m
        u_hi = x_hi
        if u_lo < x_lo:
            if x_hi == _ALL:
                return False, _U0
            u_hi += _U1
        e_hi, m_hi = _round_top(u_hi, u_lo != _U0, exp_base)
    if e_lo != e_hi or m_lo != m_hi:
        # Level 2: the 192-bit product P = m * T lies in [P, P + m).
        y_hi, y_lo = _mul64(m, t_lo)
        p1 = x_lo + y_hi
        p2 = x_hi
        if p1 < x_lo:
            p2 += _U1
        e_lo, m_lo = _round_top(p2, p1 != _U0 or y_lo != _U0, exp_base)
        if not exact:
            u0 = y_lo + m
            u1 = p1
            u2 = p2
            if u0 < y_lo:
                u1 += _U1
                if u1 == _U0:
                    if u2 == _ALL:
                        return False, _U0
                    u2 += _U1
            e_hi, m_hi = _round_top(u2, u1 != _U0 or u0 != _U0, exp_base)
            if e_lo != e_hi or m_lo != m_hi:
                return False, _U0
    if e_lo <= 0 or e_lo >= 0x7FF:
        return False, _U0
    bits = (np.uint64(e_lo) << _U52) | (m_lo & _MANT)
    if neg:
        bits |= _SIGN
    return True, bits


@jit(inline="always")
def _skip_ws(src, pos, n):
    while pos < n:
        c = _ld(src, pos)
        if c == 32 or c == 10 or c == 13 or c == 9:
            pos += 1
        else:
            break
    return pos


@jit
def _is_hex(c):
    return (48 <= c <= 57) or (65 <= c <= 70) or (97 <= c <= 102)


@jit
def _skip_utf8(src, pos, n):
    """Position after one valid UTF-8 sequence whose lead byte is at pos, or -1.

    Accepts exactly what CPython's strict UTF-8 decoder accepts (no overlong
    forms, no encoded surrogates, nothing above U+10FFFF).
    """
    c = _ld(src, pos)
    if 0xC2 <= c <= 0xDF:
        k = 1
        lo = 0x80
        hi = 0xBF
    elif 0xE0 <= c <= 0xEF:
        k = 2
        lo = 0xA0 if c == 0xE0 else 0x80
        hi = 0x9F if c == 0xED else 0xBF
    elif 0xF0 <= c <= 0xF4:
        k = 3
        lo = 0x90 if c == 0xF0 else 0x80
        hi = 0x8F if c == 0xF4 else 0xBF
    else:
        return -1
    if pos + k >= n:
        return -1
    c1 = _ld(src, pos + 1)
    if c1 < lo or c1 > hi:
        return -1
    for j in range(2, k + 1):
        cj = _ld(src, pos + j)
        if cj < 0x80 or cj > 0xBF:
            return -1
    return pos + k + 1


@jit
def _skip_string(src, pos, n):
    """Position after a string whose opening quote is at pos - 1, or -1.

    Also reports whether it held an escape: (end, escaped).
    """
    escaped = False
    while pos < n:
        c = _ld(src, pos)
        if c == 34:  # "
            return pos + 1, escaped
        if c == 92:  # backslash
            escaped = True
            if pos + 1 >= n:
                return -1, escaped
            e = _ld(src, pos + 1)
            if e == 117:  # \uXXXX: CPython requires four hex digits
                if pos + 5 >= n:
                    return -1, escaped
                for j in range(2, 6):
                    if not _is_hex(_ld(src, pos + j)):
                        return -1, escaped
                pos += 6
            elif e in _SIMPLE_ESCAPES:
                pos += 2
            else:
                return -1, escaped
        elif c < 32:  # json.loads is strict about control characters
            return -1, escaped
        elif c >= 128:
            pos = _skip_utf8(src, pos, n)
            if pos < 0:
                return -1, escaped
        else:
            pos += 1
    return -1, escaped


@jit
def _skip_number(src, pos, n):
    """Position after a JSON number token starting at pos, or -1."""
    start = pos
    if pos < n and _ld(src, pos) == 45:
        pos += 1
    if pos >= n:
        return -1
    c = _ld(src, pos)
    if c == 48:
        pos += 1
    elif 49 <= c <= 57:
        while pos < n and 48 <= _ld(src, pos) <= 57:
            pos += 1
    else:
        return -1
    if pos < n and _ld(src, pos) == 46:
        pos += 1
        if pos >= n or not (48 <= _ld(src, pos) <= 57):
            return -1
        while pos < n and 48 <= _ld(src, pos) <= 57:
            pos += 1
    if pos < n and (_ld(src, pos) == 101 or _ld(src, pos) == 69):
        pos += 1
        if pos < n and (_ld(src, pos) == 43 or _ld(src, pos) == 45):
            pos += 1
        if pos >= n or not (48 <= _ld(src, pos) <= 57):
            return -1
        while pos < n and 48 <= _ld(src, pos) <= 57:
            pos += 1
    if pos - start > _MAX_NUMBER_LEN:
        return -1
    return pos


@jit
def _match_word(src, pos, n, word):
    if pos + len(word) > n:
        return -1
    for j in range(len(word)):
        if _ld(src, pos + j) != word[j]:
            return -1
    return pos + len(word)


@jit
def _skip_value(src, pos, n, stack):
    """Position after any JSON value starting at pos (no whitespace), or -1.

    Validates the grammar fully (an extra key's value must be valid for
    json.loads to succeed) but converts nothing. NaN and Infinity, which
    json.loads would accept, are declined.
    """
    depth = 0
    while True:
        # Expect a value at pos.
        if pos >= n:
            return -1
        c = _ld(src, pos)
        if c == 34:
            pos, _ = _skip_string(src, pos + 1, n)
            if pos < 0:
                return -1
        elif c == 123 or c == 91:  # { or [
            pos = _skip_ws(src, pos + 1, n)
            if pos >= n:
                return -1
            close = 125 if c == 123 else 93
            if _ld(src, pos) == close:
                pos += 1
            else:
                if depth >= MAX_DEPTH:
                    return -1
                stack[depth] = c
                depth += 1
                if c == 123:
                    if _ld(src, pos) != 34:
                        return -1
                    pos, _ = _skip_string(src, pos + 1, n)
                    if pos < 0:
                        return -1
                    pos = _skip_ws(src, pos, n)
                    if pos >= n or _ld(src, pos) != 58:
                        return -1
                    pos = _skip_ws(src, pos + 1, n)
                continue
        elif c == 45 or 48 <= c <= 57:
            pos = _skip_number(src, pos, n)
            if pos < 0:
                return -1
        elif c == 116:
            pos = _match_word(src, pos, n, _WORD_TRUE)
        elif c == 102:
            pos = _match_word(src, pos, n, _WORD_FALSE)
        elif c == 110:
            pos = _match_word(src, pos, n, _WORD_NULL)
        else:
            return -1
        if pos < 0:
            return -1
        # A value ended; close containers or move to the next element.
        while True:
            if depth == 0:
                return pos
            pos = _skip_ws(src, pos, n)
            if pos >= n:
                return -1
            c = _ld(src, pos)
            top = stack[depth - 1]
            if c == 44:  # ,
                pos = _skip_ws(src, pos + 1, n)
                if top == 123:
                    if pos >= n or _ld(src, pos) != 34:
                        return -1
                    pos, _ = _skip_string(src, pos + 1, n)
                    if pos < 0:
                        return -1
                    pos = _skip_ws(src, pos, n)
                    if pos >= n or _ld(src, pos) != 58:
                        return -1
                    pos = _skip_ws(src, pos + 1, n)
                break
            if (top == 123 and c == 125) or (top == 91 and c == 93):
                pos += 1
                depth -= 1
            else:
                return -1


@jit(inline="always")
def _eight_digits(d):
    """The number written by 8 digit values, one per byte, first digit lowest.

    The SWAR conversion of simdjson / fast_float (``parse_eight_digits``).
    """
    d = d * _U10 + (d >> _U8)
    return (((d & _SWAR_MASK) * _SWAR_MUL1) + (((d >> _U16) & _SWAR_MASK) * _SWAR_MUL2)) >> _U32


@jit(inline="always")
def _digit_run(src, pos, n, w, pow10_int):
    """Read the digits at pos into ``w = w * 10**k + digits``, 8 bytes at a time.

    Returns (end, w, k). ``w`` wraps modulo 2**64 past 19 digits; callers
    check k.
    """
    k = 0
    while pos + 8 <= n:
        v = _ld64(src, pos)
        # Nonzero in a byte unless it is '0'..'9': high nibble 3, and no
        # carry out of the nibble when adding 6. Carries only run upwards,
        # past the first non-digit, so they never hide it.
        bad = ((v & _HI_NIBBLES) ^ _ASCII_0) | (((v + _ASCII_6) & _HI_NIBBLES) ^ _ASCII_0)
        if bad == _U0:
            w = w * _E8 + _eight_digits(v - _ASCII_0)
            pos += 8
            k += 8
            continue
        j = np.int64(trailing_zeros(bad) >> _U3)
        if j > 0:
            # Shift the j digits to the top bytes; zeros below are leading zeros.
            d = (v - _ASCII_0) << np.uint64(64 - 8 * j)
            w = w * _ld_u64(pow10_int, j) + _eight_digits(d)
        return pos + j, w, k + j
    while pos < n:
        c = _ld(src, pos)
        if c < 48 or c > 57:
            break
        w = w * _U10 + np.uint64(c - 48)
        pos += 1
        k += 1
    return pos, w, k


@jit(inline="always")
def _parse_int(src, pos, n, pow10_int):
    """An integer id token -> (end, ok, value); json.loads would give an int.

    Declines tokens json.loads reads as floats (``1.0``, ``1e3``) and values
    outside int64.
    """
    neg = False
    if pos < n and _ld(src, pos) == 45:
        neg = True
        pos += 1
    if pos >= n:
        return pos, False, 0
    c = _ld(src, pos)
    mag = _U0
    if c == 48:
        pos += 1
    elif 49 <= c <= 57:
        pos, mag, k = _digit_run(src, pos, n, _U0, pow10_int)
        if k > 19:  # 19 digits still fit a uint64 without wrapping
            return pos, False, 0
    else:
        return pos, False, 0
    if pos < n:
        c = _ld(src, pos)
        if c == 46 or c == 101 or c == 69:
            return pos, False, 0
    limit = _SIGN if neg else _SIGN - _U1
    if mag > limit:
        return pos, False, 0
    if neg and mag != _U0:
        return pos, True, -np.int64(mag - _U1) - 1
    return pos, True, np.int64(mag)


@jit
def _to_double(w, q, neg, t):
    """Correctly rounded ``(-1)**neg * w * 10**q`` -> (decided, value).

    ``w`` is exact (at most 19 digits) and nonzero.
    """
    if w <= _TWO53 and -22 <= q <= 22:
        # Clinger: one IEEE operation on two exactly held values.
        f = np.float64(w)
        if q >= 0:
            f = f * _ld_f64(t[4], q)
        else:
            f = f / _ld_f64(t[4], -q)
        return True, -f if neg else f
    if q < POW10_MIN or q > POW10_MAX:
        return False, 0.0
    ok, bits = _eisel_lemire(w, q, neg, t)
    return ok, _f64_from_bits(bits)


@jit
def _parse_number_bytes(src, pos, n, t):
    """A number token -> (end, status, value) with status 0 ok, 1 bad, 2 undecided.

    The byte-at-a-time reader, for every form: exponents, leading zeros
    after the point, more than 19 significant digits.
    ``value`` equals ``float(token)`` for a float token and ``float(int(token))``
    for an integer token (so ``-0`` is ``+0.0``, as json.loads + numpy give).
    """
    start = pos
    neg = False
    if pos < n and _ld(src, pos) == 45:
        neg = True
        pos += 1
    if pos >= n:
        return pos, 1, 0.0
    w = _U0
    nd = 0  # significant digits seen
    q = 0
    is_int = True
    c = _ld(src, pos)
    if c == 48:
        pos += 1
    elif 49 <= c <= 57:
        while pos < n:
            c = _ld(src, pos)
            if c < 48 or c > 57:
                break
            w = w * _U10 + np.uint64(c - 48)
            nd += 1
            pos += 1
    else:
        return pos, 1, 0.0
    if pos < n and _ld(src, pos) == 46:
        is_int = False
        pos += 1
        frac_start = pos
        while pos < n:
            c = _ld(src, pos)
            if c < 48 or c > 57:
                break
            if nd == 0 and c == 48:  # leading zeros of 0.00x are not significant
                q -= 1
            else:
                w = w * _U10 + np.uint64(c - 48)
                nd += 1
                q -= 1
            pos += 1
        if pos == frac_start:
            return pos, 1, 0.0
    if pos < n and (_ld(src, pos) == 101 or _ld(src, pos) == 69):
        is_int = False
        pos += 1
        eneg = False
        if pos < n and (_ld(src, pos) == 43 or _ld(src, pos) == 45):
            eneg = _ld(src, pos) == 45
            pos += 1
        exp_start = pos
        ev = 0
        while pos < n:
            c = _ld(src, pos)
            if c < 48 or c > 57:
                break
            if ev < 100000000:
                ev = ev * 10 + (c - 48)
            pos += 1
        if pos == exp_start:
            return pos, 1, 0.0
        q += -ev if eneg else ev
    if pos - start > _MAX_NUMBER_LEN:
        return pos, 1, 0.0
    if nd == 0:  # all digits zero (w may also be 0 after wrapping: check nd)
        if neg and not is_int:
            return pos, 0, -0.0
        return pos, 0, 0.0
    if nd > 19:
        return pos, 2, 0.0
    ok, f = _to_double(w, q, neg, t)
    return pos, 0 if ok else 2, f


@jit
def _parse_number(src, pos, n, t):
    """Like :func:`_parse_number_bytes`, reading digits 8 bytes at a time.

    Handles the common forms (``-12``, ``0.25``, ``207.22605895996094``) and
    hands anything else (an exponent, more than 19 digits) to the byte reader.
    """
    pow10_int = t[5]
    start = pos
    neg = False
    if pos < n and _ld(src, pos) == 45:
        neg = True
        pos += 1
    if pos >= n:
        return pos, 1, 0.0
    c = _ld(src, pos)
    w = _U0
    digits = 0
    if c == 48:
        pos += 1
    elif 49 <= c <= 57:
        pos, w, digits = _digit_run(src, pos, n, _U0, pow10_int)
    else:
        return pos, 1, 0.0
    q = 0
    is_int = True
    if pos < n and _ld(src, pos) == 46:
        is_int = False
        pos, w, k = _digit_run(src, pos + 1, n, w, pow10_int)
        if k == 0:
            return pos, 1, 0.0
        digits += k
        q = -k
    if digits > 19 or (pos < n and (_ld(src, pos) == 101 or _ld(src, pos) == 69)):
        return _parse_number_bytes(src, start, n, t)
    if w == _U0:  # exact: at most 19 digits
        if neg and not is_int:
            return pos, 0, -0.0
        return pos, 0, 0.0
    ok, f = _to_double(w, q, neg, t)
    return pos, 0 if ok else 2, f


@jit
def _key_field(src, ks, ke):
    """Field bit of the key bytes src[ks:ke], or 0 for any other key."""
    if _match_word(src, ks, ke, _WORD_BBOX) == ke:
        return _F_BOX
    if _match_word(src, ks, ke, _WORD_SCORE) == ke:
        return _F_SCORE
    if _match_word(src, ks, ke, _WORD_IMAGE_ID) == ke:
        return _F_IMG
    if _match_word(src, ks, ke, _WORD_CATEGORY_ID) == ke:
        return _F_CAT
    return 0


@jit(inline="always")
def _read_key(src, ks, n):
    """Read the key whose first byte is at ks -> (end after quote, field, ok).

    The four keys are recognised with one or two 8-byte compares, closing
    quote included; any other key is read (and validated) byte by byte.
    ``ok`` is False for a malformed key or one written with escapes.
    """
    if ks + 16 <= n:
        v = _ld64(src, ks)
        if v == _KEY_IMAGE_ID and _ld(src, ks + 8) == 34:
            return ks + 9, _F_IMG, True
        if v == _KEY_CATEGORY and (_ld64(src, ks + 8) & _M32) == _KEY_ID_QUOTE:
            return ks + 12, _F_CAT, True
        if (v & _M40) == _KEY_BBOX:
            return ks + 5, _F_BOX, True
        if (v & _M48) == _KEY_SCORE:
            return ks + 6, _F_SCORE, True
    end, escaped = _skip_string(src, ks, n)
    if end < 0 or escaped:
        return end, 0, False
    return end, _key_field(src, ks, end - 1), True


@jit
def scan_results_kernel(
    buf, tables, image_id, category_id, bbox, score, fb_slot, fb_start, fb_end, stack, start, stop
):
    """Scan a results file's bytes, or a span of its records, into caller-allocated columns.

    Parameters
    ----------
    buf : uint8 (L,)
        The file's bytes.
    tables : tuple
        From :func:`~prcore._kernels.scan_constants.power_tables`.
    image_id, category_id : int64 (cap,)
        Filled for the first ``count`` records; ``cap`` must bound the record
        count (the kernel rejects a file with more).
    bbox : float64 (cap, 4)
        ``[x, y, w, h]`` per record.
    score : float64 (cap,)
    fb_slot, fb_start, fb_end : int64 (fb_cap,)
        Undecided numbers: where each goes (``i < 4 * cap`` is ``bbox.flat[i]``,
        otherwise ``score[i - 4 * cap]``) and its byte span, for
        ``float(bytes)`` in the caller.
    stack : uint8 (MAX_DEPTH,)
        Scratch for nested values (``scan_constants.new_stack``; allocated by the
        caller, so that loading the kernel from the cache needs none of
        numba's array-allocation code).
    start : int
        0 to scan the whole document; otherwise the offset of a record's ``{``
        inside the top-level array, to scan from that record to the end.
    stop : int
        An offset where the next record may begin: when a record's trailing
        comma (and whitespace) ends exactly there, the scan returns ``PAUSED``.
        When no record boundary falls on it (it was inside a value), the scan
        simply goes on to the end. -1: never pause.

    Returns
    -------
    status : int
        ``OK``, ``REJECT`` (not sure; use the full parser), ``FALLBACK_FULL``
        (rerun with longer ``fb_*`` arrays) or ``PAUSED`` (at ``stop``).
    count : int
        Number of records.
    n_fb : int
        Number of undecided numbers.
    """
    n = buf.shape[0]
    src = _address(buf)
    t = (
        _address(tables[0]),
        _address(tables[1]),
        _address(tables[2]),
        _address(tables[3]),
        _address(tables[4]),
        _address(tables[5]),
    )
    cap = score.shape[0]
    fb_cap = fb_slot.shape[0]
    pow10_int = t[5]
    count = 0
    n_fb = 0

    pos = start
    if start == 0:
        if n >= 3 and _ld(src, 0) == 0xEF and _ld(src, 1) == 0xBB and _ld(src, 2) == 0xBF:
            pos = 3  # json.loads(bytes) decodes with utf-8-sig
        pos = _skip_ws(src, pos, n)
        if pos >= n or _ld(src, pos) != 91:
            return REJECT, 0, 0
        pos = _skip_ws(src, pos + 1, n)
        if pos < n and _ld(src, pos) == 93:
            pos = _skip_ws(src, pos + 1, n)
            return (OK if pos == n else REJECT), 0, 0

    while True:
        # One record.
        if pos >= n or _ld(src, pos) != 123 or count >= cap:
            return REJECT, count, n_fb
        seen = 0
        pos = _skip_ws(src, pos + 1, n)
        while True:
            if pos >= n or _ld(src, pos) != 34:
                return REJECT, count, n_fb  # also {}: it lacks the fields
            pos, field, ok = _read_key(src, pos + 1, n)
            if not ok:
                return REJECT, count, n_fb
            pos = _skip_ws(src, pos, n)
            if pos >= n or _ld(src, pos) != 58:
                return REJECT, count, n_fb
            pos = _skip_ws(src, pos + 1, n)
            if pos >= n:
                return REJECT, count, n_fb
            if field == 0:
                pos = _skip_value(src, pos, n, stack)
                if pos < 0:
                    return REJECT, count, n_fb
            else:
                if seen & field:
                    return REJECT, count, n_fb  # duplicate key
                seen |= field
                if field == _F_IMG or field == _F_CAT:
                    pos, ok, v = _parse_int(src, pos, n, pow10_int)
                    if not ok:
                        return REJECT, count, n_fb
                    if field == _F_IMG:
                        image_id[count] = v
                    else:
                        category_id[count] = v
                elif field == _F_SCORE:
                    start = pos
                    pos, st, f = _parse_number(src, pos, n, t)
                    if st == 1:
                        return REJECT, count, n_fb
                    score[count] = f
                    if st == 2:
                        if n_fb >= fb_cap:
                            return FALLBACK_FULL, count, n_fb
                        fb_slot[n_fb] = 4 * cap + count
                        fb_start[n_fb] = start
                        fb_end[n_fb] = pos
                        n_fb += 1
                else:
                    if _ld(src, pos) != 91:
                        return REJECT, count, n_fb
                    for k in range(4):
                        pos = _skip_ws(src, pos + 1, n)
                        start = pos
                        pos, st, f = _parse_number(src, pos, n, t)
                        if st == 1:
                            return REJECT, count, n_fb
                        if k >= 2 and f < 0.0:
                            return REJECT, count, n_fb  # negative width/height
                        bbox[count, k] = f
                        if st == 2:
                            if n_fb >= fb_cap:
                                return FALLBACK_FULL, count, n_fb
                            fb_slot[n_fb] = 4 * count + k
                            fb_start[n_fb] = start
                            fb_end[n_fb] = pos
                            n_fb += 1
                        pos = _skip_ws(src, pos, n)
                        if pos >= n or _ld(src, pos) != (93 if k == 3 else 44):
                            return REJECT, count, n_fb
                    pos += 1
            pos = _skip_ws(src, pos, n)
            if pos >= n:
                return REJECT, count, n_fb
            c = _ld(src, pos)
            if c == 44:
                pos = _skip_ws(src, pos + 1, n)
            elif c == 125:
                pos += 1
                break
            else:
                return REJECT, count, n_fb
        if seen != _F_ALL:
            return REJECT, count, n_fb
        count += 1
        pos = _skip_ws(src, pos, n)
        if pos >= n:
            return REJECT, count, n_fb
        c = _ld(src, pos)
        if c == 44:
            pos = _skip_ws(src, pos + 1, n)
            if pos == stop:
                return PAUSED, count, n_fb
        elif c == 93:
            pos = _skip_ws(src, pos + 1, n)
            return (OK if pos == n else REJECT), count, n_fb
        else:
            return REJECT, count, n_fb
