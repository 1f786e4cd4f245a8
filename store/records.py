"""A records table's rows: blocks of records (issue 19: Rubin's forced photometry).

A table declared with ``records:`` (:class:`hbase_schema.model.RecordsSpec`) keeps its records
(forced sources) not as a row each but in blocks: one row per value of the row key's leading
parts (the object) and period of the records' time, each record one cell of an open family
of bytes, its qualifier the record key's own parts (``midpointMjdTai_diaForcedSourceId``), its
value the record's columns packed as a row of their own would hold them
(:class:`store.codec.FamilyCodec`). A record's key, the block's key without its period then
the qualifier, is the key it would have as a row, so readers and the ingest's dedupe see
records as they saw rows.

A put into a stored block merges cell by cell (the embedded store's ``nocturne_merge``,
HBase's own cells: the table is not packed, ``store.hbase_layout``), so a block is the union
of every put's records whatever order they come in, and a record is stored once however
many puts carry it.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyarrow as pa

from .batch import ColumnBatch
from .codec import fixed_width_qualifiers
from .keys import RowKey, format_mjd


class Records:
    """The records of one table of a store (``Table.records``)."""

    def __init__(self, table):
        spec = table.spec
        self.spec = spec.records
        self.table, self.family, self.of = table, self.spec.family, self.spec.of
        self.codec = table.layout.codecs[self.of]
        self.sep = table.keys.sep
        self.keys = RowKey(replace(spec, row_key=spec.row_key[:-1] + self.spec.key), self.sep, table.keys.salted)
        self.lead = len(spec.row_key) - 1 - sum(p.kind == "salt" for p in spec.row_key)  # parts before the period
        self.own = len(self.spec.key)  # parts of the qualifier
        self.encoder = RecordEncoder(self)
        self._periods: dict = {}  # a record time's day (key text) -> its period's first day (key text)

    def start(self, time: float) -> float:
        """The first day of the period holding ``time`` (an MJD)."""
        return math.floor(time / self.spec.days) * self.spec.days

    def blocks(self, rows: list) -> list[tuple[str, object, int]]:
        """``(record key, packed record)`` rows as ``(block key, payload, records)`` puts, in
        key order; a record key twice keeps its first value."""
        if not rows:
            return []
        got = self._fixed_width_blocks(rows)
        if got is None:
            got = self._blocks_one_by_one(rows)
        encode = self.table.encode_family
        return [(block, encode(self.family, qualifiers, values), len(values)) for block, qualifiers, values in got]

    def _fixed_width_blocks(self, rows: list) -> list | None:
        """``(block key, qualifiers, values)`` per block, found in numpy when every record key
        has one width and its separators and decimal point where the first key has them (the
        workers' keys, ``RowKey.build_columns``); None otherwise, or for a key met twice."""
        keys = [k for k, _ in rows]
        first, n, sep = keys[0], len(keys), self.sep
        text = "".join(keys)
        if len(text) != n * len(first) or not text.isascii() or len(sep) != 1:
            return None
        chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(n, len(first))
        seps = np.frombuffer(first.encode("ascii"), dtype=np.uint8) == ord(sep)
        head = len(first.rsplit(sep, self.own)[0])  # the record's own parts start after it
        dot = first.find(".", head + 1)
        if dot < 0 or not np.array_equal(chars == ord(sep), np.broadcast_to(seps, chars.shape)) \
                or not (chars[:, dot] == ord(".")).all():
            return None
        digits = chars[:, head + 1:dot].astype(np.int64) - ord("0")
        if digits.min(initial=0) < 0 or digits.max(initial=0) > 9:
            return None
        day = digits @ (10 ** np.arange(dot - head - 2, -1, -1, dtype=np.int64))
        period = day // self.spec.days  # (whole days: a time's period depends on its day alone)
        whole = chars.view(f"S{len(first)}").ravel()
        order = np.argsort(whole, kind="stable")  # key order: object, then time (so period), then id
        ordered = whole[order]
        if n > 1 and (ordered[1:] == ordered[:-1]).any():
            return None
        heads, period = chars[order, :head], period[order]
        new = np.ones(n, dtype=bool)
        new[1:] = (heads[1:] != heads[:-1]).any(axis=1) | (period[1:] != period[:-1])
        bounds = np.append(np.flatnonzero(new), n).tolist()
        width = len(first) - head - 1
        own = chars[order, head + 1:].tobytes()
        qualifiers = [own[i:i + width] for i in range(0, n * width, width)]
        values = [rows[i][1] for i in order.tolist()]
        out = []
        for a, b in zip(bounds, bounds[1:]):
            block = keys[order[a]][:head] + sep + format_mjd(int(period[a]) * self.spec.days)
            out.append((block, qualifiers[a:b], values[a:b]))
        return out

    def _blocks_one_by_one(self, rows: list) -> list:
        sep, own, periods = self.sep, self.own, self._periods
        cells: dict = {}
        for key, blob in rows:
            parts = key.rsplit(sep, own)
            head, time = parts[0], parts[1]
            day = time.partition(".")[0]  # (the period depends on the day alone: periods are whole days)
            period = periods.get(day)
            if period is None:
                period = periods[day] = format_mjd(self.start(float(time)))
            block = head + sep + period
            got = cells.get(block)
            if got is None:
                got = cells[block] = {}
            got.setdefault(key[len(head) + 1:].encode(), blob)
        out = []
        for block in sorted(cells):
            got = cells[block]
            qualifiers = sorted(got)
            out.append((block, qualifiers, [got[q] for q in qualifiers]))
        return out

    def put(self, records: list[dict]) -> None:
        """Store ``records``, each its ``of`` family's cells (its key parts among them, by name)."""
        names = [f"{self.of}:{p.name}" for p in self.keys.parts]
        rows = [(self.keys.build(*(r[n] for n in names)), self.encoder.encode(r)) for r in records]
        with self.table.batch() as b:
            for key, payload, _ in self.blocks(rows):
                b.put_encoded(key, payload)

    def read(self, prefixes: list[tuple] = (), columns=None, on_batch=None, ranges=None) -> ColumnBatch:
        """The records whose key starts with each of ``prefixes`` (the leading values, the
        object, optionally then a time: as ``RowKey.span``), and those of the blocks in
        ``ranges`` (of block keys, as :meth:`Table.read` takes them), in key order, as a table
        of rows would return them: record keys, the ``of`` family's ``columns`` (names or the
        family; None: all)."""
        ranges, blocks, starts = list(ranges or ()), [], []
        for values in prefixes:
            if len(values) <= self.lead:
                ranges.append(self.table.keys.span(*values))
            else:  # one block, then its records at that time
                blocks.append(self.table.keys.build(*values[:self.lead], self.start(float(values[self.lead]))))
                starts.append(self.keys.prefix(*values))
        keys, blobs = [], []
        if ranges:
            keys, blobs = self._cells(self.table.read(ranges=ranges, columns=[self.family], on_batch=on_batch))
        if blocks:
            found = self.table.read(keys=sorted(set(blocks)), columns=[self.family], on_batch=on_batch)
            got, their = self._cells(found)
            kept = [i for i, k in enumerate(got) if k.startswith(tuple(starts))]
            keys, blobs = keys + [got[i] for i in kept], blobs + [their[i] for i in kept]
            if ranges:  # (two reads: back in key order)
                order = sorted(range(len(keys)), key=keys.__getitem__)
                keys, blobs = [keys[i] for i in order], [blobs[i] for i in order]
        present: dict = {}
        decoded = self.codec.decode_columns(blobs, self._wanted(columns), None, present) if blobs else {}
        return ColumnBatch([k.encode("utf-8") for k in keys], decoded, present)

    def keys_in(self, ranges) -> list[str]:
        """The record keys the blocks in ``ranges`` hold, in key order."""
        return self.key_array(ranges).to_pylist()

    def key_array(self, ranges) -> pa.StringArray:
        """The record keys the blocks in ``ranges`` hold, in key order, as one Arrow array (the
        ingest's dedupe, ``ingest.rubin.stored``: parsed into numbers without a string each)."""
        batch = self.table.read(ranges=ranges, columns=[self.family])
        got = self._packed_keys(batch)
        return got if got is not None else pa.array(self._cells(batch)[0], type=pa.string())

    def _packed_keys(self, batch: ColumnBatch) -> pa.StringArray | None:
        """The record keys of blocks read as packed blobs (``store.codec.pack_cells``) whose
        qualifiers have one width and whose keys one length, taken from the blobs' qualifier
        bytes without unpacking the cells (a later Rubin night reads ~2,500 blocks of ~70
        forced sources a unit: unpacked, that was a quarter of a worker's time); None for
        any other batch (then :meth:`_cells`)."""
        blobs = batch.blobs_of(self.family)
        if blobs is None:
            return None
        sep = self.sep.encode()
        heads, regions, counts = [], [], []
        width = None
        for key, blob in zip(batch.raw_keys, blobs):
            if blob is None:
                continue
            got = fixed_width_qualifiers(blob)
            if got is None or (width is not None and got[0] != width):  # (one width in every block)
                return None
            width, n, region = got
            regions.append(region)
            heads.append(key[:key.rindex(sep) + 1])
            counts.append(n)
        if not heads:
            return pa.array([], type=pa.string())
        head = len(heads[0])
        text = b"".join(heads)
        if len(text) != head * len(heads):
            return None
        total = sum(counts)
        chars = np.empty((total, head + width), dtype=np.uint8)
        chars[:, :head] = np.repeat(np.frombuffer(text, dtype=np.uint8).reshape(len(heads), head), counts, axis=0)
        chars[:, head:] = np.frombuffer(b"".join(regions), dtype=np.uint8).reshape(total, width)
        if chars.max(initial=0) >= 0x80:  # (not ASCII: the strings decide)
            return None
        offsets = np.arange(total + 1, dtype=np.int32) * (head + width)
        return pa.StringArray.from_buffers(total, pa.py_buffer(offsets), pa.py_buffer(chars))

    def _cells(self, batch: ColumnBatch) -> tuple[list, list]:
        keys, blobs, skip = [], [], len(self.family) + 1
        for key, cells in batch.rows():
            head = key.rsplit(self.sep, 1)[0] + self.sep
            for name in sorted(cells):
                keys.append(head + name[skip:])
                blobs.append(cells[name])
        return keys, blobs

    def _wanted(self, columns) -> set | None:
        """The ``of`` family's names ``columns`` ask for (None: all), as ``Layout.projection`` reads them."""
        wanted = self.table.layout.projection(columns)
        return None if wanted is None else wanted.get(self.of, set())


class RecordEncoder:
    """What the ingest's list rows (``ingest.rubin.lists.ListRows``) need of a table, for the
    records of a records table: their keys (``keys``), their checks, and each record packed
    (the ``of`` family's blob, not a put: :meth:`Records.blocks` makes the puts)."""

    def __init__(self, records: Records):
        self.records, self.keys = records, records.keys
        self.layout, self.codec = records.table.layout, records.codec

    def check_columns(self, columns: dict, n: int) -> dict:
        return self.records.table.check_columns(columns, n)

    def encode(self, cells: dict) -> bytes:
        data, groups = self.layout.split(cells)
        if [g[0] for g in groups] != [self.codec.family]:
            raise ValueError(f"a record holds columns of family {self.codec.family} only, not {sorted(cells)}")
        return self.codec.encode(data, groups[0][2])

    def encode_columns(self, columns: dict, n: int) -> tuple[list, dict]:
        """Each record packed (None for one in ``errors``), and row -> the exception refusing it."""
        self.layout.split(dict.fromkeys(columns, 0))  # an unknown column raises here, naming it
        blobs, left = self.codec.encode_columns(columns, n)
        errors: dict = {}
        for i in np.flatnonzero(left).tolist():  # rows the column-wise path leaves: one by one
            cells = {}
            for name, (values, present) in columns.items():
                if present[i]:
                    value = values[i]
                    cells[name] = value.item() if hasattr(value, "item") else value
            try:
                blobs[i] = self.encode(cells)
            except (ValueError, TypeError) as exc:
                blobs[i], errors[i] = None, exc
        return blobs, errors
