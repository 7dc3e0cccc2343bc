"""The JSON tokenizer both byte scanners share.

:mod:`prcore._kernels.results_scan` and :mod:`prcore._kernels.coco_scan` read
UTF-8 JSON bytes with these helpers: whitespace, strings (validated as
strictly as CPython's ``json.loads`` and UTF-8 decoder), literals, numbers,
object keys, and a validating skipper for values they do not read. Each helper
returns a position after what it read, or a negative position for anything it
is not sure about; the scanners then decline the whole document (``REJECT``)
and the caller parses it in full.

Numbers become doubles by one of two correctly rounded routes, like CPython's
``float()``:

* Clinger's fast path: a decimal significand ``w <= 2**53`` with
  ``|exp10| <= 22`` is ``float(w) * 10**q`` or ``float(w) / 10**-q``, one
  IEEE operation on two exact values.
* Eisel-Lemire: ``w`` (up to 19 digits) times a 128-bit truncated power of
  ten, with the 64x64->128 multiply emulated in 32-bit halves. It either
  proves the rounding or declines; declined numbers (and numbers with more
  than 19 significant digits, or far out of range) are left *undecided*: the
  scanner records their byte spans and slots for ``float(bytes)`` in Python
  (:func:`~prcore._kernels.scan_constants.settle_undecided`).

Speed comes from three things: digits and keys are read 8 bytes at a time
(SWAR), the helpers take data pointers instead of arrays (numba reference
counts each array argument with atomic operations, which cost more than the
work per byte), and the small helpers are inlined.

Pointers and memory safety
--------------------------
Every read of the document, the power tables and the nesting stack, and every
write of a box or an undecided number, goes through the raw loads and stores
below (:func:`load_u8`, :func:`load_word`, :func:`store_f64`, ...). A pointer
is either an ``int64`` address (:func:`address`), whose loads check nothing,
or an ``(address, length)`` pair (:func:`bounded`), whose loads and stores
check the index and raise ``IndexError`` instead of touching memory outside
the array. The helpers are generic over the two, and a kernel makes every
pointer of the kind of its document's (:func:`pointer_like`): compiled from a
bounded document pointer, it is the same code with every raw access checked
(``PRCORE_SCAN_CHECKED=1``, see
:func:`~prcore._kernels.scan_constants.checked_mode`; the tests rerun the
scanners' suites that way). A missed bound on a memory-mapped file would be a
crash, not a fallback.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros
from numba.extending import intrinsic

from prcore._kernels.jit import jit
from prcore._kernels.scan_constants import MAX_DEPTH, POW10_MAX, POW10_MIN

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
_HI_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_ASCII_0 = np.uint64(0x3030303030303030)
_ASCII_6 = np.uint64(0x0606060606060606)
_SWAR_MASK = np.uint64(0x000000FF000000FF)
_SWAR_MUL1 = np.uint64(100 + (1000000 << 32))
_SWAR_MUL2 = np.uint64(1 + (10000 << 32))

# Each byte of a word: 0x01, 0x80, a quote, a backslash, a space (the first non-control).
_BYTES_01 = np.uint64(0x0101010101010101)
_BYTES_80 = np.uint64(0x8080808080808080)
_BYTES_QUOTE = np.uint64(0x2222222222222222)
_BYTES_BACKSLASH = np.uint64(0x5C5C5C5C5C5C5C5C)
_BYTES_SPACE = np.uint64(0x2020202020202020)

NO_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)  # never a word of a key's padded bytes (see key_words)

# What a number reader returns instead of a position.
NOT_A_NUMBER = -1
UNDECIDED_FULL = -2  # the undecided-number arrays are full: rerun with longer ones

# Byte strings the tokenizer compares against, as tuples of byte values.
_WORD_TRUE = tuple(b"true")
_WORD_FALSE = tuple(b"false")
_WORD_NULL = tuple(b"null")
_SIMPLE_ESCAPES = tuple(b'"\\/bfnrt')  # after a backslash; \u is handled apart

_MAX_NUMBER_LEN = 4000  # CPython refuses int tokens over 4300 digits


def le_word(text: bytes) -> np.uint64:
    """Up to 8 bytes as a little-endian word, zero padded: what :func:`load_word` reads."""
    return np.uint64(int.from_bytes(text, "little"))


def key_constant(key: bytes) -> tuple[np.uint64, np.uint64]:
    """A key (up to 16 bytes) as the two words :func:`key_words` gives for it."""
    assert len(key) <= 16 and b"\0" not in key
    return le_word(key[:8]), le_word(key[8:])


# ---------------------------------------------------------------- pointers and raw loads


@intrinsic
def address(typingctx, arr):
    """An array's data as an unchecked pointer (its address, an int64).

    The helpers take pointers rather than arrays: numba reference counts
    every array passed to a function, with atomic operations that cost more
    than the tokenizer's work on a byte. The kernel's array arguments keep
    the memory alive while it runs.
    """
    sig = types.int64(arr)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, ir.IntType(64))

    return sig, codegen


@intrinsic
def bounded(typingctx, arr):
    """An array's data as a checked pointer: ``(address, number of elements)``."""
    sig = types.UniTuple(types.int64, 2)(arr)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        addr = builder.ptrtoint(ary.data, ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, [addr, ary.nitems])

    return sig, codegen


@intrinsic
def pointer_like(typingctx, arr, like):
    """``arr``'s data as a pointer of the same kind as the pointer ``like``:
    :func:`bounded` if ``like`` is one, else :func:`address`."""
    checked = isinstance(like, types.UniTuple)
    sig = (types.UniTuple(types.int64, 2) if checked else types.int64)(arr, like)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        addr = builder.ptrtoint(ary.data, ir.IntType(64))
        if not checked:
            return addr
        return context.make_tuple(builder, signature.return_type, [addr, ary.nitems])

    return sig, codegen


def _base_address(context, builder, ptr_type, ptr, idx_type, idx, span):
    """The address in ``ptr``; for a checked pointer, first raise IndexError
    unless elements ``idx .. idx + span - 1`` lie inside it."""
    if not isinstance(ptr_type, types.UniTuple):
        return ptr
    addr = builder.extract_value(ptr, 0)
    length = builder.extract_value(ptr, 1)
    i = context.cast(builder, idx, idx_type, types.int64)
    zero = ir.Constant(ir.IntType(64), 0)
    last = builder.sub(length, ir.Constant(ir.IntType(64), span))
    outside = builder.or_(builder.icmp_signed("<", i, zero), builder.icmp_signed(">", i, last))
    with builder.if_then(outside, likely=False):
        context.call_conv.return_user_exc(
            builder, IndexError, ("prcore scanner: a raw load outside its array",)
        )
    return addr


def _pointer_type(ptr) -> bool:
    return ptr == types.int64 or (
        isinstance(ptr, types.UniTuple) and ptr.count == 2 and ptr.dtype == types.int64
    )


def _loader(llvm_type: ir.Type, numba_type: types.Type, unaligned: bool, what: str):
    # unaligned: idx counts bytes and the load reads llvm_type's width from there.
    span = llvm_type.width // 8 if unaligned else 1

    @intrinsic
    def load(typingctx, ptr, idx):
        if not _pointer_type(ptr) or not isinstance(idx, types.Integer):
            return None
        sig = numba_type(ptr, idx)

        def codegen(context, builder, signature, args):
            base = _base_address(context, builder, signature.args[0], args[0],
                                 signature.args[1], args[1], span)  # fmt: skip
            if unaligned:
                p = builder.inttoptr(base, ir.IntType(8).as_pointer())
                p = builder.gep(p, [args[1]], inbounds=True)
                p = builder.bitcast(p, llvm_type.as_pointer())
                return builder.load(p, align=1)
            p = builder.inttoptr(base, llvm_type.as_pointer())
            return builder.load(builder.gep(p, [args[1]], inbounds=True))

        return sig, codegen

    load.__doc__ = what
    return load


# With an unchecked pointer the caller keeps every index in bounds: there is no
# wraparound and no check.
load_u8 = _loader(ir.IntType(8), types.uint8, False, "Byte ``idx`` of a pointer.")
load_word = _loader(
    ir.IntType(64),
    types.uint64,
    True,
    "Bytes ``idx .. idx + 7`` of a byte pointer as one little-endian uint64 (unaligned).",
)
load_u64 = _loader(ir.IntType(64), types.uint64, False, "Element ``idx`` of a uint64 pointer.")
load_i64 = _loader(ir.IntType(64), types.int64, False, "Element ``idx`` of an int64 pointer.")
load_f64 = _loader(ir.DoubleType(), types.float64, False, "Element ``idx`` of a float64 pointer.")


def _storer(llvm_type: ir.Type, numba_type: types.Type, what: str):
    @intrinsic
    def store(typingctx, ptr, idx, value):
        if not _pointer_type(ptr) or not isinstance(idx, types.Integer):
            return None
        sig = types.none(ptr, idx, value)

        def codegen(context, builder, signature, args):
            base = _base_address(context, builder, signature.args[0], args[0],
                                 signature.args[1], args[1], 1)  # fmt: skip
            v = context.cast(builder, args[2], signature.args[2], numba_type)
            p = builder.inttoptr(base, llvm_type.as_pointer())
            builder.store(v, builder.gep(p, [args[1]], inbounds=True))
            return context.get_dummy_value()

        return sig, codegen

    store.__doc__ = what
    return store


store_u8 = _storer(ir.IntType(8), types.uint8, "Write element ``idx`` of a uint8 pointer.")
store_i64 = _storer(ir.IntType(64), types.int64, "Write element ``idx`` of an int64 pointer.")
store_f64 = _storer(ir.DoubleType(), types.float64, "Write element ``idx`` of a float64 pointer.")


@jit(inline="always")
def table_pointers(tables, like):
    """Pointers to :func:`~prcore._kernels.scan_constants.power_tables`' arrays, of
    the kind of ``like`` (:func:`pointer_like`)."""
    return (
        pointer_like(tables[0], like),
        pointer_like(tables[1], like),
        pointer_like(tables[2], like),
        pointer_like(tables[3], like),
        pointer_like(tables[4], like),
        pointer_like(tables[5], like),
    )


@intrinsic
def _f64_from_bits(typingctx, bits):
    """Reinterpret uint64 bits as a float64 (a register move)."""
    sig = types.float64(bits)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


# ---------------------------------------------------------------- structure


@jit(inline="always")
def skip_ws(src, pos, n):
    """Position of the first byte at or after pos that is not JSON whitespace."""
    while pos < n:
        c = load_u8(src, pos)
        if c == 32 or c == 10 or c == 13 or c == 9:
            pos += 1
        else:
            break
    return pos


@jit
def document_start(src, n):
    """Position of the first token: past a UTF-8 byte-order mark (``json.loads(bytes)``
    decodes with utf-8-sig) and whitespace."""
    pos = 0
    if n >= 3 and load_u8(src, 0) == 0xEF and load_u8(src, 1) == 0xBB and load_u8(src, 2) == 0xBF:
        pos = 3
    return skip_ws(src, pos, n)


@jit
def _is_hex(c):
    return (48 <= c <= 57) or (65 <= c <= 70) or (97 <= c <= 102)


@jit
def _skip_utf8(src, pos, n):
    """Position after one valid UTF-8 sequence whose lead byte is at pos, or -1.

    Accepts exactly what CPython's strict UTF-8 decoder accepts (no overlong
    forms, no encoded surrogates, nothing above U+10FFFF).
    """
    c = load_u8(src, pos)
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
    c1 = load_u8(src, pos + 1)
    if c1 < lo or c1 > hi:
        return -1
    for j in range(2, k + 1):
        cj = load_u8(src, pos + j)
        if cj < 0x80 or cj > 0xBF:
            return -1
    return pos + k + 1


@jit(inline="always")
def _special_bytes(w):
    """The high bit of each of a word's 8 bytes that may end a string or need a check
    one by one (a quote, a backslash, a control character, a byte above 127), exact
    up to the first such byte; 0 when there is none.

    SWAR: ``(x - 0x01..) & ~x & 0x80..`` flags the bytes of ``x`` that are zero,
    ``(x - 0x20..) & ~x & 0x80..`` those below 0x20; a borrow may flag bytes after
    the first such byte, never one before it.
    """
    q = w ^ _BYTES_QUOTE
    b = w ^ _BYTES_BACKSLASH
    special = ((q - _BYTES_01) & ~q) | ((b - _BYTES_01) & ~b) | ((w - _BYTES_SPACE) & ~w) | w
    return special & _BYTES_80


@jit
def skip_string(src, pos, n):
    """Position after a string whose opening quote is at pos - 1, or -1.

    Also reports whether it held an escape: (end, escaped). Plain characters
    are skipped a word (8 bytes) at a time, up to the next byte to look at.
    """
    escaped = False
    while pos < n:
        if pos + 8 <= n:
            special = _special_bytes(load_word(src, pos))
            if special == 0:
                pos += 8
                continue
            pos += np.int64(trailing_zeros(special)) >> 3
        c = load_u8(src, pos)
        if c == 34:  # "
            return pos + 1, escaped
        if c == 92:  # backslash
            escaped = True
            if pos + 1 >= n:
                return -1, escaped
            e = load_u8(src, pos + 1)
            if e == 117:  # \uXXXX: CPython requires four hex digits
                if pos + 5 >= n:
                    return -1, escaped
                for j in range(2, 6):
                    if not _is_hex(load_u8(src, pos + j)):
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
    if pos < n and load_u8(src, pos) == 45:
        pos += 1
    if pos >= n:
        return -1
    c = load_u8(src, pos)
    if c == 48:
        pos += 1
    elif 49 <= c <= 57:
        while pos < n and 48 <= load_u8(src, pos) <= 57:
            pos += 1
    else:
        return -1
    if pos < n and load_u8(src, pos) == 46:
        pos += 1
        if pos >= n or not (48 <= load_u8(src, pos) <= 57):
            return -1
        while pos < n and 48 <= load_u8(src, pos) <= 57:
            pos += 1
    if pos < n and (load_u8(src, pos) == 101 or load_u8(src, pos) == 69):
        pos += 1
        if pos < n and (load_u8(src, pos) == 43 or load_u8(src, pos) == 45):
            pos += 1
        if pos >= n or not (48 <= load_u8(src, pos) <= 57):
            return -1
        while pos < n and 48 <= load_u8(src, pos) <= 57:
            pos += 1
    if pos - start > _MAX_NUMBER_LEN:
        return -1
    return pos


@jit
def match_word(src, pos, n, word):
    """Position after the bytes ``word`` (a tuple of byte values) at pos, or -1."""
    if pos + len(word) > n:
        return -1
    for j in range(len(word)):
        if load_u8(src, pos + j) != word[j]:
            return -1
    return pos + len(word)


@jit
def literal(src, pos, n, allow_null):
    """``true``, ``false`` or (if allowed) ``null`` at pos -> (end, 1 / 0 / -1); end -1 if none."""
    c = load_u8(src, pos)
    if c == 116:
        return match_word(src, pos, n, _WORD_TRUE), 1
    if c == 102:
        return match_word(src, pos, n, _WORD_FALSE), 0
    if c == 110 and allow_null:
        return match_word(src, pos, n, _WORD_NULL), -1
    return -1, 0


@jit(inline="always")
def _member_key(src, pos, n):
    """After ``{`` or ``,`` inside an object: the position of the member's value, or -1."""
    if pos >= n or load_u8(src, pos) != 34:
        return -1
    pos, _ = skip_string(src, pos + 1, n)
    if pos < 0:
        return -1
    pos = skip_ws(src, pos, n)
    if pos >= n or load_u8(src, pos) != 58:
        return -1
    return skip_ws(src, pos + 1, n)


@jit
def skip_value(src, pos, n, stack):
    """Position after any JSON value starting at pos (no whitespace), or -1.

    Validates the grammar fully (an extra key's value must be valid for
    json.loads to succeed) but converts nothing. NaN and Infinity, which
    json.loads would accept, are declined. ``stack`` points at
    ``MAX_DEPTH`` bytes of scratch (``scan_constants.new_stack``); deeper
    nesting is declined.
    """
    depth = 0
    while True:
        # Expect a value at pos.
        if pos >= n:
            return -1
        c = load_u8(src, pos)
        if c == 34:
            pos, _ = skip_string(src, pos + 1, n)
        elif c == 123 or c == 91:  # { or [
            pos = skip_ws(src, pos + 1, n)
            if pos >= n:
                return -1
            close = 125 if c == 123 else 93
            if load_u8(src, pos) == close:
                pos += 1
            else:
                if depth >= MAX_DEPTH:
                    return -1
                store_u8(stack, depth, c)
                depth += 1
                if c == 123:
                    pos = _member_key(src, pos, n)
                    if pos < 0:
                        return -1
                continue
        elif c == 45 or 48 <= c <= 57:
            pos = _skip_number(src, pos, n)
        else:
            pos, _ = literal(src, pos, n, True)
        if pos < 0:
            return -1
        # A value ended; close containers or move to the next element.
        while True:
            if depth == 0:
                return pos
            pos = skip_ws(src, pos, n)
            if pos >= n:
                return -1
            c = load_u8(src, pos)
            top = load_u8(stack, depth - 1)
            if c == 44:  # ,
                pos = skip_ws(src, pos + 1, n)
                if top == 123:
                    pos = _member_key(src, pos, n)
                    if pos < 0:
                        return -1
                break
            if (top == 123 and c == 125) or (top == 91 and c == 93):
                pos += 1
                depth -= 1
            else:
                return -1


@jit(inline="always")
def after_value(src, pos, n, close):
    """After a value inside a container: (position, 1 more / 0 closed / -1 bad).

    ``close`` is the container's closing byte; after a comma, the position is
    that of the next element (whitespace skipped).
    """
    pos = skip_ws(src, pos, n)
    if pos >= n:
        return pos, -1
    c = load_u8(src, pos)
    if c == 44:
        return skip_ws(src, pos + 1, n), 1
    if c == close:
        return pos + 1, 0
    return pos, -1


# ---------------------------------------------------------------- keys


@jit(inline="always")
def key_words(src, ks, klen, n):
    """The key src[ks:ks+klen] as two zero-padded little-endian words.

    Keys never hold a raw NUL byte (control characters must be escaped, and
    escaped keys are compared as :data:`NO_KEY`), so the padding makes the
    length part of the comparison. Keys longer than 16 bytes are none of the
    scanners'; they are ``(NO_KEY, NO_KEY)``.
    """
    if klen > 16:
        return NO_KEY, NO_KEY
    lo = _U0
    hi = _U0
    if ks + 16 <= n:
        lo = load_word(src, ks)
        hi = load_word(src, ks + 8)
        if klen < 8:
            lo &= (_U1 << np.uint64(8 * klen)) - _U1
            hi = _U0
        elif klen < 16:
            hi &= (_U1 << np.uint64(8 * (klen - 8))) - _U1
    else:
        for j in range(klen):
            b = np.uint64(load_u8(src, ks + j))
            if j < 8:
                lo |= b << np.uint64(8 * j)
            else:
                hi |= b << np.uint64(8 * (j - 8))
    return lo, hi


@jit
def _is_foreign_key(src, ks, ke):
    """Whether the escaped key src[ks:ke] surely is none of the scanners'.

    Theirs are spelled with ``a-z`` and ``_`` only, so a key holding a raw
    non-ASCII byte or an escape of anything else cannot be one; a key whose
    every escape is ``\\u`` of such a letter might be (json.loads decodes
    ``"\\u0069d"`` to ``"id"``).
    """
    pos = ks
    while pos < ke:
        c = load_u8(src, pos)
        if c >= 128:
            return True
        if c != 92:
            pos += 1
            continue
        if load_u8(src, pos + 1) != 117:  # \" \\ \/ \b \f \n \r \t
            return True
        v = 0
        for j in range(2, 6):  # skip_string checked the four hex digits
            h = load_u8(src, pos + j)
            v = v * 16 + (h - 48 if h <= 57 else (h | 32) - 87)
        if not (97 <= v <= 122 or v == 95):
            return True
        pos += 6
    return False


@jit(inline="always")
def read_key(src, ks, n):
    """The key whose first byte is at ks -> (end after its quote, lo, hi, ok).

    ``lo, hi`` are :func:`key_words`' words (``NO_KEY`` for a key written with
    escapes that surely is none of the scanners'); ``ok`` is False for a
    malformed key and for an escaped key that might spell one of theirs.
    """
    end, escaped = skip_string(src, ks, n)
    if end < 0:
        return end, _U0, _U0, False
    if escaped:
        if not _is_foreign_key(src, ks, end - 1):
            return end, _U0, _U0, False
        return end, NO_KEY, NO_KEY, True
    lo, hi = key_words(src, ks, end - 1 - ks, n)
    return end, lo, hi, True


@jit(inline="always")
def colon(src, pos, n):
    """After a key's closing quote: the position of its value, or -1."""
    pos = skip_ws(src, pos, n)
    if pos >= n or load_u8(src, pos) != 58:
        return -1
    pos = skip_ws(src, pos + 1, n)
    if pos >= n:
        return -1
    return pos


@jit
def object_key(src, pos, n):
    """Read ``"key" :`` at pos -> (position of the value, lo, hi, ok); see :func:`read_key`."""
    if pos >= n or load_u8(src, pos) != 34:
        return pos, _U0, _U0, False
    end, lo, hi, ok = read_key(src, pos + 1, n)
    if not ok:
        return pos, _U0, _U0, False
    pos = colon(src, end, n)
    if pos < 0:
        return pos, _U0, _U0, False
    return pos, lo, hi, True


# ---------------------------------------------------------------- numbers


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
    Requires ``w != 0`` and ``POW10_MIN <= q <= POW10_MAX``; ``t`` holds
    pointers to :func:`~prcore._kernels.scan_constants.power_tables`' arrays.
    """
    idx = q - POW10_MIN
    clz = leading_zeros(w)
    m = w << np.uint64(clz)
    exp_base = load_i64(t[2], idx) + (64 + 1023 - 1) - np.int64(clz)
    t_hi = load_u64(t[0], idx)
    t_lo = load_u64(t[1], idx)
    exact = load_u8(t[3], idx) != 0

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
        v = load_word(src, pos)
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
            w = w * load_u64(pow10_int, j) + _eight_digits(d)
        return pos + j, w, k + j
    while pos < n:
        c = load_u8(src, pos)
        if c < 48 or c > 57:
            break
        w = w * _U10 + np.uint64(c - 48)
        pos += 1
        k += 1
    return pos, w, k


@jit(inline="always")
def parse_int(src, pos, n, pow10_int):
    """An integer id token -> (end, ok, value); json.loads would give an int.

    Declines tokens json.loads reads as floats (``1.0``, ``1e3``) and values
    outside int64.
    """
    neg = False
    if pos < n and load_u8(src, pos) == 45:
        neg = True
        pos += 1
    if pos >= n:
        return pos, False, 0
    c = load_u8(src, pos)
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
        c = load_u8(src, pos)
        if c == 46 or c == 101 or c == 69:
            return pos, False, 0
    limit = _SIGN if neg else _SIGN - _U1
    if mag > limit:
        return pos, False, 0
    if neg and mag != _U0:
        return pos, True, -np.int64(mag - _U1) - 1
    return pos, True, np.int64(mag)


@jit
def read_int(src, pos, n, pow10_int):
    """:func:`parse_int` as a call: one copy of its code for a scanner that reads
    ids in many places."""
    return parse_int(src, pos, n, pow10_int)


@jit
def _to_double(w, q, neg, t):
    """Correctly rounded ``(-1)**neg * w * 10**q`` -> (decided, value).

    ``w`` is exact (at most 19 digits) and nonzero.
    """
    if w <= _TWO53 and -22 <= q <= 22:
        # Clinger: one IEEE operation on two exactly held values.
        f = np.float64(w)
        if q >= 0:
            f = f * load_f64(t[4], q)
        else:
            f = f / load_f64(t[4], -q)
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
    if pos < n and load_u8(src, pos) == 45:
        neg = True
        pos += 1
    if pos >= n:
        return pos, 1, 0.0
    w = _U0
    nd = 0  # significant digits seen
    q = 0
    is_int = True
    c = load_u8(src, pos)
    if c == 48:
        pos += 1
    elif 49 <= c <= 57:
        while pos < n:
            c = load_u8(src, pos)
            if c < 48 or c > 57:
                break
            w = w * _U10 + np.uint64(c - 48)
            nd += 1
            pos += 1
    else:
        return pos, 1, 0.0
    if pos < n and load_u8(src, pos) == 46:
        is_int = False
        pos += 1
        frac_start = pos
        while pos < n:
            c = load_u8(src, pos)
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
    if pos < n and (load_u8(src, pos) == 101 or load_u8(src, pos) == 69):
        is_int = False
        pos += 1
        eneg = False
        if pos < n and (load_u8(src, pos) == 43 or load_u8(src, pos) == 45):
            eneg = load_u8(src, pos) == 45
            pos += 1
        exp_start = pos
        ev = 0
        while pos < n:
            c = load_u8(src, pos)
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
def parse_number(src, pos, n, t):
    """A number token -> (end, status, value) with status 0 ok, 1 bad, 2 undecided.

    Reads the common forms (``-12``, ``0.25``, ``207.22605895996094``) 8
    digits at a time and hands anything else (an exponent, more than 19
    digits) to the byte-at-a-time reader. ``value`` equals ``float(token)``
    for a float token and ``float(int(token))`` for an integer token (so
    ``-0`` is ``+0.0``, as json.loads + numpy give).
    """
    pow10_int = t[5]
    start = pos
    neg = False
    if pos < n and load_u8(src, pos) == 45:
        neg = True
        pos += 1
    if pos >= n:
        return pos, 1, 0.0
    c = load_u8(src, pos)
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
    if pos < n and load_u8(src, pos) == 46:
        is_int = False
        pos, w, k = _digit_run(src, pos + 1, n, w, pow10_int)
        if k == 0:
            return pos, 1, 0.0
        digits += k
        q = -k
    if digits > 19 or (pos < n and (load_u8(src, pos) == 101 or load_u8(src, pos) == 69)):
        return _parse_number_bytes(src, start, n, t)
    if w == _U0:  # exact: at most 19 digits
        if neg and not is_int:
            return pos, 0, -0.0
        return pos, 0, 0.0
    ok, f = _to_double(w, q, neg, t)
    return pos, 0 if ok else 2, f


@jit(inline="always")
def undecided_pointers(fb_slot, fb_start, fb_end, like):
    """The undecided-number arrays as pointers of the kind of ``like``
    (:func:`pointer_like`) and their common length: ``((slot, start, end),
    capacity)``; capacity -1 when their lengths differ."""
    cap = fb_slot.shape[0]
    if fb_start.shape[0] != cap or fb_end.shape[0] != cap:
        cap = -1
    fb = (pointer_like(fb_slot, like), pointer_like(fb_start, like), pointer_like(fb_end, like))
    return fb, cap


@jit(inline="always")
def read_number(src, pos, n, t, slot, fb, fb_cap, n_fb):
    """A number at pos -> (end, value, n_fb), noting it if undecided.

    An undecided number's ``slot`` and byte span go to element ``n_fb`` of the
    undecided-number pointers ``fb`` (:func:`undecided_pointers`), and ``n_fb``
    grows by one; its value is settled in Python. ``end`` is
    :data:`NOT_A_NUMBER` or :data:`UNDECIDED_FULL` instead of a position when
    there is no number at pos or no room to note it.
    """
    start = pos
    pos, status, value = parse_number(src, pos, n, t)
    if status == 1:
        return NOT_A_NUMBER, value, n_fb
    if status == 2:
        if n_fb >= fb_cap:
            return UNDECIDED_FULL, value, n_fb
        store_i64(fb[0], n_fb, slot)
        store_i64(fb[1], n_fb, start)
        store_i64(fb[2], n_fb, pos)
        n_fb += 1
    return pos, value, n_fb


@jit(inline="always")
def read_box(src, pos, n, t, boxes, row, fb, fb_cap, n_fb):
    """An array of exactly four numbers at pos into row ``row`` of the (N, 4) float64
    pointer ``boxes`` -> (end, n_fb).

    Undecided numbers are noted under slot ``4 * row + k`` (the boxes' flat
    index); ``end`` is negative as for :func:`read_number`,
    :data:`NOT_A_NUMBER` also for anything but four numbers.
    """
    if load_u8(src, pos) != 91:
        return NOT_A_NUMBER, n_fb
    for k in range(4):
        pos = skip_ws(src, pos + 1, n)
        pos, value, n_fb = read_number(src, pos, n, t, 4 * row + k, fb, fb_cap, n_fb)
        if pos < 0:
            return pos, n_fb
        store_f64(boxes, 4 * row + k, value)
        pos = skip_ws(src, pos, n)
        if pos >= n or load_u8(src, pos) != (93 if k == 3 else 44):
            return NOT_A_NUMBER, n_fb
    return pos + 1, n_fb


@jit(inline="always")
def read_numbers(src, pos, n, t, values, kcap, k, slot_base, fb, fb_cap, n_fb):
    """An array of numbers at pos, stored from element ``k`` of the float64 pointer
    ``values`` (``kcap`` long) -> (end, k after it, n_fb).

    Undecided numbers are noted under slot ``slot_base + k``; ``end`` is
    negative as for :func:`read_number`,
    :data:`NOT_A_NUMBER` also for anything but an array of numbers or when
    ``values`` is full.
    """
    if load_u8(src, pos) != 91:
        return NOT_A_NUMBER, k, n_fb
    pos = skip_ws(src, pos + 1, n)
    if pos < n and load_u8(src, pos) == 93:
        return pos + 1, k, n_fb
    while True:
        if k >= kcap:
            return NOT_A_NUMBER, k, n_fb
        pos, value, n_fb = read_number(src, pos, n, t, slot_base + k, fb, fb_cap, n_fb)
        if pos < 0:
            return pos, k, n_fb
        store_f64(values, k, value)
        k += 1
        pos = skip_ws(src, pos, n)
        if pos >= n:
            return NOT_A_NUMBER, k, n_fb
        c = load_u8(src, pos)
        if c == 93:
            return pos + 1, k, n_fb
        if c != 44:
            return NOT_A_NUMBER, k, n_fb
        pos = skip_ws(src, pos + 1, n)
