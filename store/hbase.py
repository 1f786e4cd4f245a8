"""The HBase backend: happybase over Thrift, with a connection pool (:mod:`store.hbase_pool`).

A table is laid out one of two ways (:mod:`store.hbase_layout`, recorded in the store when
it is created): one cell a schema column, encoded big-endian by :func:`store.column_types.encode_cell`
so HBase's own tools read the same numbers, or one cell a family (``packed``: the embedded
store's family blob; the alert tables of a store made packed). Tables are created with the schema's
families (one version kept, row bloom filters, compression and HBase's block cache unless the
schema says ``compression: none``, as for already-gzipped cutouts: Thrift's column descriptor
leaves the block cache off unless asked, and without it every read decompresses its blocks
from disk; a store whose tables were made so is named in a warning when opened).

Every call runs through :meth:`HBaseStore._call`: a transport error is retried with
backoff until ``hbase_timeout_ms`` has passed, then raised as
:class:`~store.errors.StoreUnavailable` naming host and port. The pool replaces broken
connections, so service resumes on its own when HBase comes back.

Writes of a full batch go to sender threads (``submit``; at most one call in flight per
batch, see :class:`store.base.Batch`). A read of many ranges goes, when the store is given
HBase's Thrift 2 server (``hbase_thrift2_port``), to a few scanners carrying a
MultiRowRangeFilter (:mod:`store.hbase_multirange`); without one, it runs one scanner per
range (Thrift 1's filter language has no MultiRowRangeFilter), their calls pipelined on
``pool_size`` connections at once (:mod:`store.hbase_pipeline`).
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import happybase  # noqa: F401 (its import loads the Hbase_thrift module TScan comes from)
from Hbase_thrift import TScan
from thriftpy2.thrift import TException

from hbase_schema import Schema, TableSpec

from .base import META_ROW, Store, Table, as_bytes
from .batch import ColumnBatch, RowSource
from .column_types import ColumnValueError, check_value, decode_cell, encode_cell
from .errors import StoreError, StoreUnavailable, TableMissing
from .hbase_layout import CELLS, RECORD, PackedTable, as_cells, is_packed_payload, packed_tables
from .hbase_multirange import Thrift2Connection
from .hbase_multirange import read_ranges as read_ranges_thrift2
from .hbase_pipeline import read_ranges
from .hbase_pool import TRANSIENT, Pool, PooledConnection

_UNKNOWN = object()  # a table's layout before its first use
DEFAULT_COMPRESSION = "GZ"
log = logging.getLogger(__name__)
_WARNED: set = set()  # (host, port, table) warned of its block cache in this process


class HBaseTable(Table):
    def __init__(self, store: "HBaseStore", spec: TableSpec):
        super().__init__(store, spec)
        self.bname = self.name.encode()
        self.types = {}
        self._pack = _UNKNOWN

    @property
    def pack(self) -> PackedTable | None:
        """This table's packed layout, or None when it is one cell a column, as the store
        records it (learnt on first use: opening a table never contacts HBase)."""
        if self._pack is _UNKNOWN:
            packed = self.store.packs(self.spec.logical)
            if packed is None:  # a store not created yet: decided once it is
                return None
            self._pack = PackedTable(self.layout, self.store.schema.survey, self.spec.logical) if packed else None
        return self._pack

    def _type(self, column: bytes) -> str:
        t = self.types.get(column)
        if t is None:
            t = self.types[column] = self.spec.column(column.decode("utf-8")).type
        return t

    def _decode(self, data: dict) -> dict:
        return {c.decode("utf-8"): decode_cell(self._type(c), v) for c, v in data.items()}

    @staticmethod
    def _columns(wanted) -> list[bytes] | None:
        if wanted is None:
            return None
        cols = []
        for family, names in wanted.items():
            cols.extend([family.encode()] if names is None else [n.encode() for n in sorted(names)])
        return cols

    def _read(self, keys, ranges, wanted, limit, reverse, on_batch, batch_size):
        keys_only = wanted == {}
        pack, accept = self.pack, None
        if pack is not None and wanted:  # a family is one cell: read it whole, keep the columns asked
            columns = sorted(f.encode() for f in wanted)
            if limit is not None and any(n is not None for n in wanted.values()):
                accept = lambda cells: pack.has_any(cells, wanted)  # noqa: E731 (rows kept count to the limit)
        else:
            columns = self._columns(wanted or None)
        found: list[tuple[bytes, dict]] = []
        if keys is not None:
            def get(conn):
                return conn.table(self.bname).rows(keys, columns=columns)

            got = dict(self.store._call(get, self.name))
            found = [(k, got[k]) for k in keys if got.get(k)]
        elif len(ranges) > 1 and limit is None:  # a cone's cells, a cross-match's thousands
            many = read_ranges_thrift2 if self.store.pool2 is not None else read_ranges  # Thrift 2 if there is one
            found = many(self, [(as_bytes(a), as_bytes(b)) for a, b in ranges], columns, keys_only,
                         on_batch, batch_size)
        else:
            for start, stop in ranges:  # one scanner per range (Thrift 1 has no multi-range scan)
                found.extend(self._range(start, stop, columns, keys_only, limit and limit - len(found), reverse,
                                         on_batch, batch_size, len(found), accept))
                if limit is not None and len(found) >= limit:
                    break
        raw = [k for k, _ in found]
        if keys_only:
            return ColumnBatch(raw, {})
        if pack is not None:
            return pack.batch(found, wanted)
        return ColumnBatch(raw, source=RowSource([self._decode(data) for _, data in found], order=str.encode))

    def _range(self, start, stop, columns, keys_only, limit, reverse, on_batch, batch_size, before, accept=None):
        """``(key, cells)`` of one range, as HBase returns them (``before``: rows read already,
        for ``on_batch``; ``accept``: if given, only the rows it takes count and are kept). Its
        own loop over the scanner rather than happybase's: a page shorter than asked ends the
        scan, saving the round trip that only learns the scanner is empty."""
        start, stop = as_bytes(start), as_bytes(stop)
        if reverse:
            # HBase walks a reversed scan from row_start (inclusive) downwards; our range
            # is [start, stop), so start at stop, skip stop itself, and end below start.
            first, last = stop, None
        else:
            first, last = start, stop
        page = max(1, min(batch_size, limit or batch_size))
        tscan = TScan(startRow=first, stopRow=last, columns=columns, caching=page, reversed=reverse,
                      filterString=b"FirstKeyOnlyFilter() AND KeyOnlyFilter()" if keys_only else None)

        def scan(conn):  # (run again from the start on a dropped connection: see HBaseStore._call)
            out = []
            client = conn.client
            scanner = client.scannerOpenWithScan(self.bname, tscan, {})
            try:
                while True:
                    want = page if limit is None else min(page, limit - len(out))
                    items = client.scannerGetList(scanner, want)
                    for item in items:
                        key = item.row
                        if reverse:
                            if stop is not None and key >= stop:
                                continue
                            if start is not None and key < start:
                                return out
                        cells = {c: cell.value for c, cell in item.columns.items()}
                        if accept is not None and not accept(cells):
                            continue
                        out.append((key, cells))
                        if on_batch is not None and (before + len(out)) % batch_size == 0:
                            on_batch()
                        if limit is not None and len(out) >= limit:
                            return out
                    if len(items) < want:
                        return out
            finally:
                try:
                    client.scannerClose(scanner)
                except TRANSIENT + (TException,):
                    pass  # (a scanner left open expires on the server after its lease)

        return self.store._call(scan, self.name)

    def _prepare(self, data, groups):
        if self.pack is not None:
            return self.pack.prepare(data, groups)
        cells = {}
        for _family, names, _mask in groups:
            for name in names:
                value = data[name]
                column = name.encode()
                try:
                    cells[column] = encode_cell(self._type(column), value)
                except Exception:
                    check_value(name, self._type(column), value)
                    raise ColumnValueError(f"column {name}: cannot store {value!r}") from None
        return cells

    def _prepare_columns(self, columns, n, rows=None):
        if self.pack is None or rows is not None:
            return super()._prepare_columns(columns, n, rows)
        payloads, slow = self.pack.prepare_columns(columns, n)
        errors: dict = {}
        if slow:  # rows the column-wise path left: encoded (or refused) one by one
            redone, errors = super()._prepare_columns(columns, n, slow)
            for i in slow:
                payloads[i] = redone[i]
        return payloads, errors

    def apply(self, ops):
        ops = [op for op in ops if op[0] != "put" or op[2]]
        if self.pack is not None:
            encoded = self._resolved(ops)
        else:  # (a put encoded packed by an encoder configured so: unpacked here)
            encoded = [(op, key, (as_cells(self.layout, arg, self._type) if is_packed_payload(arg) else arg)
                        if op == "put" else self._columns(arg)) for op, key, arg in ops]
        for segment in _segments(encoded):
            self.store._send(self.bname, segment, self.name)

    def _resolved(self, ops):
        """A packed table's ops as HBase mutations, each put merged into the family cells its
        row holds (read first, only those a merge needs: :meth:`store.hbase_layout.PackedTable.to_read`)."""
        pack = self.pack
        ops = [(op, key, arg if is_packed_payload(arg) else pack.from_cells(arg, self._type)) if op == "put"
               else (op, key, arg) for op, key, arg in ops]
        by_cells: dict = {}  # the families to read -> the rows that need them (one multi-get each)
        for key, cells in pack.to_read(ops).items():
            by_cells.setdefault(cells, []).append(key)
        stored = {}
        for cells, keys in by_cells.items():
            families = sorted(c[:-1] for c in cells)

            def get(conn, keys=keys, families=families):
                return conn.table(self.bname).rows(keys, columns=families)

            stored.update((k, dict(found)) for k, found in self.store._call(get, self.name))
        return pack.resolve(ops, stored)

    def submit(self, ops):
        """``apply`` on one of the store's sender threads (a future), or here when it has none."""
        sender = self.store._sender()
        if sender is None:
            self.apply(ops)
            return None
        return sender.submit(self.apply, ops)


class HBaseStore(Store):
    """Tables on an HBase cluster (or a local standalone) reached through Thrift."""

    backend = "hbase"
    salted = True  # salt parts spread a night's writes over the regions (ARCHITECTURE.md)

    def __init__(self, schema: Schema, prefix: str, host: str, port: int, timeout_ms: int = 5000,
                 pool_size: int = 4, layout: str = CELLS, thrift2_port: int = 0):
        super().__init__(schema, prefix)
        self.new_layout = layout  # for a store created here; an existing one keeps its own (``packs``)
        self._packed: set | None = None
        self.host, self.port, self.timeout_ms = host, int(port), int(timeout_ms)
        self._last_delete = 0.0
        self.pool = Pool(pool_size, host, self.port, self.timeout_ms)
        # reads of many ranges through a Thrift 2 server, when there is one (store.hbase_multirange)
        self.thrift2_port = int(thrift2_port or 0)
        self.pool2 = Pool(pool_size, host, self.thrift2_port, self.timeout_ms, Thrift2Connection) \
            if self.thrift2_port else None
        # Writes in the background use at most pool_size - 1 connections: one stays free for
        # the reads of the thread that writes (e.g. the ingest's check of stored objects).
        self.senders = max(0, int(pool_size) - 1)
        self._executor = None
        self._executor_lock = threading.Lock()
        self.readers = int(pool_size) if pool_size > 1 else 0  # threads reading many ranges at once
        self._readers_pool = None

    @classmethod
    def encoder(cls, schema: Schema, prefix: str, layout: str) -> "HBaseStore":
        """A store whose tables only encode rows (never connecting), for the ``layout`` a new
        store gets; a writer whose store was made otherwise converts what it is sent."""
        store = cls(schema, prefix, "127.0.0.1", 9090, layout=layout)
        store._packed = set(packed_tables(schema, layout))
        return store

    def packs(self, logical: str) -> bool | None:
        """Whether ``logical`` is packed in this store, as recorded in its ``meta`` row when it
        was created (a store without the record predates the packed layout: per cell); None
        while the store has no stamp yet."""
        if logical == "meta":
            return False
        if self._packed is None:
            row = self.table("meta").row(META_ROW)
            if "m:schema_version" not in row:  # not created yet: nothing to remember
                return None
            self._packed = set(row.get(RECORD) or ())
        return logical in self._packed

    def stamp_cells(self) -> dict:
        return {RECORD: packed_tables(self.schema, self.new_layout)}

    def _reader(self):
        """The executor that reads many ranges at once (:func:`store.hbase_pipeline.read_ranges`)."""
        with self._executor_lock:
            if self._readers_pool is None:
                self._readers_pool = ThreadPoolExecutor(self.readers, thread_name_prefix="hbase-read")
            return self._readers_pool

    def _sender(self):
        """The executor of background writes (None: the pool has one connection: write here)."""
        if not self.senders:
            return None
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.senders, thread_name_prefix="hbase-send")
            return self._executor

    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _unavailable(self, exc, thrift2: bool = False) -> StoreUnavailable:
        if thrift2:
            return StoreUnavailable(
                f"HBase's Thrift 2 server unreachable at {self.host}:{self.thrift2_port}: {exc.__class__.__name__}: "
                f"{exc}. Is it running? (NOCTURNE_HBASE_THRIFT2_PORT; 0 reads many ranges through Thrift 1)")
        return StoreUnavailable(f"HBase unreachable at {self.where()} (Thrift): {exc.__class__.__name__}: {exc}. "
                                f"Is HBase with its Thrift server running? (NOCTURNE_HBASE_HOST / NOCTURNE_HBASE_PORT)")

    def _error(self, exc, table: str, thrift2: bool = False) -> StoreError:
        text = getattr(exc, "message", None) or exc
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        # Thrift 2 gives a TableNotFoundException as a TIOError holding the table's name alone
        missing = thrift2 and text == table and table.encode() not in self._call(lambda c: c.tables())
        if missing or "TableNotFoundException" in text or "TableNotFound" in text:
            return TableMissing(f"table {table} does not exist on HBase at {self.where()}; "
                                f"create it with `python -m hbase_schema create`")
        return StoreError(f"HBase at {self.where()} refused the request on {table}: {text[:300]}")

    def _connection(self, table: str = "", thrift2: bool = False):
        return PooledConnection(self.pool2 if thrift2 else self.pool)

    def _call(self, fn, table: str = "", thrift2: bool = False):
        """Run ``fn(connection)`` (a Thrift 2 one with ``thrift2``), retrying transient
        failures until the timeout passes."""
        deadline = time.monotonic() + self.timeout_ms / 1000
        delay = 0.05
        while True:
            try:
                with self._connection(table, thrift2) as conn:
                    return fn(conn)
            except TRANSIENT as exc:
                if time.monotonic() + delay > deadline:
                    raise self._unavailable(exc, thrift2) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except TException as exc:
                raise self._error(exc, table, thrift2) from None

    def _send(self, table: bytes, ops: list, name: str) -> None:
        """Send one segment of mutations in one Thrift call.

        HBase stamps cells with the server's clock in milliseconds, and a delete hides
        every cell stamped at or before it: a put sent in the same millisecond as a
        delete of its row would vanish. So a segment that puts waits until at least
        2 ms have passed since this process last sent a delete.
        """
        if any(op == "put" for op, _, _ in ops):
            wait = self._last_delete + 0.002 - time.monotonic()
            if wait > 0:
                time.sleep(wait)

        def send(conn):
            with conn.table(table).batch() as batch:
                for op, key, arg in ops:
                    if op == "put":
                        batch.put(key, arg)
                    else:
                        batch.delete(key, columns=arg)

        self._call(send, name)
        if any(op == "delete" for op, _, _ in ops):
            self._last_delete = time.monotonic()

    def _open_table(self, spec: TableSpec) -> HBaseTable:
        return HBaseTable(self, spec)

    def existing_tables(self) -> list[str]:
        names = {n.decode() for n in self._call(lambda c: c.tables())}
        return [t for t, s in self.schema.tables.items() if s.physical_name(self.prefix) in names]

    def create_tables(self) -> list[str]:
        existing = set(self.existing_tables())

        def create(logical: str) -> str:
            spec = self.schema.table(logical)
            families = {
                name: dict(max_versions=1, bloom_filter_type="ROW",
                           compression=("NONE" if f.stored_raw else DEFAULT_COMPRESSION),
                           block_cache_enabled=not f.stored_raw)
                for name, f in spec.families.items()
            }
            self._call(lambda c: c.create_table(spec.physical_name(self.prefix), families))
            return logical

        return self._each(create, [t for t in self.schema.tables if t not in existing])

    def _each(self, fn, items: list) -> list:
        """``fn`` of each item, on up to the pool's connections at once (the master runs
        several table procedures side by side: the 23 tables of a ZTF store are made in 3.8 s
        instead of 14.2–14.7 one by one, dropped in 2.6–2.7 instead of 9.8–10.0, on the local
        HBase with 4 connections)."""
        if len(items) < 2 or self.readers < 2:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(min(self.readers, len(items)), thread_name_prefix="hbase-admin") as ex:
            return list(ex.map(fn, items))

    def uncached_families(self, logical: str) -> list[str]:
        """``table:family`` of ``logical``'s families that HBase's block cache should hold but
        does not: tables created before the cache was asked for (Thrift's column descriptor
        leaves it off unless told). Empty when the table does not exist."""
        spec = self.schema.table(logical)
        name = spec.physical_name(self.prefix)
        try:
            found = self._call(lambda c: c.table(name).families(), name)
        except TableMissing:
            return []
        return [f"{name}:{fam}" for fam, f in spec.families.items()
                if not f.stored_raw and not found.get(fam.encode(), {}).get("block_cache_enabled", True)]

    def warn_if_uncached(self) -> list[str]:
        """Log, once, a warning naming the first table whose families HBase reads without its
        block cache (each random read then decompresses a block from disk: ~15× slower reads
        of 1,000 alerts measured at 1 M), with the HBase shell commands that turn it on."""
        first = next(iter(self.schema.tables))
        try:
            missing = self.uncached_families(first)
        except StoreError:  # a check, not a need: the store works without it
            return []
        where = (self.host, self.port, self.schema.table(first).physical_name(self.prefix))
        if missing and where not in _WARNED:
            _WARNED.add(where)
            tables = sorted(spec.physical_name(self.prefix) for spec in self.schema.tables.values()
                            if any(not f.stored_raw for f in spec.families.values()))
            log.warning("HBase's block cache is off for %s (tables created by an older Nocturne): every read "
                        "decompresses its blocks from disk. Turn it on in the HBase shell, for each table and "
                        "family except cutouts, e.g. alter '%s', {NAME => '%s', BLOCKCACHE => 'true'} "
                        "(tables: %s)", ", ".join(missing), missing[0].rsplit(":", 1)[0],
                        missing[0].rsplit(":", 1)[1], ", ".join(tables))
        return missing

    def drop_tables(self) -> list[str]:
        def drop(logical: str) -> str:
            name = self.schema.table(logical).physical_name(self.prefix)
            self._call(lambda c: c.delete_table(name, disable=True))
            return logical

        dropped = self._each(drop, self.existing_tables())
        self._tables.clear()
        self._packed = None
        return dropped

    def close(self) -> None:
        for pool in (self._executor, self._readers_pool):
            if pool is not None:
                pool.shutdown(wait=True)
        self._executor = self._readers_pool = None
        self.pool.close()
        if self.pool2 is not None:
            self.pool2.close()


def _segments(ops: list) -> list[list]:
    """``ops`` as few calls as their order allows (see ``_send``): each row's ops keep their
    order, and a put of a row that follows a delete of that row goes to a later call than the
    delete; other rows do not cut a call. A later night's newer diaObjects, a delete then a put
    each, are so two calls (all the deletes, then all the puts), not two a row (2,744 calls for
    5,000 alerts: 18 s of a 23 s ingest on HBase)."""
    layers: list[list] = []
    at: dict = {}  # row -> (the call of its last op, whether the row was deleted in that call)
    for op in ops:
        layer, deleted = at.get(op[1], (0, False))
        if op[0] == "put" and deleted:
            layer, deleted = layer + 1, False
        at[op[1]] = (layer, deleted or op[0] == "delete")
        if layer == len(layers):
            layers.append([])
        layers[layer].append(op)
    return layers
