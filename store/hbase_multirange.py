"""Many key ranges read with a few scanners: Thrift 2 scans carrying a ``MultiRowRangeFilter``.

Thrift 1 (happybase's protocol) opens one scanner a range (:mod:`store.hbase_pipeline`), and a
scanner costs the servers ~0.2–0.4 ms whatever it reads, which is most of a cross-match's time.
A Thrift 2 server takes a scan with a serialised filter (:mod:`store.hbase_filters`), so here the
ranges, sorted and joined where they overlap, are cut into at most ``readers`` runs of
neighbouring ranges, and each run is read by ONE scanner from its first start to its last stop
that skips between the ranges on the server (the filter seeks to the next range). The runs go
to the store's reader threads, one Thrift 2 connection each.

The rows come back in key order; they are then handed out range by range in the order asked
(a row in two overlapping ranges is returned for each, as one scanner a range would), so this
read answers exactly what :func:`store.hbase_pipeline.read_ranges` answers.

Used when the store is given a Thrift 2 port (``hbase_thrift2_port``); the Thrift 1 server
stays the store's path for everything else (happybase).
"""
from __future__ import annotations

from bisect import bisect_left
from pathlib import Path

import thriftpy2
from thriftpy2.protocol import TBinaryProtocol
from thriftpy2.thrift import TClient
from thriftpy2.transport import TBufferedTransport, TSocket

from .hbase_filters import ranges_filter
from .hbase_pipeline import gather

thrift2 = thriftpy2.load(str(Path(__file__).with_name("hbase_thrift2.thrift")), module_name="hbase_thrift2_thrift")

RUN = 8  # ranges a scanner takes at least before the read is spread over more of them


class Thrift2Connection:
    """A connection to HBase's Thrift 2 server, opened and refreshed as the store's pool does
    a happybase connection (``open``, ``close``, ``_refresh_thrift_client``, ``transport``)."""

    def __init__(self, host: str, port: int, timeout: int, autoconnect: bool = False):
        self.host, self.port, self.timeout = host, port, timeout
        self._refresh_thrift_client()
        if autoconnect:
            self.open()

    def _refresh_thrift_client(self) -> None:
        self.transport = TBufferedTransport(TSocket(host=self.host, port=self.port, socket_timeout=self.timeout))
        self.client = TClient(thrift2.THBaseService, TBinaryProtocol(self.transport, decode_response=False))

    def open(self) -> None:
        if not self.transport.is_open():
            self.transport.open()

    def close(self) -> None:
        if self.transport.is_open():
            self.transport.close()


def read_ranges(table, ranges, columns, keys_only: bool, on_batch, batch_size: int) -> list[tuple[bytes, dict]]:
    """``(key, cells)`` of every row of every range of ``table`` (an ``HBaseTable``), range by
    range in the order asked; ``on_batch`` after every ``batch_size`` rows, as they arrive."""
    store = table.store
    page = max(1, batch_size)
    wanted = [_column(c) for c in columns] if columns else None
    runs = _runs(_union(ranges), store.readers)

    def read(run):
        scan = thrift2.TScan(startRow=run[0][0] or b"", stopRow=run[-1][1] or b"", columns=wanted, caching=page,
                             filterBytes=ranges_filter(run, keys_only))
        return store._call(lambda conn: _scan(conn.client, table.bname, scan, page), table.bname.decode(),
                           thrift2=True)

    found = gather(store, read, runs, on_batch, batch_size)
    return _by_range(found, ranges)


def _scan(client, table: bytes, scan, page: int) -> list[tuple[bytes, dict]]:
    """Every row of one scanner, ``page`` rows a call (a shorter page is its last)."""
    scanner = client.openScanner(table, scan)
    rows = []
    try:
        while True:
            got = client.getScannerRows(scanner, page)
            rows.extend((r.row, {c.family + b":" + c.qualifier: c.value for c in r.columnValues}) for r in got)
            if len(got) < page:
                break
    finally:
        try:
            client.closeScanner(scanner)
        except Exception:  # a broken connection: the server drops the scanner at its lease's end
            pass
    return rows


def _column(name: bytes):
    family, _, qualifier = name.partition(b":")
    return thrift2.TColumn(family=family, qualifier=qualifier or None)


def _union(ranges) -> list[tuple[bytes, bytes | None]]:
    """``ranges`` (``[start, stop)``, None for an open end) sorted, those that overlap or touch
    joined: disjoint runs of keys, in key order."""
    joined: list[list] = []
    for start, stop in sorted(ranges, key=lambda r: r[0] or b""):
        start = start or b""
        if joined and (joined[-1][1] is None or start <= joined[-1][1]):
            if joined[-1][1] is not None and (stop is None or stop > joined[-1][1]):
                joined[-1][1] = stop
        else:
            joined.append([start, stop])
    return [(a, b) for a, b in joined]


def _runs(ranges: list, readers: int) -> list[list]:
    """``ranges`` (disjoint, in key order) cut into at most ``readers`` runs of neighbours, a
    run at least ``RUN`` ranges (one scanner a run)."""
    count = max(1, min(readers or 1, len(ranges) // RUN))
    cuts = [len(ranges) * i // count for i in range(count + 1)]
    return [ranges[a:b] for a, b in zip(cuts, cuts[1:])]


def _by_range(rows: list, ranges) -> list:
    """``rows`` (in key order) handed out range by range, in the order of ``ranges``."""
    keys = [k for k, _ in rows]
    out = []
    for start, stop in ranges:
        first = bisect_left(keys, start) if start else 0
        last = bisect_left(keys, stop) if stop is not None else len(keys)
        out.extend(rows[first:last])
    return out
