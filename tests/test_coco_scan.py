"""The ground-truth scanner against json.loads, bit for bit.

Every accepted document must give exactly the columns that ``json.loads``
followed by numpy conversion gives; every document it is not sure about must
give None. Documents are written token by token with random formatting, so
that the reference is whatever ``json.loads`` makes of the same bytes. The
scanner reads syntax only: values that break the schema's rules (a negative
area, ``iscrowd`` 2) come back as written, and the loader refuses them
(tests/test_inputs.py).

Every document is also scanned where its last byte is the last readable one
(the next page is unmapped), so that a read past the end is a crash here; with
``PRCORE_SCAN_CHECKED=1`` (see tests/test_results_scan.py) such a read raises
instead. This module must not import numba: tests/test_native.py reruns it on
the ahead-of-time build, where numba is never imported.
"""

from __future__ import annotations

import ctypes
import json
import math
import mmap
import random
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import prcore
from prcore.io.coco_scan import GroundTruthColumns, scan_ground_truth
from prcore.io.load import ground_truth_from_dict, load_ground_truth

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


# ---------------------------------------------------------------- memory ends here


_PAGE = mmap.PAGESIZE


@contextmanager
def at_a_guard_page(data: bytes):
    """``data`` as a memoryview whose last byte is followed by an unreadable page.

    A scanner that reads one byte past the end crashes (SIGSEGV) instead of
    reading whatever happens to lie there.
    """
    size = -(-max(len(data), 1) // _PAGE) * _PAGE
    region = mmap.mmap(-1, size + _PAGE)
    try:
        anchor = ctypes.c_char.from_buffer(region)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        if libc.mprotect(ctypes.addressof(anchor) + size, _PAGE, 0) != 0:  # PROT_NONE
            raise OSError(ctypes.get_errno(), "mprotect")
        del anchor
        region[size - len(data) : size] = data
        with memoryview(region) as whole, whole[size - len(data) : size] as view:
            yield view
    finally:
        region.close()


def page_multiple_file(path: Path, data: bytes) -> Path:
    """Write ``data`` after enough leading spaces that the file's size is a multiple of
    the page size: its last byte is the last byte of the last mapped page."""
    pad = -len(data) % _PAGE
    path.write_bytes(b" " * pad + data)
    return path


# ---------------------------------------------------------------- reference


def _is_id(v) -> bool:
    return type(v) is int and INT64_MIN <= v <= INT64_MAX


def _number(v) -> float | None:
    """A JSON number as numpy's float64 gives it, and float() for an int beyond a double."""
    if type(v) not in (int, float):
        return None
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _crowd(r: dict) -> int | None:
    v = r.get("iscrowd", 0)
    if type(v) is bool:
        return int(v)
    return v if _is_id(v) else None


def _ignore(r: dict) -> int | None:
    v = r.get("ignore")
    if v is None:
        return -1
    if type(v) is bool:
        return int(v)
    return v if type(v) is int and v in (0, 1) else None


def _no_constants(name: str):
    raise ValueError(f"{name}: json.loads reads it, the scanner declines it")


def reference(data: bytes) -> dict | None:
    """The columns json.loads gives, or None where the scanner must decline."""
    try:
        doc = json.loads(data, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not {"images", "annotations", "categories"} <= doc.keys():
        return None
    images, cats, anns = doc["images"], doc["categories"], doc["annotations"]
    if not all(isinstance(s, list) for s in (images, cats, anns)):
        return None
    if not all(isinstance(r, dict) for r in images + cats + anns):
        return None
    if not all(_is_id(r.get("id")) for r in images + cats):
        return None
    if not all(isinstance(r.get("name", ""), str) for r in cats):
        return None
    out = {
        k: []
        for k in ("ann_id", "ann_image_id", "ann_category_id", "bbox", "area", "iscrowd", "ignore")
    }
    for r in anns:
        if not all(_is_id(r.get(k)) for k in ("id", "image_id", "category_id")):
            return None
        box = r.get("bbox")
        if not isinstance(box, list) or len(box) != 4:
            return None
        box = [_number(v) for v in box]
        area = _number(r.get("area"))
        crowd = _crowd(r)
        ignore = _ignore(r)
        if None in box or area is None or crowd is None or ignore is None:
            return None
        for k, v in (
            ("ann_id", r["id"]),
            ("ann_image_id", r["image_id"]),
            ("ann_category_id", r["category_id"]),
            ("bbox", box),
            ("area", area),
            ("iscrowd", crowd),
            ("ignore", ignore),
        ):
            out[k].append(v)
    n = len(anns)
    return {
        "image_id": np.array([r["id"] for r in images], np.int64),
        "cat_id": np.array([r["id"] for r in cats], np.int64),
        "cat_name": tuple(r.get("name", "") for r in cats),
        "ann_id": np.array(out["ann_id"], np.int64),
        "ann_image_id": np.array(out["ann_image_id"], np.int64),
        "ann_category_id": np.array(out["ann_category_id"], np.int64),
        "bbox": np.array(out["bbox"], np.float64).reshape(n, 4),
        "area": np.array(out["area"], np.float64),
        "iscrowd": np.array(out["iscrowd"], np.int64),
        "ignore": np.array(out["ignore"], np.int8),
    }


def assert_matches(got: GroundTruthColumns | None, want: dict | None) -> None:
    if want is None:
        assert got is None
        return
    assert got is not None
    assert got.cat_name == want["cat_name"]
    for key, w in want.items():
        if key == "cat_name":
            continue
        g = getattr(got, key)
        assert g.dtype == w.dtype and g.shape == w.shape, key
        if g.dtype == np.float64:  # bit for bit: -0.0 and 0.0 differ
            np.testing.assert_array_equal(g.view(np.uint64), w.view(np.uint64), err_msg=key)
        else:
            np.testing.assert_array_equal(g, w, err_msg=key)


def check(data: bytes) -> GroundTruthColumns | None:
    got = scan_ground_truth(data)
    assert_matches(got, reference(data))
    with at_a_guard_page(data) as guarded:
        assert_matches(scan_ground_truth(guarded), reference(data))
    return got


# ---------------------------------------------------------------- writer


class Raw(str):
    """A token written as is (a number in a chosen form)."""


def dump(value, rnd: random.Random) -> str:
    """JSON text with random whitespace and string escaping."""

    def ws() -> str:
        return rnd.choice(["", "", "", " ", "\n", "\t", " \r\n  "])

    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=rnd.random() < 0.3)
    if isinstance(value, list):
        return "[" + ws() + ("," + ws()).join(dump(v, rnd) + ws() for v in value) + "]"
    items = list(value.items())
    if rnd.random() < 0.5:
        rnd.shuffle(items)
    inner = ("," + ws()).join(f"{json.dumps(k)}{ws()}:{ws()}{dump(v, rnd)}{ws()}" for k, v in items)
    return "{" + ws() + inner + "}"


def number_token(rnd: random.Random) -> Raw:
    """A finite-looking JSON number in one of many spellings."""
    kind = rnd.randrange(8)
    if kind == 0:
        return Raw(str(rnd.randint(0, 10**6)))
    if kind == 1:
        return Raw(repr(round(rnd.uniform(0, 1000), rnd.randrange(0, 4))))
    if kind == 2:  # 17 significant digits, like a float32 written as a double
        return Raw(repr(float(np.float32(rnd.uniform(0, 640)))))
    if kind == 3:
        return Raw(repr(rnd.uniform(0, 1) * 10.0 ** rnd.randint(-320, 300)))
    if kind == 4:
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 30)))
        return Raw(str(rnd.randint(1, 9)) + "." + digits)
    if kind == 5:
        mant = str(rnd.randint(0, 10 ** rnd.randint(1, 22)))
        exp = rnd.choice(["e", "E"]) + rnd.choice(["", "+", "-"]) + str(rnd.randint(0, 330))
        return Raw(mant + rnd.choice(["", ".5", ".000123"]) + exp)
    if kind == 6:
        return Raw(
            rnd.choice(
                [
                    "0",
                    "-0",
                    "0.0",
                    "-0.0",
                    "1e0",
                    "0e-5",
                    "4.9e-324",
                    "2.2250738585072011e-308",
                    "1.7976931348623157e308",
                    "9007199254740993",
                    "123456789012345678901234567890",
                ]
            )
        )
    return Raw("-" + str(rnd.randint(0, 10**9)) + "." + str(rnd.randint(0, 99)))


def text(rnd: random.Random) -> str:
    pool = "abc xyz_-/\\\"'\n\tÄé中文😀\u2028\x7f"
    return "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 8)))


def extra(rnd: random.Random, depth: int = 0):
    """Any JSON value, for keys the scanner skips."""
    kind = rnd.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return number_token(rnd)
    if kind == 1:
        return text(rnd)
    if kind == 2:
        return rnd.choice([True, False, None])
    if kind == 3:
        return Raw("-" + number_token(rnd).lstrip("-"))
    if kind == 4:
        return [extra(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {text(rnd): extra(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


def segmentation(rnd: random.Random):
    if rnd.random() < 0.7:
        return [
            [number_token(rnd) for _ in range(2 * rnd.randint(3, 12))]
            for _ in range(rnd.randint(1, 3))
        ]
    counts = "".join(rnd.choice("0123456789:;<=>?@ABC\\[]") for _ in range(20))
    return {"size": [rnd.randint(1, 999), rnd.randint(1, 999)], "counts": counts}


def document(rnd: random.Random, n_img: int, n_cat: int, n_ann: int) -> dict:
    images = [
        {"id": rnd.randint(-5, 10**12), "file_name": text(rnd), "width": 640, "height": 480}
        for _ in range(n_img)
    ]
    cats = []
    for i in range(n_cat):
        c = {"id": i + 1, "supercategory": text(rnd)}
        if rnd.random() < 0.9:
            c["name"] = text(rnd)
        cats.append(c)
    anns = []
    for i in range(n_ann):
        a = {
            "id": i + 1,
            "image_id": rnd.randint(0, 10**6),
            "category_id": rnd.randint(1, 9),
            "bbox": [number_token(rnd) for _ in range(4)],
            "area": number_token(rnd),
            "segmentation": segmentation(rnd),
        }
        if rnd.random() < 0.5:
            a["iscrowd"] = rnd.choice([0, 1, True, False])
        if rnd.random() < 0.3:
            a["ignore"] = rnd.choice([0, 1, True, False, None])
        if rnd.random() < 0.2:
            a["keypoints"] = [rnd.randint(0, 99) for _ in range(6)]
        if rnd.random() < 0.2:
            a[text(rnd)] = extra(rnd)
        anns.append(a)
    doc = {"images": images, "categories": cats}
    if n_ann or rnd.random() < 0.7:
        doc["annotations"] = anns
    if rnd.random() < 0.5:
        doc["info"] = extra(rnd)
    if rnd.random() < 0.5:
        doc["licenses"] = [{"id": 1, "name": text(rnd), "url": "http://x/"}]
    return doc


def encode(doc, rnd: random.Random) -> bytes:
    body = rnd.choice(["", " ", "\n"]) + dump(doc, rnd) + rnd.choice(["", " \n"])
    data = body.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if rnd.random() < 0.1 else data


# ---------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(0, 6), st.integers(0, 5), st.integers(0, 12))
def test_random_documents_match_json_loads(rnd, n_img, n_cat, n_ann):
    check(encode(document(rnd, n_img, n_cat, n_ann), rnd))


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_number_spellings_are_bit_exact(rnd):
    boxes = [[number_token(rnd) for _ in range(4)] for _ in range(8)]
    anns = [
        {"id": i, "image_id": 1, "category_id": 1, "bbox": b, "area": number_token(rnd)}
        for i, b in enumerate(boxes)
    ]
    data = encode({"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": anns}, rnd)
    check(data)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(INT64_MIN, INT64_MAX))
def test_any_double_and_any_int64_round_trip(x, i):
    data = json.dumps(
        {
            "images": [{"id": i}],
            "categories": [{"id": i, "name": "a"}],
            "annotations": [
                {"id": i, "image_id": i, "category_id": i, "bbox": [x, -x, x, x], "area": x}
            ],
        }
    ).encode()
    got = check(data)
    assert got is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.booleans())
def test_category_names_decode_like_json_loads(name, ascii_only):
    data = (
        '{"images":[{"id":1}],"annotations":[],"categories":[{"id":7,"name":'
        + json.dumps(name, ensure_ascii=ascii_only)
        + "}]}"
    ).encode("utf-8", "surrogatepass")
    check(data)


# ---------------------------------------------------------------- explicit cases


MINIMAL = b'{"images":[{"id":1}],"categories":[{"id":1}],"annotations":[]}'
ANN = b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":1%s}'


def with_anns(anns: bytes) -> bytes:
    return b'{"images":[{"id":1}],"categories":[{"id":1}],"annotations":[' + anns + b"]}"


def with_ann(extra: bytes = b"") -> bytes:
    return with_anns(ANN % extra)


def test_minimal_documents():
    got = check(MINIMAL)
    assert got is not None and len(got.ann_id) == 0 and got.cat_name == ("",)
    got = check(b'{"images":[],"categories":[],"annotations":[]}')
    assert got is not None and len(got.image_id) == 0
    got = check(with_ann(b',"iscrowd":true,"ignore":false'))
    assert got is not None and got.iscrowd.tolist() == [1] and got.ignore.tolist() == [0]
    got = check(with_ann(b',"ignore":null,"iscrowd":0'))
    assert got is not None and got.ignore.tolist() == [-1]
    got = check(
        b'\xef\xbb\xbf {"categories":[{"name":"caf\\u00e9 \\"x\\"","id":-3}],'
        b'"info":{"a":[1,{"b":null}]},"\\u0041nnotations":{},"annotations":[],'
        b'"images":[{"id":9223372036854775807}]}\n'
    )
    assert got is not None and got.cat_name == ('café "x"',)


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b'{"images":[{"id":1}],"annotations":[]}',  # no categories
        b'{"categories":[{"id":1}],"annotations":[]}',  # no images
        b'{"images":[{"id":1}],"categories":[{"id":1}]}',  # no annotations: an image-info file
        b'{"images":[{"id":1}],"categories":[{"id":1}],"\\u0061nnotations":[]}',  # escaped
        b'{"images":[{"id":1}],"categories":[{"id":1}],"images":[{"id":2}]}',
        b'{"images":[{"id":1,"id":2}],"categories":[{"id":1}]}',
        b'{"images":[{"file_name":"a"}],"categories":[{"id":1}]}',
        b'{"images":[{"id":1.0}],"categories":[{"id":1}]}',
        b'{"images":[{"id":1e3}],"categories":[{"id":1}]}',
        b'{"images":[{"id":"1"}],"categories":[{"id":1}]}',
        b'{"images":[{"id":true}],"categories":[{"id":1}]}',
        b'{"images":[{"id":9223372036854775808}],"categories":[{"id":1}]}',
        b'{"images":[{"\\u0069d":1}],"categories":[{"id":1}]}',  # escaped key
        b'{"images":[{"id":1}],"categories":[{"id":1,"name":null}]}',
        b'{"images":[{"id":1}],"categories":[{"id":1,"name":"a","name":"b"}]}',
        b'{"images":[{"id":1}],"categories":[{"id":1}],"annotations":null}',
        b'{"images":{},"categories":[{"id":1}]}',
        b'{"images":[1],"categories":[{"id":1}]}',
        b'{"images":[{"id":1}],"categories":[{"id":1}]} x',  # trailing garbage
        b'{"images":[{"id":1}],"categories":[{"id":1}],}',
        b'{"images":[{"id":1},],"categories":[{"id":1}]}',
        b'{"images":[{"id":1}],"categories":[{"id":1}],"info":NaN}',
        b'{"images":[{"id":1}],"categories":[{"id":1}],"info":[Infinity]}',
        b'{"images":[{"id":1}],"categories":[{"id":1}],"info":"\x01"}',
        b'{"images":[{"id":1}],"categories":[{"id":1}],"info":"\xff"}',
        b'{"images":[{"id":1}],"categories":[{"id":01}]}',
        b'{"images":[{"id":1}],"categories":[{"id":1}]',
        with_ann(b',"iscrowd":1.0'),
        with_ann(b',"iscrowd":9223372036854775808'),
        with_ann(b',"ignore":2'),
        with_ann(b',"iscrowd":null'),
        with_ann(b',"iscrowd":0,"iscrowd":0'),
        with_ann(b',"ignore":"yes"'),
        with_ann(b',"area":2'),  # duplicate area
        with_ann(b',"segmentation":[[1,2,NaN]]'),
        with_ann(b',"segmentation":[[1,2,3]'),
        with_ann(b',"bbox":[0,0,1,1]'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1],"area":1}'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1,1],"area":1}'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,"1"],"area":1}'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}'),  # no area
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":null}'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":NaN}'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,Infinity],"area":1}'),
        with_anns(b'{"id":1,"image_id":1.5,"category_id":1,"bbox":[0,0,1,1],"area":1}'),
        with_anns(b'{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":1}'),  # no id
    ],
)
def test_declines_what_it_is_not_sure_about(data):
    assert scan_ground_truth(data) is None


@pytest.mark.parametrize(
    "data",
    [
        with_ann(b',"iscrowd":2'),
        with_ann(b',"iscrowd":-1,"ignore":true'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,-1,1],"area":-2}'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":1e400}'),
        with_anns(b'{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,-1' + b"0" * 400 + b'],'
                  b'"area":1}'),
    ],
)  # fmt: skip
def test_values_that_break_the_schema_come_back_as_written(data):
    """Syntax only: the loader applies the schema's rules to the columns."""
    assert check(data) is not None


def test_deep_nesting_in_skipped_values_declines_instead_of_crashing():
    deep = b"[" * 5000 + b"]" * 5000
    assert check(MINIMAL[:-1] + b',"x":' + deep + b"}") is None


WHOLE = (
    b'\xef\xbb\xbf{"info": {"description": "caf\xc3\xa9 \\u00e9\\n", "year": 2017, "x": [true, false,'
    b' null, -0.0, 1e-3]}, "images": [{"id": 123456789012, "file_name": "a.jpg"}, {"id": -7}],'
    b' "categories": [{"id": 1, "name": "person"}, {"name": "\\u0041\\"", "id": 2}],'
    b' "annotations": [{"segmentation": [[1.5, 2.25, 3e2, 4]], "area": 12345678.5,'
    b' "iscrowd": true, "ignore": null, "image_id": 123456789012, "bbox": [0.25,'
    b' 207.22605895996094, 4.9e-324, 123456789012345678901234], "category_id": 2,'
    b' "id": 9223372036854775807, "a_key_longer_than_sixteen_bytes": {"\\u0069d": 1}}]}  '
)


def test_documents_cut_anywhere_end_where_memory_ends():
    """Every prefix of a document (mid-key, mid-number, mid-escape, mid-UTF-8), as its
    last bytes before an unreadable page: read alike or declined, never past the end."""
    assert reference(WHOLE) is not None
    for end in range(len(WHOLE) + 1):
        check(WHOLE[:end])


def test_mapped_file_of_whole_pages(tmp_path):
    """A file whose size is a multiple of the page size, memory-mapped as prcore maps it,
    its closing brace on the last byte of the last page."""
    path = page_multiple_file(tmp_path / "gt.json", WHOLE[3:].rstrip())  # no BOM: spaces come first
    fast = load_ground_truth(path)
    slow = ground_truth_from_dict(json.loads(path.read_bytes()), str(path))
    assert fast.dataset is None  # the scanner read it
    assert fast.ann_id.tolist() == slow.ann_id.tolist() == [9223372036854775807]
    np.testing.assert_array_equal(fast.ann_bbox.view(np.uint64), slow.ann_bbox.view(np.uint64))


def test_kernel_caches_follow_the_tokenizer():
    """numba's cache keys a kernel on its own file's text: each scanner module holds a
    digest of the files its kernels compile in, so that editing them recompiles."""
    import hashlib

    kernels = Path(prcore.__file__).parent / "_kernels"
    digest = hashlib.sha256()
    for name in ("json_tokens.py", "scan_constants.py"):
        digest.update((kernels / name).read_bytes())
    line = f'TOKENIZER_DIGEST = "{digest.hexdigest()[:16]}"'
    for name in ("results_scan.py", "coco_scan.py"):
        assert line in (kernels / name).read_text(), f"set {line} in prcore/_kernels/{name}"


# ---------------------------------------------------------------- through load.py


def valid_document(rnd: random.Random) -> dict:
    images = [{"id": i * 7 + 3, "file_name": f"{i}.jpg"} for i in range(6)]
    cats = [{"id": c, "name": n} for c, n in ((5, "b"), (2, 'é"a'), (9, ""))]
    anns = []
    for i in range(40):
        box = [Raw(repr(rnd.uniform(0, 500))) for _ in range(4)]
        anns.append(
            {
                "id": 100 + i,
                "image_id": rnd.choice(images)["id"],
                "category_id": rnd.choice(cats)["id"],
                "bbox": box,
                "area": Raw(
                    rnd.choice(
                        [
                            repr(rnd.uniform(0, 1e5)),
                            str(i),
                            "1.5E+2",
                            "0",
                            "2.2250738585072011e-308",
                            "123456789012345678901234567890",
                        ]
                    )
                ),
                "iscrowd": rnd.choice([0, 1, False]),
                "segmentation": segmentation(rnd),
            }
        )
        if rnd.random() < 0.3:
            anns[-1]["ignore"] = rnd.choice([0, 1, None])
    return {"info": {"year": 2017}, "images": images, "annotations": anns, "categories": cats}


@pytest.mark.parametrize("seed", range(5))
def test_load_ground_truth_same_as_dict_path(tmp_path, seed):
    rnd = random.Random(seed)
    data = encode(valid_document(rnd), rnd)
    path = tmp_path / "gt.json"
    path.write_bytes(data)
    assert scan_ground_truth(data) is not None
    with warnings.catch_warnings(record=True) as fast_warnings:
        warnings.simplefilter("always")
        fast = load_ground_truth(path)
    with warnings.catch_warnings(record=True) as slow_warnings:
        warnings.simplefilter("always")
        slow = ground_truth_from_dict(json.loads(data), str(path))
    assert [str(w.message) for w in fast_warnings] == [str(w.message) for w in slow_warnings]
    assert fast.dataset is None and fast.cat_names == slow.cat_names
    for key in (
        "img_ids",
        "cat_ids",
        "ann_id",
        "ann_img",
        "ann_cat",
        "ann_bbox",
        "ann_area",
        "ann_crowd",
    ):
        a, b = getattr(fast, key), getattr(slow, key)
        assert a.dtype == b.dtype and a.shape == b.shape, key
        np.testing.assert_array_equal(a, b, err_msg=key)
