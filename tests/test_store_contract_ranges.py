"""The store contract, continued: reads over many key ranges (limits, order, progress, exact
byte bounds, keys only), run on each backend as tests/test_store_contract.py is."""
import threading
import time

import pytest

from test_store_contract import _same_columns, fill, keys


def test_read_over_many_ranges_with_limit_reverse_and_progress(store):
    t = store.table("main")
    stored = {}
    with t.batch() as b:
        for i in range(30):
            cells = {"i:objectId": f"O{i % 4}", "i:jd": 2460000.5 + i, "i:fid": 1 + i % 2}
            if i % 3:
                cells["i:magpsf"] = 18.0 + i / 4
            if i % 7 == 0:
                cells = {"i:rb": 0.5}  # a row with none of the columns asked: not returned
            b.put(f"k{i:03d}", cells)
            stored[f"k{i:03d}"] = cells
    names = ["i:objectId", "i:jd", "i:magpsf", "i:candid"]

    def expected(ranges):
        return [(k, {n: v for n, v in stored[k].items() if n in names}) for lo, hi in ranges
                for k in sorted(stored) if lo <= k < hi and any(n in stored[k] for n in names)]

    for ranges in ([("k000", "k005"), ("k010", "k020")],
                   [(f"k{i:03d}", f"k{i + 2:03d}") for i in range(0, 30, 3)]):  # few ranges and many
        want = expected(ranges)
        calls = []
        batch = t.read(ranges=ranges, columns=names, batch_size=4, on_batch=lambda: calls.append(1))
        assert batch.keys == [k for k, _ in want] and len(want) > 8
        assert set(batch.columns) == set(names) - {"i:candid"} and batch["i:candid"] == [None] * len(want)
        _same_columns({n: batch[n] for n in names}, {n: [c.get(n) for _, c in want] for n in names})
        assert batch.rows() == want
        assert len(calls) >= len(want) // 4
        assert t.read(ranges=ranges, columns=names, limit=5).rows() == want[:5]
        as_bytes = [(lo.encode(), hi if i % 2 else hi.encode()) for i, (lo, hi) in enumerate(ranges)]
        assert t.read(ranges=as_bytes, columns=names).rows() == want  # bounds as bytes, or mixed
    want = expected([("k000", "k999")])
    assert t.read(ranges=[("k000", None)], columns=names, limit=3, reverse=True).rows() == want[::-1][:3]
    assert t.read(ranges=[(None, "k008")], columns=["i:magpsf"], limit=2).keys == ["k001", "k002"]
    assert [k for k, _ in t.scan(row_start="k005", columns=["i:magpsf"], limit=4, batch_size=2)] == \
        ["k005", "k008", "k010", "k011"]


def test_scans_read_page_by_page_see_every_row(store):
    """A scan resumes after the last key of each page: a key that extends it comes next."""
    t = store.table("main")
    names = ["a", "a\x00", "a0", "a00", "a1", "b", "b\xff", "c"]
    fill(t, names)
    for batch_size in (1, 2, 3, 1000):
        assert keys(t.scan(batch_size=batch_size)) == names
        assert keys(t.scan(reverse=True, batch_size=batch_size)) == names[::-1]
        assert keys(t.scan(row_prefix="a", batch_size=batch_size, columns=["i:ndethist"])) == names[:5]
        assert keys(t.scan(row_start="a0", limit=4, batch_size=batch_size)) == names[2:6]


@pytest.mark.parametrize("store", ["hbase"], indirect=True)  # HBase only: the embedded store writes in the caller's thread (no server to wait on)
def test_hbase_sends_a_full_buffer_in_the_background(store, monkeypatch):
    t = store.table("main")
    released, waited = threading.Event(), []
    real = t.apply

    def slow(ops):
        waited.append(released.wait(5))  # True: the caller went on while this send was under way
        real(ops)

    monkeypatch.setattr(t, "apply", slow)
    with t.batch(batch_size=1) as b:
        b.put("r0", {"i:ndethist": 0})
        released.set()
    assert waited == [True]
    assert keys(t.scan()) == ["r0"]  # landed before the batch was left


@pytest.mark.parametrize("store", ["hbase"], indirect=True)  # HBase only: the embedded store reads ranges from its own file, one after the other
def test_hbase_reads_many_ranges_at_once_in_the_order_asked(store, monkeypatch):
    from store import hbase_pipeline

    monkeypatch.setattr(store, "pool2", None)  # the Thrift 1 path (test_hbase_multirange.py: Thrift 2's)
    t = store.table("main")
    with t.batch() as b:
        for i in range(12):
            b.put(f"k{i:02d}", {"i:ndethist": i})
    active, most, lock = [0], [0], threading.Lock()
    real = hbase_pipeline._pipeline

    def counted(*args, **kwargs):  # one chunk of ranges, pipelined on one connection
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.2)  # long enough for the next chunks to start meanwhile, if they do
            return real(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(hbase_pipeline, "_pipeline", counted)
    ranges = [(f"k{i:02d}", f"k{i + 2:02d}") for i in (10, 0, 4, 8, 2, 6)]  # not in key order
    assert t.read(ranges=ranges, columns=["i:ndethist"]).keys == [f"k{i:02d}" for i in
                                                                   (10, 11, 0, 1, 4, 5, 8, 9, 2, 3, 6, 7)]
    assert most[0] > 1


def test_read_of_many_keys_keeps_the_order_asked(store):
    t = store.table("main")
    with t.batch() as b:
        for i in range(0, 500, 2):
            b.put(f"k{i:03d}", {"i:ndethist": i})
    asked = [f"k{(i * 7) % 500:03d}" for i in range(500)]  # every key once, out of order; half missing
    batch = t.read(keys=asked, columns=["i:ndethist"])
    assert batch.keys == [k for k in asked if int(k[1:]) % 2 == 0]
    assert list(batch["i:ndethist"]) == [int(k[1:]) for k in batch.keys]


def test_bounds_and_keys_are_exact_bytes_whatever_the_number_of_ranges(store):
    """A bound holding a NUL byte, or bytes that are not UTF-8 (the successor of a prefix
    ending in 0x7f), is compared as its bytes: a read of 1, 7, 8 or 20 ranges (the embedded
    store joins 8 or more in one statement) gives, range by range, the keys each holds."""
    t = store.table("main")
    names = ["ab", "ab\x00", "ab\x00b", "ab\x00c", "ab\x00c\x00", "ab\x00cz", "ab\x00d", "ab\x01",
             "b\x7f", "b\x7f\x00", "b\x7f~", "bé", "c"]
    fill(t, names)
    encoded = {n.encode("utf-8"): n for n in names}
    spans = [("ab\x00c", "ab\x00d"), (b"ab\x00c", b"ab\x00d"), ("ab", "ab\x00"), (b"ab\x00", "ab\x00c\x00"),
             (b"ab\x00c\x00", b"ab\x00c\x01"),
             (b"b\x7f", b"b\x80"), ("b\x7f\x00", b"b\x7f\xff"), ("zz", "zz\x00")]

    def holds(lo, hi):
        lo, hi = (b if isinstance(b, bytes) else b.encode("utf-8") for b in (lo, hi))
        return [encoded[k] for k in sorted(encoded) if lo <= k < hi]

    assert holds(*spans[0]) == ["ab\x00c", "ab\x00c\x00", "ab\x00cz"]
    for n in (1, 7, 8, 20):
        ranges = [spans[i % len(spans)] for i in range(n)]
        want = [k for lo, hi in ranges for k in holds(lo, hi)]
        assert t.read(ranges=ranges, columns=[]).keys == want, n
        got = t.read(ranges=ranges, columns=["i:ndethist"])
        assert got.keys == want and list(got["i:ndethist"]) == [names.index(k) for k in want], n
        assert t.read(ranges=ranges).keys == want, n
    long = [("ab\x00c", "ab\x00d" + "~" * 5000)] * 8  # bounds longer than the embedded join packs
    assert t.read(ranges=long, columns=[]).keys == ["ab\x00c", "ab\x00c\x00", "ab\x00cz", "ab\x00d"] * 8
    # the other read shapes: by keys, one range, a prefix, reverse, a limit
    asked = ["ab\x00c", "ab\x00", "ab\x00x", "b\x7f\x00", "ab"]
    assert t.read(keys=asked, columns=["i:ndethist"]).keys == ["ab\x00c", "ab\x00", "b\x7f\x00", "ab"]
    assert t.read(keys=[k.encode("utf-8") for k in asked], columns=[]).keys == ["ab\x00c", "ab\x00", "b\x7f\x00", "ab"]
    assert keys(t.scan(row_prefix="ab\x00c")) == ["ab\x00c", "ab\x00c\x00", "ab\x00cz"]
    assert keys(t.scan(row_prefix=b"b\x7f")) == ["b\x7f", "b\x7f\x00", "b\x7f~"]
    assert keys(t.scan(row_start="ab\x00b", row_stop=b"ab\x00d", reverse=True)) == ["ab\x00cz", "ab\x00c\x00", "ab\x00c", "ab\x00b"]
    assert t.read(ranges=[spans[0]] * 8, columns=["i:ndethist"], limit=4).keys == \
        ["ab\x00c", "ab\x00c\x00", "ab\x00cz", "ab\x00c"]


def test_limit_counts_rows_over_ranges_when_reading_keys_only(store):
    t = store.table("main")
    fill(t, ["a1", "a2", "a3", "b1", "b2", "b3"])
    ranges = [("a", "b"), ("b", "c")]
    for columns in ([], None, ["i:ndethist"]):
        assert t.read(ranges=ranges, columns=columns, limit=4).keys == ["a1", "a2", "a3", "b1"], columns
        assert t.read(ranges=ranges, columns=columns, limit=2).keys == ["a1", "a2"], columns


def test_keys_in_gives_the_keys_a_keys_only_read_gives(store, monkeypatch):
    """``Table.keys_in``: the keys of ``read(ranges=..., columns=[])``, in any order, for a few
    ranges and for many (the embedded store joins 8 or more in one statement, and reads each
    statement's keys as one string split on newlines): a key holding a newline, a NUL byte or
    non-ASCII characters comes back whole, an empty range adds nothing, a repeated one its keys again."""
    t = store.table("main")
    names = ["a", "a\nb", "a\nb\n", "a\x00", "a0", "aé", "b", "b\n", "c\u20ac", "d"]
    fill(t, names)
    for ranges in ([("a", "b")], [("b", "c")], [("a\x00", "a1"), ("zz", "zz\x00")], [("c", "e")],
                   [("a", "a0"), ("b", "b\x00"), ("c", None)] * 3,                      # 9 ranges: one statement
                   [(f"{c}", f"{c}\uffff") for c in "abcdxyz"] + [("a\n", "a\nb\n\x00")],  # 8, one holding newlines
                   [(None, None)], [("zz", "zzz")]):
        want = t.read(ranges=ranges, columns=[]).keys
        assert sorted(t.keys_in(ranges)) == sorted(want), ranges
    assert sorted(t.keys_in([(None, None)])) == sorted(names)
    assert t.keys_in([]) == [] and t.keys_in([("b", "a")]) == []
    with pytest.raises(TypeError):
        t.keys_in([(1, 2)])
