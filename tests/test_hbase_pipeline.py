"""Reads of many ranges on HBase with the scanner calls pipelined (store/hbase_pipeline.py).

Every row of every range, in the order asked, the same as one read a range and as the
embedded store; few round trips; a connection left part-read by an error never reused.
The store's Thrift 2 path (store/hbase_multirange.py) is turned off here: this is the path of
a store without a Thrift 2 server (tests/test_hbase_multirange.py tests the other).
"""
import pytest
from thriftpy2.transport import TTransportException

from conftest import make_config
from store import hbase_pipeline, open_store
from store.errors import TableMissing

ROWS = 600


def _fill(table):
    with table.batch(batch_size=1000) as b:
        for i in range(0, ROWS, 1):
            if i % 50 == 7:
                continue  # holes: some ranges below find no row
            b.put(f"k{i:04d}", {"i:objectId": f"O{i % 9}", "i:ndethist": i, "i:ra": i / 7})


def _ranges():
    """300 ranges, not in key order, of 0, 1, 2 or 12 rows, some overlapping, one open-ended."""
    out = []
    for n in range(297):
        i = (n * 37) % ROWS
        width = (1, 2, 12, 0)[n % 4]
        out.append((f"k{i:04d}", f"k{i + width:04d}" if width else f"k{i:04d}a"))  # width 0: between two keys
    out += [("k0007", "k0008"), ("k0100", "k0130"), ("k0590", None)]  # a hole, an overlap, to the end
    return out


@pytest.fixture(autouse=True)
def thrift1_only(request, monkeypatch):
    """Many ranges read through Thrift 1 even where the store has a Thrift 2 server."""
    if "store" in request.fixturenames and request.node.callspec.params.get("store") == "hbase":
        monkeypatch.setattr(request.getfixturevalue("store"), "pool2", None)


@pytest.fixture
def both(store, tmp_path):
    """The HBase store and an embedded one holding the same rows."""
    embedded = open_store(make_config("embedded", tmp_path), create=True)
    for s in (store, embedded):
        _fill(s.table("main"))
    yield store, embedded
    embedded.close()


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
@pytest.mark.parametrize("columns", [["i:ndethist", "i:objectId"], [], None], ids=["columns", "keys-only", "all"])
def test_many_ranges_read_as_one_read_a_range_and_as_embedded(both, columns, monkeypatch):
    hbase, embedded = both
    monkeypatch.setattr(hbase_pipeline, "CHUNK", 64)  # 300 ranges: 5 chunks
    chunks = []  # the chunks read (an attempt a transport error cut, e.g. on a connection the
    real = hbase_pipeline._pipeline  # server closed while idle, is retried and counted once)

    def counted(conn, table, scans, page):
        rows = real(conn, table, scans, page)
        chunks.append(len(scans))
        return rows

    monkeypatch.setattr(hbase_pipeline, "_pipeline", counted)
    t, ranges = hbase.table("main"), _ranges()
    calls = []
    got = t.read(ranges=ranges, columns=columns, batch_size=5, on_batch=lambda: calls.append(1))
    assert sorted(chunks) == [44] + [64] * 4  # more than one chunk, each bounded
    one_by_one = [row for r in ranges for row in t.read(ranges=[r], columns=columns).rows()]
    assert got.rows() == one_by_one == embedded.table("main").read(ranges=ranges, columns=columns).rows()
    assert len(got.keys) > 1000 and len(calls) == len(got.keys) // 5  # overlaps read twice; on_batch every 5 rows
    assert got.keys[0] == "k0000" and got.keys[-10:] == [f"k{i:04d}" for i in range(590, 600)]  # first, last


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
def test_ranges_are_read_in_three_round_trips_a_page(store, monkeypatch):
    t = store.table("main")
    _fill(t)
    rounds = []
    real = hbase_pipeline._round
    monkeypatch.setattr(hbase_pipeline, "_round", lambda client, calls:
                        rounds.append([api for api, _ in calls]) or real(client, calls))
    monkeypatch.setattr(store, "readers", 0)  # one connection: one pipeline
    ranges = [(f"k{i:04d}", f"k{i + 3:04d}") for i in range(0, 300, 5)]
    assert len(t.read(ranges=ranges, columns=["i:ndethist"]).keys) == 180 - 6  # 6 holes (k0007, k0057, ...)
    assert [(r[0], len(r)) for r in rounds] == [("scannerOpenWithScan", 60), ("scannerGetList", 60),
                                                 ("scannerClose", 60)]
    rounds.clear()  # a page of 2 rows: ranges of 3 rows ask a second page, those of 1 do not
    ranges = [(f"k{i:04d}", f"k{i + (3 if i % 10 else 1):04d}") for i in range(0, 300, 5)]
    batch = t.read(ranges=ranges, columns=["i:ndethist"], batch_size=2)
    assert batch.keys == [k for r in ranges for k in t.read(ranges=[r], columns=[]).keys]
    assert [(r[0], len(r)) for r in rounds] == [("scannerOpenWithScan", 60), ("scannerGetList", 60),
                                                 ("scannerGetList", 30), ("scannerClose", 60)]


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
def test_a_missing_table_gives_the_clear_error_and_the_pool_reads_on(store, monkeypatch):
    t = store.table("main")
    _fill(t)
    missing_table_then_reads_on(t, monkeypatch, "does not exist")


def missing_table_then_reads_on(t, monkeypatch, match: str) -> None:
    """A read of many ranges of a table that does not exist raises TableMissing (``match``);
    then every pooled connection answers its own calls again (shared with the Thrift 2 path)."""
    ranges = [(f"k{i:04d}", f"k{i + 2:04d}") for i in range(0, 40, 4)]
    want = t.read(ranges=ranges, columns=["i:ndethist"]).rows()
    monkeypatch.setattr(t, "bname", b"no_such_table_nocturne")
    with pytest.raises(TableMissing, match=match):
        t.read(ranges=ranges, columns=["i:ndethist"])
    monkeypatch.undo()
    for _ in range(3):
        assert t.read(ranges=ranges, columns=["i:ndethist"]).rows() == want


@pytest.mark.parametrize("store", ["hbase"], indirect=True)
@pytest.mark.parametrize("error", [RuntimeError("the caller's own bug"), TTransportException(message="cut")],
                         ids=["other", "transport"])
def test_a_connection_left_part_read_is_never_reused(store, monkeypatch, error):
    """Calls written, answers unread, then an error: the next read on that connection
    (the pool is last in, first out) must not take those answers for its own."""
    t = store.table("main")
    _fill(t)
    monkeypatch.setattr(store, "readers", 0)  # one pipeline, on the caller's connection
    ranges = [(f"k{i:04d}", f"k{i + 2:04d}") for i in range(0, 40, 4)]
    want = t.read(ranges=ranges, columns=["i:ndethist"]).rows()
    real, failed = hbase_pipeline._round, []

    def half_read(client, calls):
        if not failed and calls[0][0] == "scannerGetList":
            failed.append(1)
            hbase_pipeline._write(client, calls)  # written and flushed, never read
            raise error
        return real(client, calls)

    monkeypatch.setattr(hbase_pipeline, "_round", half_read)
    if isinstance(error, TTransportException):  # retried on a fresh connection, as any call is
        assert t.read(ranges=ranges, columns=["i:ndethist"]).rows() == want
    else:
        with pytest.raises(RuntimeError):
            t.read(ranges=ranges, columns=["i:ndethist"])
    assert failed
    assert t.read(ranges=ranges, columns=["i:ndethist"]).rows() == want
