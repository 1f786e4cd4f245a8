"""Many key ranges read over Thrift 1 in a few round trips: the calls pipelined on a connection.

Thrift 1 has no multi-range scan, so each range is still its own scanner (open, read, close).
But the Thrift server answers a connection's calls one after another, in the order they came,
so a client may write many calls before it reads the answers. A chunk of ranges is read in
three rounds, each one write of all its calls then one read of all their answers: every
``scannerOpenWithScan``, every ``scannerGetList`` (again for the scanners whose page came back
full), every ``scannerClose``. The chunks go to the store's reader threads, one connection
each, and the rows come back range by range in the order asked.

Writing never waits on answers left unread: a round's calls are small (a chunk is at most
``CHUNK`` ranges, a few tens of KB of calls), and the only large answers (pages of rows) answer
calls of a few bytes. A connection left part-read (an error, a dropped socket, an exception in
the caller's code) is never reused: it is closed and given a new socket before it returns to
the pool. Scanners left open on an error expire on the server after their lease.
"""
from __future__ import annotations

import happybase  # noqa: F401 (it loads the Hbase_thrift module)
from Hbase_thrift import TScan
from thriftpy2.thrift import TMessageType

CHUNK = 256  # ranges a pipeline holds at most
KEYS_ONLY = b"FirstKeyOnlyFilter() AND KeyOnlyFilter()"


def read_ranges(table, ranges, columns, keys_only: bool, on_batch, batch_size: int) -> list[tuple[bytes, dict]]:
    """``(key, cells)`` of every row of every range of ``table`` (an ``HBaseTable``), range by
    range in the order asked; ``on_batch`` after every ``batch_size`` rows, as they arrive."""
    store = table.store
    page = max(1, batch_size)
    scans = [TScan(startRow=start, stopRow=stop, columns=columns, caching=page,
                   filterString=KEYS_ONLY if keys_only else None) for start, stop in ranges]
    size = max(1, min(CHUNK, -(-len(scans) // max(1, store.readers))))
    chunks = [scans[i:i + size] for i in range(0, len(scans), size)]

    def read(chunk):
        return store._call(lambda conn: _pipeline(conn, table.bname, chunk, page), table.name)

    return gather(store, read, chunks, on_batch, batch_size)


def gather(store, read, parts: list, on_batch, batch_size: int) -> list:
    """The rows of every part (``read(part)``, on the store's reader threads when there are
    several parts), in the order of ``parts``; ``on_batch`` after every ``batch_size`` rows, as
    they arrive; an error cancels the parts not started."""
    found, mark = [], batch_size
    if len(parts) == 1 or not store.readers:
        results = map(read, parts)
        jobs = []
    else:
        jobs = [store._reader().submit(read, part) for part in parts]
        results = (job.result() for job in jobs)
    try:
        for rows in results:
            found.extend(rows)
            while on_batch is not None and len(found) >= mark:
                on_batch()
                mark += batch_size
    except BaseException:
        for job in jobs:
            job.cancel()
        raise
    return found


def _pipeline(conn, table: bytes, scans: list, page: int) -> list[tuple[bytes, dict]]:
    """The rows of ``scans`` (one scanner each) read on ``conn`` in three or more rounds."""
    client = conn.client
    try:
        ids = _round(client, [("scannerOpenWithScan", dict(tableName=table, scan=s, attributes={}))
                              for s in scans])
        rows: list[list] = [[] for _ in scans]
        reading = list(range(len(scans)))
        while reading:  # a full page may have more behind it: ask again, those scanners only
            pages = _round(client, [("scannerGetList", dict(id=ids[i], nbRows=page)) for i in reading])
            for i, items in zip(reading, pages):
                rows[i].extend((item.row, {c: cell.value for c, cell in item.columns.items()}) for item in items)
            reading = [i for i, items in zip(reading, pages) if len(items) >= page]
        _round(client, [("scannerClose", dict(id=i)) for i in ids])
    except BaseException:
        _discard(conn)
        raise
    return [row for found in rows for row in found]


def _round(client, calls: list[tuple[str, dict]]) -> list:
    """Write every call, then read their answers in order (an answer that is an error raises
    it, the rest left unread: the caller discards the connection)."""
    _write(client, calls)
    return [client._recv(api) for api, _ in calls]


def _write(client, calls: list[tuple[str, dict]]) -> None:
    """Every call written, then one flush (thriftpy2's ``TClient._send`` flushes each call)."""
    service, out = client._service, client._oprot
    for api, kwargs in calls:
        out.write_message_begin(api, TMessageType.CALL, client._seqid)
        getattr(service, api + "_args")(**kwargs).write(out)
        out.write_message_end()
    out.trans.flush()


def _discard(conn) -> None:
    """Close ``conn`` and give it a fresh socket: answers may be left unread on the old one."""
    try:
        conn.close()
    except Exception:
        pass
    conn._refresh_thrift_client()
