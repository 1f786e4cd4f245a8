"""Reads of many ranges through HBase's Thrift 2 server (store/hbase_multirange.py): a few
scanners, each with a serialised MultiRowRangeFilter (store/hbase_filters.py).

They must answer exactly what one scanner a range answers (Thrift 1) and what the embedded
store answers: every row of every range, range by range in the order asked, overlapping ranges
read twice, open ends, keys only, columns; a missing table or a dead Thrift 2 server gives the
store's clear errors.
"""
import socket
import time

import pytest

from conftest import hbase_thrift2_port, need
from store import hbase_multirange
from store.errors import StoreUnavailable
from store.hbase_multirange import Thrift2Connection, _by_range, _runs, _union
from store.hbase_pool import Pool
from test_hbase_pipeline import _fill, _ranges, missing_table_then_reads_on


@pytest.fixture
def hbase(store, tmp_path):
    need(hbase_thrift2_port() > 0, "no HBase Thrift 2 server (NOCTURNE_HBASE_THRIFT2_PORT; "
                                   "hbase_schema/local/hbase start runs one)")
    assert store.pool2 is not None
    _fill(store.table("main"))
    return store


def _thrift1(store, monkeypatch):
    """``store`` reading many ranges through Thrift 1 until the test ends or ``undo``."""
    monkeypatch.setattr(store, "pool2", None)


def _disjoint():
    """150 ranges, not in key order, none touching another: 0, 1 or 2 rows each."""
    return [(f"k{i:04d}", f"k{i + (n % 3):04d}" if n % 3 else f"k{i:04d}a")
            for n, i in enumerate((n * 37) % 600 for n in range(0, 600, 4))]


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
@pytest.mark.parametrize("columns", [["i:ndethist", "i:objectId"], [], None], ids=["columns", "keys-only", "all"])
@pytest.mark.parametrize("ranges, scanners", [(_ranges(), 1), (_disjoint(), 3)], ids=["overlapping", "disjoint"])
def test_many_ranges_read_as_one_scanner_a_range_reads_them(hbase, columns, ranges, scanners, monkeypatch):
    """Overlapping ranges (one joined into the next, to the open end) take one scanner; 150
    disjoint ones, RUN = 40, three scanners on three of the four readers."""
    t = hbase.table("main")
    monkeypatch.setattr(hbase_multirange, "RUN", 40)
    opened, real = [], hbase_multirange._scan

    def counted(client, table, scan, page):  # the scanners read (a retried attempt counts once)
        rows = real(client, table, scan, page)
        opened.append(scan)
        return rows

    monkeypatch.setattr(hbase_multirange, "_scan", counted)
    calls = []
    got = t.read(ranges=ranges, columns=columns, batch_size=5, on_batch=lambda: calls.append(1))
    assert len(opened) == scanners and all(s.filterBytes for s in opened)
    with monkeypatch.context() as m:
        _thrift1(hbase, m)
        one_by_one = [row for r in ranges for row in t.read(ranges=[r], columns=columns).rows()]
        pipelined = t.read(ranges=ranges, columns=columns).rows()
    assert got.rows() == one_by_one == pipelined
    # on_batch every 5 rows read: a row in two ranges is read once (and returned for each)
    assert len(got.keys) > 100 and len(calls) == len(set(got.keys)) // 5
    assert got.keys[0] == one_by_one[0][0] and got.keys != sorted(got.keys)  # in the order asked


class _Counting:
    """A Thrift 2 client that counts the calls made through it."""

    def __init__(self, client, calls):
        self.client, self.calls = client, calls

    def __getattr__(self, name):
        call = getattr(self.client, name)
        return lambda *args: self.calls.append(name) or call(*args)


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
def test_one_scanner_reads_every_range_in_pages(hbase, monkeypatch):
    t = hbase.table("main")
    monkeypatch.setattr(hbase, "readers", 0)
    calls, real = [], hbase_multirange._scan

    def counted(client, table, scan, page):  # the calls of the attempt that succeeded
        made = []
        rows = real(_Counting(client, made), table, scan, page)
        calls.extend(made)
        return rows

    monkeypatch.setattr(hbase_multirange, "_scan", counted)
    ranges = [(f"k{i:04d}", f"k{i + (3 if i % 10 else 1):04d}") for i in range(0, 300, 5)]
    batch = t.read(ranges=ranges, columns=["i:ndethist"], batch_size=7)
    with monkeypatch.context() as m:
        _thrift1(hbase, m)
        assert batch.rows() == [row for r in ranges for row in t.read(ranges=[r], columns=["i:ndethist"]).rows()]
    assert len(batch.keys) == 30 * 3 + 30 - 6  # the holes k0007, k0057...: not read
    pages = -(-len(batch.keys) // 7) + (len(batch.keys) % 7 == 0)  # the last page is short (or empty)
    assert calls == ["openScanner"] + ["getScannerRows"] * pages + ["closeScanner"]  # 60 ranges, one scanner


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
def test_a_missing_table_gives_the_clear_error_and_the_pool_reads_on(hbase, monkeypatch):
    missing_table_then_reads_on(hbase.table("main"), monkeypatch, "no_such_table_nocturne does not exist")


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
def test_a_dead_thrift2_server_is_named_in_a_clear_error(hbase, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(hbase, "pool2", Pool(4, "127.0.0.1", port, 1500, Thrift2Connection))
    monkeypatch.setattr(hbase, "thrift2_port", port)
    monkeypatch.setattr(hbase, "timeout_ms", 1500)
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable, match=rf"Thrift 2 server unreachable at 127.0.0.1:{port}.*"
                                              r"NOCTURNE_HBASE_THRIFT2_PORT"):
        hbase.table("main").read(ranges=[("k0001", "k0003"), ("k0100", "k0102")], columns=[])
    assert time.monotonic() - t0 < 10


def test_ranges_are_joined_where_they_overlap_or_touch():
    assert _union([(b"c", b"e"), (b"a", b"b"), (b"d", b"f"), (b"f", b"g"), (b"x", None), (b"y", b"z")]) == \
        [(b"a", b"b"), (b"c", b"g"), (b"x", None)]
    assert _union([(None, b"b"), (b"a", b"c")]) == [(b"", b"c")]
    assert _union([(b"a", b"d"), (b"b", b"c")]) == [(b"a", b"d")]  # one inside another


def test_runs_cover_every_range_in_order_and_stay_within_the_readers():
    ranges = [(b"%04d" % i, b"%04da" % i) for i in range(1000)]
    for readers in (0, 1, 3, 4, 64):
        runs = _runs(ranges, readers)
        assert [r for run in runs for r in run] == ranges
        assert len(runs) <= max(1, readers) and all(len(run) >= hbase_multirange.RUN for run in runs)
    assert len(_runs(ranges[:10], 4)) == 1


def test_rows_are_handed_out_range_by_range_in_the_order_asked():
    rows = [(k, {}) for k in (b"a", b"b", b"c", b"d", b"e")]
    ranges = [(b"d", None), (b"a", b"c"), (b"b", b"c"), (b"bb", b"bc"), (None, b"b")]
    assert [k for k, _ in _by_range(rows, ranges)] == [b"d", b"e", b"a", b"b", b"b", b"a"]
