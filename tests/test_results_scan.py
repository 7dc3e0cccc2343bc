"""The results-file scanner against json.loads + numpy, bit for bit.

Every accepted document must give exactly the columns that ``json.loads``
followed by ``np.asarray(..., np.float64)`` gives; every document it is not
sure about must give None. The scanner reads syntax only: values that break
the schema's rules (a negative width, an infinite score) come back as
written, and the loader refuses them (tests/test_inputs.py).

Every document is also scanned where its last byte is the last readable one
(the next page is unmapped), so that a read past the end is a crash here; with
``PRCORE_SCAN_CHECKED=1`` (see ``test_suites_pass_with_every_raw_load_checked``)
such a read raises instead.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_coco_scan import at_a_guard_page, page_multiple_file

from prcore._kernels import json_tokens
from prcore._kernels.scan_constants import OK, PAUSED, checked_mode, tables
from prcore.io.results_scan import ResultColumns, _record_boundary, _scan_span, scan_results

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
TESTS = Path(__file__).parent


def _no_constants(name: str):
    raise ValueError(f"{name}: json.loads reads it, the scanner declines it")


def _double(v) -> float:
    """A JSON number as numpy's float64 gives it, and float() for an int beyond a double."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def reference(data: bytes) -> tuple[np.ndarray, ...] | None:
    """The columns json.loads gives, or None where the scanner must decline."""
    try:
        records = json.loads(data, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None

    def is_int(v):
        return type(v) is int and INT64_MIN <= v <= INT64_MAX

    def is_num(v):
        return type(v) in (int, float)

    for r in records:
        if not (is_int(r.get("image_id")) and is_int(r.get("category_id"))):
            return None
        box, score = r.get("bbox"), r.get("score")
        if not (isinstance(box, list) and len(box) == 4 and all(map(is_num, box))):
            return None
        if not is_num(score):
            return None
    n = len(records)
    return (
        np.asarray([r["image_id"] for r in records], np.int64).reshape(n),
        np.asarray([r["category_id"] for r in records], np.int64).reshape(n),
        np.asarray([[_double(v) for v in r["bbox"]] for r in records], np.float64).reshape(n, 4),
        np.asarray([_double(r["score"]) for r in records], np.float64).reshape(n),
    )


def assert_same(got: ResultColumns | None, want: tuple[np.ndarray, ...]) -> None:
    assert got is not None
    for g, w in zip((got.image_id, got.category_id, got.bbox, got.score), want):
        assert g.dtype == w.dtype and g.shape == w.shape
        # Compare bits: -0.0 vs 0.0 and every last ulp count.
        assert np.array_equal(g.view(np.uint8), w.view(np.uint8)), (g, w)


def check_equivalent(data: bytes) -> None:
    want = reference(data)
    assert want is not None, "test generated an invalid document"
    assert_same(scan_both(data), want)


def scores_file(tokens: list[str]) -> bytes:
    body = ",".join(
        f'{{"image_id":1,"category_id":2,"bbox":[{t},{t},0,0],"score":{t}}}' for t in tokens
    )
    return f"[{body}]".encode()


# ---------------------------------------------------------------------------
# Hand-written cases


def test_one_record_values():
    data = b'[{"image_id": 42, "category_id": 3, "bbox": [1.5, 2, 30.25, 4e1], "score": 0.5}]'
    cols = scan_results(data)
    assert cols is not None and len(cols) == 1
    assert cols.image_id.tolist() == [42] and cols.category_id.tolist() == [3]
    assert cols.bbox.tolist() == [[1.5, 2.0, 30.25, 40.0]] and cols.score.tolist() == [0.5]
    assert cols.bbox.flags.c_contiguous and cols.bbox.shape == (1, 4)


@pytest.mark.parametrize("doc", [b"[]", b" \n[ \t]\r\n", b"\xef\xbb\xbf[]"])
def test_empty(doc):
    cols = scan_results(doc)
    assert cols is not None and len(cols) == 0
    assert cols.bbox.shape == (0, 4) and cols.image_id.dtype == np.int64


def test_negative_zero_follows_json_types():
    # "-0" is the int 0 (numpy gives +0.0); "-0.0" and "-0e0" are the float -0.0.
    data = b'[{"image_id":-0,"category_id":0,"bbox":[-0,-0.0,-0e0,0],"score":-0.0}]'
    check_equivalent(data)
    cols = scan_results(data)
    assert [math.copysign(1, v) for v in cols.bbox[0]] == [1, -1, -1, 1]


def test_formatting_bom_key_order_and_extra_keys():
    data = (
        '\ufeff [\n {"score"\t:\r1E+2 ,"segmentation": {"size": [4, 5], "counts": "a\\"b\\\\\\u00e9"},'
        ' "keypoints": [1, 2.5e-3, true, false, null, [], {}, [[{"x": "é☃𝄞"}]]],'
        ' "bbox":[ 1e-5 , 0.05123456783592701,12345678901234567890, 3.0E0 ],'
        ' "category_id": 9223372036854775807, "area": -1.5, "\\u0041": "escaped extra key",'
        ' "image_id": -9223372036854775808 } ,{"image_id":1,"category_id":1,"bbox":[0,0,0,0],'
        '"score":1} ]\n'
    ).encode()
    check_equivalent(data)  # "\u0041" is "A", surely none of the scanner's keys
    check_equivalent(data.replace(b'"\\u0041"', b'"A"'))
    # An escaped key that might spell one of its keys makes it unsure.
    assert scan_results(data.replace(b'"\\u0041"', b'"im\\u0061ge_id"')) is None


def test_hard_numbers():
    tokens = [
        "9007199254740993",  # 2**53 + 1: a tie, rounds to even
        "9007199254740995",
        "9007199254740993.0",
        "9007199254740993.000000000000000001",  # just above the tie
        "2.2250738585072011e-308",  # near the smallest normal
        "2.2250738585072014e-308",
        "4.9e-324",  # subnormal: falls back to Python
        "1e-400",
        "1.7976931348623157e308",
        "0.1",
        "0.2",
        "0.3",
        "1e23",
        "8.98846567431158e307",
        "1448997445238699",
        "1234567890123456789",
        "12345678901234567890123",
        "0.000000000000000000000000000000123456789012345678901234567890",
        "7.3177701707893310e+15",
        "100000000000000016777215",
        "100000000000000016777216",
        "1" + "0" * 308,
        "0e999999999999",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "5.0000000000000000000000000000000000000000000000001e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "3.0517578125e-05",
        "1E22",
        "1E-22",
        "123456789012345e-22",
        "9007199254740992e22",
    ]
    check_equivalent(scores_file(tokens))


def test_many_random_decimals():
    rng = random.Random(20240611)
    tokens = []
    for _ in range(20000):
        kind = rng.randrange(5)
        if kind == 0:  # float32 values written as doubles, as detectron2 does
            tokens.append(repr(struct.unpack("f", struct.pack("f", rng.uniform(0, 2000)))[0]))
        elif kind == 1:  # any finite double
            v = struct.unpack("d", struct.pack("Q", rng.getrandbits(63)))[0]
            tokens.append(repr(v) if math.isfinite(v) else "1")
        elif kind == 2:  # 16-19 significant digits at any scale
            digits = str(rng.randrange(10**15, 10**19))
            tokens.append(f"{digits[0]}.{digits[1:]}e{rng.randint(-320, 300)}")
        elif kind == 3:  # ties and near-ties of doubles
            v = rng.uniform(0, 1e6)
            lo, hi = v, math.nextafter(v, math.inf)
            mid = (lo + hi) / 2 if (lo + hi) / 2 not in (lo, hi) else lo
            tokens.append(f"{(lo + hi) / 2:.40e}" if rng.random() < 0.5 else f"{mid!r}")
        else:
            tokens.append(f"{rng.uniform(0, 1e4):.{rng.randint(0, 25)}f}")
    check_equivalent(scores_file(tokens))


@numba.njit
def _convert(ws, qs, power_tables, out, decided):
    # Checked pointers: a table index out of range raises.
    t = json_tokens.table_pointers(power_tables, json_tokens.bounded(out))
    for i in range(ws.shape[0]):
        decided[i], out[i] = json_tokens._to_double(ws[i], qs[i], False, t)


def convert(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Clinger / Eisel-Lemire on (w, q) pairs: (values, decided)."""
    ws = np.array([w for w, _ in pairs], np.uint64)
    qs = np.array([q for _, q in pairs], np.int64)
    out = np.empty(len(pairs))
    decided = np.empty(len(pairs), np.bool_)
    _convert(ws, qs, tables(), out, decided)
    return out, decided


def check_conversions(pairs: list[tuple[int, int]]) -> np.ndarray:
    out, decided = convert(pairs)
    want = np.array([float(f"{w}e{q}") for w, q in pairs])
    assert np.array_equal(out[decided].view(np.uint64), want[decided].view(np.uint64))
    return decided


def test_eisel_lemire_decides_float32_values():
    # detectron2 writes float32 values as doubles: 17 digits, w > 2**53, and the
    # decimal is (nearly) exact, which a naive error test cannot decide.
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.uniform(0, 1000, 20000), rng.uniform(0, 1, 20000)])
    pairs = []
    for v in values.astype(np.float32).astype(np.float64).tolist():
        mantissa, exp = f"{v:.16e}".split("e")
        pairs.append((int(mantissa.replace(".", "")), int(exp) - 16))
    assert check_conversions(pairs).all()


def test_eisel_lemire_near_ties():
    # Decimals just below, at and above the midpoint of two adjacent doubles,
    # cut to 19 digits: the hardest inputs. Every decided one must be right;
    # the undecided ones go to Python's float().
    rng = random.Random(7)
    pairs = []
    for _ in range(3000):
        x = rng.uniform(1e-5, 1e5) * 10.0 ** rng.randint(-280, 280)
        mid = (Fraction(x) + Fraction(math.nextafter(x, math.inf))) / 2
        e = math.floor(math.log10(x)) - 18
        scaled = math.floor(mid / Fraction(10) ** e)
        while scaled >= 10**19:
            scaled //= 10
            e += 1
        pairs += [(scaled - 1, e), (scaled, e), (scaled + 1, e)]
    assert all(10**17 < w < 2**64 for w, _ in pairs)
    decided = check_conversions(pairs)
    assert decided.mean() > 0.5


def test_eisel_lemire_exact_ties_and_powers():
    pairs = [
        (2**53 + 1, 0),
        (2**53 + 3, 0),
        (2**63 + 2**10, 0),
        (2**64 - 1, 0),
        (9007199254740993, 0),
        (1, 23),
        (1, 300),
        (1, -300),
        (17976931348623157, 292),
        (22250738585072014, -324),
        (1, 55),
        (3, 55),
        (7, 56),
    ]
    pairs += [
        (w, q)
        for w in (1, 5, 99999999999999999, 12345678901234567890 // 10)
        for q in range(-40, 41)
    ]
    decided = check_conversions(pairs)
    # Values held exactly by the 128-bit powers need no interval: ties included.
    assert decided[:5].all()


REJECT = [
    b"",
    b"   ",
    b"{}",
    b"[1]",
    b"[[]]",
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0]}]',  # missing score
    b'[{"image_id":1,"category_id":1,"score":1}]',
    b'[{"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b"[{}]",
    b'[{"image_id":1,"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}]',  # duplicate
    b'[{"image_id":"1","category_id":1,"bbox":[0,0,0,0],"score":1}]',  # string id
    b'[{"image_id":1.0,"category_id":1,"bbox":[0,0,0,0],"score":1}]',  # float id
    b'[{"image_id":1e3,"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b'[{"image_id":true,"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b'[{"image_id":null,"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b'[{"image_id":9223372036854775808,"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b'[{"image_id":-9223372036854775809,"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b'[{"image_id":12345678901234567890123,"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b'[{"image_id":01,"category_id":1,"bbox":[0,0,0,0],"score":1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0],"score":1}]',  # 3 numbers
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0,0],"score":1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,"0",0],"score":1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,null,0],"score":1}]',
    b'[{"image_id":1,"category_id":1,"bbox":{"x":0},"score":1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":"0.5"}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":true}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":NaN}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":Infinity}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":-Infinity}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":NaN}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":' + b"1" * 5000 + b"}]",
    b'[{"\\u0069mage_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}]',  # escaped key
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":.5}]',  # malformed numbers
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1.}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1e}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":+1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":-}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":0x1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,}]',  # trailing commas
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1},]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0,],"score":1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}',  # truncated
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}]]',  # trailing garbage
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}] x',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}]\x00',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1} {"image_id":1}]',
    b"\xef\xbb\xbf\xef\xbb\xbf[]",  # two BOMs
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":"a\x01"}]',  # control char
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":"\\x"}]',  # bad escape
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":"\\u12g4"}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":"\xff"}]',  # bad UTF-8
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":"\xc0\xaf"}]',  # overlong
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":"\xed\xa0\x80"}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":[1 2]}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":{"a" 1}}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":{1:2}}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":tru}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":[}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1,"x":'
    + b"[" * 300
    + b"]" * 300
    + b"}]",  # deeper than the scanner follows
    '[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}]'.encode("utf-16"),
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1}\x0c]',  # form feed
]


@pytest.mark.parametrize("doc", REJECT, ids=range(len(REJECT)))
def test_rejects(doc):
    assert scan_both(doc) is None


AS_WRITTEN = [
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,-1,0],"score":1}]',  # negative width
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,-1e-300],"score":1}]',
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,-4.9e-324],"score":1}]',  # via fallback
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,0],"score":1e400}]',  # inf
    b'[{"image_id":1,"category_id":1,"bbox":[0,0,0,-1' + b"0" * 400 + b'],"score":1}]',
]


@pytest.mark.parametrize("doc", AS_WRITTEN, ids=range(len(AS_WRITTEN)))
def test_values_that_break_the_schema_come_back_as_written(doc):
    """Syntax only: the loader applies the schema's rules to the columns."""
    check_equivalent(doc)


def test_accepts_near_limits():
    # The rejection cases above are not just rejected wholesale.
    check_equivalent(
        b'[{"image_id":9223372036854775807,"category_id":-9223372036854775808,'
        b'"bbox":[-1e308,0,0.0,4.9e-324],"score":-1.7976931348623157e308,"x":'
        + b"[" * 200
        + b"]" * 200
        + b',"y":"\xc3\xa9\xe2\x98\x83\xf0\x9d\x84\x9e\\u00e9\\ud800"}]'
    )


def test_input_types_and_independent_arrays():
    data = b'[{"image_id":1,"category_id":2,"bbox":[1,2,3,4],"score":0.5}]'
    strided = memoryview(bytes(b for c in data for b in (c, 0)))[::2]
    for doc in (data, bytearray(data), memoryview(data), strided):
        assert_same(scan_results(doc), reference(data))


# ---------------------------------------------------------------------------
# Property tests: random documents, random formatting

WS = st.text(alphabet=" \t\n\r", max_size=3)

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def number_token(draw, non_negative: bool = False) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        v = draw(st.floats(allow_nan=False, allow_infinity=False))
        text = repr(v)
    elif kind == 1:  # float32 values, as detectron2 writes them
        text = repr(draw(st.floats(width=32, allow_nan=False, allow_infinity=False)))
    elif kind == 2:  # 17 significant digits, any exponent form
        digits = str(draw(st.integers(10**16, 10**17 - 1)))
        exp = draw(st.integers(-40, 40))
        mark = draw(st.sampled_from(["e", "E", "e+", "E-", "e-"]))
        exp_text = f"{mark}{abs(exp)}" if mark in ("e+", "E-", "e-") else f"{mark}{exp}"
        point = draw(st.integers(1, 17))
        text = f"{digits[:point]}.{digits[point:]}" if point < 17 else digits
        text += exp_text
    elif kind == 3:
        text = str(draw(st.integers(-(10**25), 10**25)))
    elif kind == 4:
        v = draw(st.floats(-1e6, 1e6))
        text = f"{v:.{draw(st.integers(0, 30))}e}"
    else:
        v = draw(st.floats(-1e6, 1e6))
        text = f"{v:.{draw(st.integers(0, 25))}f}"
    if non_negative:
        text = text.lstrip("-")
    return text


@st.composite
def record_text(draw) -> str:
    def ws() -> str:
        return draw(WS)

    def int_text() -> str:
        return str(draw(st.integers(INT64_MIN, INT64_MAX)))

    box = [
        draw(number_token()),
        draw(number_token()),
        draw(number_token(non_negative=True)),
        draw(number_token(non_negative=True)),
    ]
    members = {
        "image_id": int_text(),
        "category_id": int_text(),
        "bbox": "[" + ",".join(f"{ws()}{b}{ws()}" for b in box) + "]",
        "score": draw(number_token()),
    }
    extras = draw(
        st.dictionaries(
            st.text(max_size=8).filter(lambda k: k not in members), json_value, max_size=3
        )
    )
    ascii_only = draw(st.booleans())
    for key, value in extras.items():
        members[json.dumps(key, ensure_ascii=ascii_only)[1:-1]] = json.dumps(
            value, ensure_ascii=ascii_only
        )
    keys = draw(st.permutations(list(members)))
    return "{" + ws() + ",".join(f'{ws()}"{k}"{ws()}:{ws()}{members[k]}{ws()}' for k in keys) + "}"


@st.composite
def document(draw) -> bytes:
    records = draw(st.lists(record_text(), max_size=8))
    ws = draw(WS)
    text = draw(WS) + "[" + ws + ",".join(f"{ws}{r}{draw(WS)}" for r in records) + "]" + draw(WS)
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode()


def scan_both(data: bytes) -> ResultColumns | None:
    """One thread and two threads (split at a guessed record boundary) agree bit for
    bit, also with the document's last byte just before an unreadable page."""
    one = scan_results(data, split_min_bytes=1 << 62)
    with at_a_guard_page(data) as guarded:
        for source, split in ((data, 0), (guarded, 1 << 62), (guarded, 0)):
            other = scan_results(source, split_min_bytes=split)
            assert (one is None) == (other is None)
            if one is not None:
                assert_same(other, one.as_tuple())
    return one


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document())
def test_generated_documents_match_json(data):
    want = reference(data)
    assert want is not None
    # json.dumps escapes some extra keys (control characters, quotes, non-ASCII
    # when ensure_ascii); none spells a letter, so they surely are not the scanner's.
    assert_same(scan_both(data), want)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=50),
    st.integers(0, 3),
)
def test_json_dumps_documents(values, indent):
    records = [
        {"image_id": i, "category_id": 7, "bbox": [v, -v, abs(v), abs(v)], "score": v}
        for i, v in enumerate(values)
    ]
    data = json.dumps(records, indent=indent or None).encode()
    assert_same(scan_both(data), reference(data))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document(), st.data())
def test_mutated_documents_never_accept_wrongly(data, draw):
    """Random byte edits: whatever the scanner accepts, json.loads reads identically."""
    buf = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 4))):
        if not buf:
            break
        i = draw.draw(st.integers(0, len(buf) - 1))
        op = draw.draw(st.integers(0, 2))
        byte = draw.draw(st.sampled_from(b'[]{}",:-+.eE0159 \\tnfu\xc3\xff\x00'))
        if op == 0:
            buf[i] = byte
        elif op == 1:
            del buf[i]
        else:
            buf.insert(i, byte)
    got = scan_both(bytes(buf))
    if got is not None:
        want = reference(bytes(buf))
        assert want is not None
        assert_same(got, want)


def _records(n: int, start: int = 0, **extra) -> list[dict]:
    return [
        {"image_id": i, "category_id": 3, "bbox": [i / 7, 1.5, 2.25, i / 3], "score": 1 / (i + 2),
         **extra}
        for i in range(start, start + n)
    ]  # fmt: skip


def test_split_scan_pauses_at_the_guessed_boundary():
    data = json.dumps(_records(2000)).encode()
    buf = np.frombuffer(data, np.uint8)
    boundary = _record_boundary(buf, len(buf) // 2)
    assert boundary > 0 and data[boundary : boundary + 1] == b"{"
    head, tail = _scan_span(buf, 0, boundary), _scan_span(buf, boundary, -1)
    assert head.status == PAUSED and tail.status == OK
    assert head.count + tail.count == 2000
    assert_same(scan_both(data), reference(data))


@pytest.mark.parametrize(
    "middle",
    [
        # The middle of the file inside a string that looks like a record boundary...
        {"note": "x" * 5000 + "}, {" + "y" * 5000 + '}, {"image_id": 1}'},
        # ... or inside a nested array of objects.
        {"extra": [{"a": i} for i in range(3000)]},
    ],
    ids=["string", "nested"],
)
def test_split_guess_inside_a_value_scans_on(middle):
    records = _records(3) + [{**_records(1, 3)[0], **middle}] + _records(3, 4)
    data = json.dumps(records).encode()
    buf = np.frombuffer(data, np.uint8)
    boundary = _record_boundary(buf, len(buf) // 2)
    assert boundary > 0  # a guess was made, and it is wrong
    assert _scan_span(buf, 0, boundary).status == OK  # the head read everything itself
    assert_same(scan_both(data), reference(data))


def test_split_tail_errors_and_undecided_numbers():
    records = _records(1000)
    # Numbers the kernel hands back to float() (more digits than Eisel-Lemire decides).
    records[900]["score"] = 0.1
    hard = (
        json.dumps(records)
        .encode()
        .replace(
            b'"score": 0.1}', b'"score": 0.1000000000000000055511151231257827021181583404541015625}'
        )
    )
    assert_same(scan_both(hard), reference(hard))
    records[950]["score"] = "0.5"  # a string score in the second half
    bad = json.dumps(records).encode()
    assert scan_both(bad) is None


# ---------------------------------------------------------------------------
# Memory safety: documents cut anywhere, ending at a page boundary

WHOLE = (
    b'\xef\xbb\xbf[{"image_id": 123456789012, "category_id": -7, "bbox": [12345678.5, 0.25,'
    b' 1e-3, 207.22605895996094], "score": 0.1000000000000000055511151231257827021181583404541015625,'
    b' "a_key_longer_than_sixteen_bytes": [true, false, null, {"\\u00e9\\n": "\xc3\xa9\xe2\x98\x83"}],'
    b' "\\u0041": -0.0},\n {"score": 1E+2, "bbox": [0, 0, 4.9e-324, 123456789012345678901234],'
    b' "image_id": 0, "category_id": 9223372036854775807}]  '
)


def test_documents_cut_anywhere_end_where_memory_ends():
    """Every prefix of a document (mid-key, mid-number, mid-escape, mid-UTF-8), as its
    last bytes before an unreadable page: read alike or declined, never past the end."""
    assert reference(WHOLE) is not None
    for end in range(len(WHOLE) + 1):
        data = WHOLE[:end]
        with at_a_guard_page(data) as guarded:
            got = scan_results(guarded, split_min_bytes=1 << 62)
        want = reference(data)
        if want is None:
            assert got is None, end
        else:
            assert_same(got, want)


@pytest.mark.parametrize("n", [1, 150])
def test_mapped_file_of_whole_pages(tmp_path, n):
    """A file whose size is a multiple of the page size, memory-mapped as prcore maps it,
    its last record's ``]`` on the last byte of the last page."""
    import prcore
    from prcore.io.load import _file_bytes

    records = _records(n)
    path = page_multiple_file(tmp_path / "dt.json", json.dumps(records).encode())
    data = path.read_bytes()
    with _file_bytes(str(path)) as mapped:
        for split in (1 << 62, 0):
            assert_same(scan_results(mapped, split_min_bytes=split), reference(data))
    ann = {"id": 1, "image_id": 0, "category_id": 3, "bbox": [0, 1.5, 2.25, 0], "area": 1}
    gt = {"images": [{"id": i} for i in range(n)], "annotations": [ann], "categories": [{"id": 3}]}
    assert prcore.evaluate(gt, path).stats.tolist() == prcore.evaluate(gt, records).stats.tolist()


@numba.njit
def _load_at(buf, word, i):
    p = json_tokens.bounded(buf)
    return json_tokens.load_word(p, i) if word else np.uint64(json_tokens.load_u8(p, i))


@numba.njit
def _store_at(buf, i):
    json_tokens.store_u8(json_tokens.bounded(buf), i, 7)


def test_checked_pointers_refuse_every_load_outside():
    buf = np.arange(16, dtype=np.uint8)
    assert _load_at(buf, True, 8) == int.from_bytes(bytes(range(8, 16)), "little")
    assert _load_at(buf, False, 15) == 15
    for word, i in ((True, 9), (True, -1), (False, 16), (False, -1)):
        with pytest.raises(IndexError):
            _load_at(buf, word, i)
    _store_at(buf, 15)
    assert buf[15] == 7
    with pytest.raises(IndexError):
        _store_at(buf, 16)


def test_scanners_run_the_checked_variants_only_when_asked():
    from prcore._kernels import coco_scan as gt_kernels
    from prcore._kernels import results_scan as result_kernels
    from prcore.io import coco_scan, results_scan

    checked = (result_kernels.scan_results_kernel_checked,
               gt_kernels.scan_ground_truth_kernel_checked)  # fmt: skip
    got = (results_scan._kernel(), coco_scan._kernel())
    assert (got == checked) == checked_mode()


@pytest.mark.skipif(checked_mode(), reason="this run is the checked one")
@pytest.mark.skipif(bool(os.environ.get("PRCORE_TEST_NATIVE")), reason="the build has no checks")
def test_suites_pass_with_every_raw_load_checked():
    """The scanners' suites (hand-written cases, the hypothesis and mutation
    properties, documents cut anywhere and at page boundaries) again, with
    ``PRCORE_SCAN_CHECKED=1``: there every raw load checks its index and raises
    IndexError rather than read outside the document, the tables or the stack."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "test_results_scan.py", "test_coco_scan.py", "test_keypoint_scan.py",
         "test_segm_scan.py"],
        cwd=TESTS,
        env=dict(os.environ, PRCORE_SCAN_CHECKED="1"),
        capture_output=True,
        text=True,
        timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
