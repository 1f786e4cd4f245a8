"""Read Rubin alert packets: Avro object-container files, Confluent wire-format messages, Fink Parquet.

- Avro container (``Obj\\x01`` magic, one alert or many, any codec fastavro reads): the writer
  schema is the file's own header (``ingest.avro_files``).
- A single Confluent wire-format message (magic byte 0, a 4-byte big-endian schema id, then
  the Avro body), saved as a ``.avro`` file: the writer schema comes from ``schema``, a
  ``.avsc`` file or a folder of them, picked by id (``<id>.avsc``, or a file whose name holds
  ``<id>``) or, when the folder holds one schema, that one. Nocturne ships no Rubin schema
  (Rubin's schema package is GPL-3): the operator gives the one the stream was written with.
- Fink's Parquet (what its data-transfer service delivers): columns ``diaSource``, ``diaObject``...
  The list fields (``prvDiaSources``, ``prvDiaForcedSources``: most of an alert's values) stay
  Arrow arrays, one slice per packet, read column-wise by ``ingest.rubin.lists``; :func:`plain`
  turns them into lists for a packet that goes to quarantine.

Parquet files are cut and grouped into units of at most ``UNIT_ALERTS`` rows (alerts) whatever
their row groups (:func:`split_units`): the simulator writes row groups of ~2,600 alerts, and a
delivery's row groups are its writer's choice. A unit's alerts are what a worker holds (their
encoded rows, hundreds an alert) until the writer takes them, so this bounds the ingest's
memory; a worker reading the next part of the same file continues where it stopped
(:class:`_Cursor`) instead of decoding the row group again from its start.

Records are read by field name; fields a schema version adds are ignored, fields it lacks are
absent. Every packet comes back as :class:`ingest.readers.Packet`; a file that cannot be read
is one packet with ``error`` set (quarantined with its bytes), as for ZTF.
"""
from __future__ import annotations

import bisect
import io
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Iterator

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq

from .. import avro_files
from ..readers import QUARANTINE_MAX_BYTES, Packet, file_kind
from .py_values import py_values

log = logging.getLogger("nocturne.ingest")
OCF_MAGIC = b"Obj\x01"
WIRE_MAGIC = b"\x00"
ALERT_FIELDS = {"diaSource"}  # what makes a record (or a Parquet file) a Rubin alert
LIST_FIELDS = ("prvDiaSources", "prvDiaForcedSources")  # read from Parquet as Arrow arrays, not lists


UNIT_ALERTS = 500   # most rows (alerts) of a Parquet unit of work (ingest.plan): bounds each unit's memory
UNIT_BYTES = 24 << 20  # most decoded bytes (Parquet's uncompressed size) of a unit: alerts with cutouts
#                        (~125 KB each, 10x one without) come in units of ~200 alerts, not 500 (issue 19)
BATCH_ROWS = 256    # most rows decoded from Parquet at a time
BATCH_BYTES = 8 << 20  # and about this many decoded bytes: alerts with cutouts come ~66 at a time, not 256
#                        (a worker's Arrow pool peaked ~55 MB lower on a first night with cutouts, issue 19)
STREAM_BYTES = 64 << 10  # a column chunk is read this much at a time, not whole (below)


def open_parquet(file: Path) -> pq.ParquetFile:
    """``file`` for reading its rows: each column chunk streamed ``STREAM_BYTES`` at a time
    rather than read whole into memory first (a Rubin row group's ~200 leaf columns held
    ~27 MB more in a worker's Arrow pool, the same CPU; issue 19)."""
    return pq.ParquetFile(file, buffer_size=STREAM_BYTES, pre_buffer=False)


@dataclass(frozen=True)
class ParquetPart:
    """Rows ``[start, stop)`` of a Parquet file (positions from its first row): a unit of work."""
    path: Path
    start: int
    stop: int


def split_units(units: list[list[Path]], unit_bytes: int = 0, alerts: int | None = None) -> list[list]:
    """``units`` with their Parquet files regrouped into units of at most ``alerts`` rows
    (default ``UNIT_ALERTS``) and about ``UNIT_BYTES`` decoded bytes, in file order: small files
    whole, a bigger file cut into :class:`ParquetPart` slices of its own, whatever its row groups. A file whose
    footer cannot be read stays whole (reading it then reports why); other files stay in their
    unit. (``unit_bytes``: the plan's byte bound, already applied to ``units``.)"""
    limit = max(1, alerts or UNIT_ALERTS)
    out = []
    for unit in units:
        if not any(file_kind(f.name) == "parquet" for f in unit):
            out.append(unit)
            continue
        current, rows, held = [], 0, 0
        for f in unit:
            shape = _shape(f) if file_kind(f.name) == "parquet" else None
            n, size = (1, 0) if shape is None else shape
            step = limit if size <= 0 else max(1, min(limit, UNIT_BYTES * n // size))  # rows a unit may take
            if n > step:
                if current:
                    out.append(current)
                    current, rows, held = [], 0, 0
                out.extend([ParquetPart(f, s, min(n, s + step))] for s in range(0, n, step))
                continue
            if current and (rows + n > limit or held + size > UNIT_BYTES):
                out.append(current)
                current, rows, held = [], 0, 0
            current.append(f)
            rows, held = rows + n, held + size
        if current:
            out.append(current)
    return out


def decoded_bytes(meta) -> int:
    """Parquet's uncompressed size of the file whose footer is ``meta`` (its row groups')."""
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))


def batch_rows(meta) -> int:
    """Rows a batch of the Parquet file whose footer is ``meta`` holds: ``BATCH_ROWS``, fewer
    when its rows are big (about ``BATCH_BYTES`` decoded a batch, at least 16 rows)."""
    size = decoded_bytes(meta)
    if meta.num_rows <= 0 or size <= 0:
        return BATCH_ROWS
    return max(16, min(BATCH_ROWS, BATCH_BYTES * meta.num_rows // size))


def _shape(file: Path) -> tuple[int, int] | None:
    """(rows, decoded bytes) of a Parquet file, from its footer; None when it cannot be read."""
    try:
        meta = pq.ParquetFile(file).metadata
    except Exception:  # pyarrow raises ArrowInvalid, OSError...: the reader reports it
        return None
    return meta.num_rows, decoded_bytes(meta)


def packets_of(files: list, schema: Path | None = None) -> Iterator[Packet]:
    """Every packet of ``files`` (paths, or :class:`ParquetPart`), in order (sorted paths, then
    position in file)."""
    for file in files:
        if isinstance(file, ParquetPart):
            yield from _parquet_packets(file.path, file)
            continue
        if file_kind(file.name) == "parquet":
            yield from _parquet_packets(file)
            continue
        try:
            data = file.read_bytes()
        except OSError as exc:
            yield Packet(str(file), 0, None, f"unreadable file: {exc.strerror}", whole_file=file)
            continue
        if data[:1] == WIRE_MAGIC:
            yield _wire_packet(str(file), data, schema)
        else:
            yield from _container_packets(str(file), data, file)


def plain(packet: Packet) -> Packet:
    """``packet`` with its Arrow list fields as Python lists (for the quarantine's JSON)."""
    record = packet.record
    if isinstance(record, dict) and any(isinstance(record.get(n), pa.Array) for n in LIST_FIELDS):
        packet.record = {k: v.to_pylist() if isinstance(v, pa.Array) else v for k, v in record.items()}
    return packet


def is_rubin_file(file: Path) -> bool | None:
    """True for a Rubin alert file, False for another survey's, None when it cannot tell."""
    try:
        if file_kind(file.name) == "parquet":
            return bool(ALERT_FIELDS & set(pq.ParquetFile(file).schema_arrow.names))
        if file_kind(file.name) != "avro":
            return False
        with open(file, "rb") as fh:
            head = fh.read(64 * 1024)
    except Exception:
        return None
    if head[:1] == WIRE_MAGIC:
        return True  # ZTF publishes no wire-format files
    text = avro_files.schema_text(head)
    if text is None:
        return None
    return b'"diaSource"' in text


def _container_packets(source: str, data: bytes, file: Path | None) -> Iterator[Packet]:
    n = 0
    try:
        for record in avro_files.records(data):
            yield Packet(source, n, record, size=len(data) if n == 0 else 0)
            n += 1
    except Exception as exc:  # fastavro raises many kinds on damaged input
        reason = (f"damaged Avro after {n} readable record(s)" if n else "unreadable Avro") + \
            f" ({type(exc).__name__}: {exc})"
        small = len(data) <= QUARANTINE_MAX_BYTES
        yield Packet(source, n, None, reason, raw=data if small else None, whole_file=None if small else file,
                     size=len(data) if n == 0 else 0)
        return
    if n == 0:
        yield Packet(source, 0, None, "Avro file holds no record", raw=data, size=len(data))


def _wire_packet(source: str, data: bytes, schema: Path | None) -> Packet:
    if len(data) < 5:
        return Packet(source, 0, None, "Confluent wire message shorter than its 5-byte header", raw=data,
                      size=len(data))
    schema_id = int.from_bytes(data[1:5], "big")
    try:
        parsed = writer_schema(schema, schema_id)
    except LookupError as exc:
        return Packet(source, 0, None, str(exc), raw=data, size=len(data))
    try:
        body = io.BytesIO(data[5:])
        record = fastavro.schemaless_reader(body, parsed)
        if body.tell() != len(data) - 5:
            raise ValueError(f"{len(data) - 5 - body.tell()} byte(s) left after the record")
    except Exception as exc:
        return Packet(source, 0, None, f"unreadable Confluent wire message (schema id {schema_id}): "
                                       f"{type(exc).__name__}: {exc}", raw=data, size=len(data))
    return Packet(source, 0, record, size=len(data))


def writer_schema(schema: Path | None, schema_id: int):
    """The parsed writer schema of id ``schema_id`` from ``schema`` (a .avsc file or a folder);
    LookupError saying what is missing."""
    if schema is None:
        raise LookupError(f"a Confluent wire message (schema id {schema_id}) needs its writer schema: "
                          f"give --schema FILE.avsc or a folder of .avsc files")
    return _load(str(_schema_file(Path(schema), schema_id)))


def _schema_file(schema: Path, schema_id: int) -> Path:
    if schema.is_file():
        return schema
    found = sorted(schema.glob("*.avsc")) if schema.is_dir() else []
    if not found:
        raise LookupError(f"no .avsc schema in {schema} for schema id {schema_id}")
    exact = [p for p in found if p.stem == str(schema_id)] or \
            [p for p in found if str(schema_id) in p.stem.replace("-", "_").split("_")]
    if len(exact) == 1:
        return exact[0]
    if len(found) == 1:
        return found[0]
    raise LookupError(f"schema id {schema_id}: none of the {len(found)} .avsc files in {schema} is named for it "
                      f"(<id>.avsc)")


@lru_cache(maxsize=32)
def _load(path: str):
    try:
        return fastavro.parse_schema(json.loads(Path(path).read_text()))
    except (OSError, ValueError, fastavro.schema.SchemaParseException) as exc:
        raise LookupError(f"cannot read the writer schema {path}: {exc}") from None


def rows_of(batch: pa.RecordBatch) -> list[dict]:
    """``batch.to_pylist()``, built column by column: each leaf array becomes a Python list at
    once and the dicts are zipped from them (pyarrow's ``to_pylist`` converts a struct value
    by value: twice the time for Rubin's wide diaSource and diaObject structs)."""
    names = batch.schema.names
    return [dict(zip(names, values)) for values in zip(*(_values(c) for c in batch.columns))]


def _values(array: pa.Array) -> list:
    if not pa.types.is_struct(array.type) or not array.type.num_fields:
        return py_values(array)
    names = [f.name for f in array.type]
    rows = [dict(zip(names, values)) for values in zip(*(_values(array.field(i)) for i in range(len(names))))]
    if array.null_count:
        rows = [r if ok else None for r, ok in zip(rows, array.is_valid().to_pylist())]
    return rows


@dataclass
class ParquetBatch:
    """Rows of a Parquet file as Arrow, for the column-wise path (``ingest.rubin.columns``):
    ``batch`` (its list fields included), the file position of its first row, and the bytes
    it stands for (the file's, or the part's, with its first batch). Rows joined from several
    files (``ingest.rubin.prepare.joined``) say where each file's run begins: ``parts``,
    ``((source, start, rows), ...)`` in order; ``source`` and ``start`` are then the first's."""
    source: str
    start: int
    batch: pa.RecordBatch
    size: int = 0
    parts: tuple = ()

    def __post_init__(self):
        self._firsts = list(accumulate((rows for _, _, rows in self.parts), initial=0))

    def origin(self, row: int) -> tuple[str, int]:
        """The file of the batch's row ``row`` and its position there."""
        if not self.parts:
            return self.source, self.start + row
        at = bisect.bisect_right(self._firsts, row) - 1
        source, start, _ = self.parts[at]
        return source, start + row - self._firsts[at]

    def pieces(self) -> list[tuple[int, "ParquetBatch"]]:
        """The batch cut back into one batch a file, each with the position of its first row
        here: ``[(0, self)]`` when it holds one file's rows (their bytes were counted here)."""
        if not self.parts:
            return [(0, self)]
        return [(first, ParquetBatch(source, start, self.batch.slice(first, rows)))
                for (source, start, rows), first in zip(self.parts, self._firsts)]

    def packets(self, rows=None) -> Iterator[Packet]:
        """The packets of ``rows`` (positions in the batch; default all) as the dict path reads
        them: the record a dict, its list fields Arrow slices."""
        whole = rows is None
        batch = self.batch if whole else self.batch.take(pa.array(rows, pa.int64()))
        rows = range(batch.num_rows) if whole else rows
        lists = [name for name in LIST_FIELDS if name in batch.schema.names]
        records = rows_of(batch.drop_columns(lists))
        for name in lists:  # Arrow arrays as they are: ingest.rubin.lists reads them column-wise
            for record, items in zip(records, list_slices(batch.column(name))):
                record[name] = items
        for i, (r, record) in enumerate(zip(rows, records)):
            yield Packet(*self.origin(r), record, size=self.size if whole and i == 0 else 0, typed=False)


def list_slices(column: pa.Array) -> list:
    """Each row's slice of a list column (None where the list is null)."""
    offsets = column.offsets.to_numpy()
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    values = column.values
    return [values.slice(offsets[i], offsets[i + 1] - offsets[i]) if valid[i] else None for i in range(len(column))]


def batches_of(files: list, schema: Path | None = None) -> Iterator:
    """What :func:`packets_of` reads, with Parquet's rows as :class:`ParquetBatch` (for the
    column-wise path) and everything else (and an unreadable Parquet file) as packets."""
    for file in files:
        if isinstance(file, ParquetPart):
            yield from _parquet_batches(file.path, file)
        elif file_kind(file.name) == "parquet":
            yield from _parquet_batches(file)
        else:
            yield from packets_of([file], schema)


def _parquet_packets(file: Path, part: ParquetPart | None = None) -> Iterator[Packet]:
    for item in _parquet_batches(file, part):
        if not isinstance(item, ParquetBatch):
            yield item
            continue
        try:
            packets = list(item.packets())
        except Exception as exc:  # pyarrow raises ArrowInvalid...
            _Cursor.current = None
            yield Packet(str(file), item.start, None, f"unreadable Parquet after {item.start} record(s) "
                                                      f"({type(exc).__name__}: {exc})", whole_file=file)
            return
        yield from packets


def _parquet_batches(file: Path, part: ParquetPart | None = None) -> Iterator:
    """The batches of ``file`` (of ``part``'s rows only: positions count from the file's first
    row, and the part's share of the file's bytes goes with its first batch); a packet with
    ``error`` set for what cannot be read."""
    n = part.start if part is not None else 0
    try:
        if part is None:
            pf = open_parquet(file)
            names = pf.schema_arrow.names
        else:  # (the cursor's footer: opening the file again read it again, ~10 ms a unit)
            cursor = _Cursor.at(file, part.start)
            names, rows = cursor.names, cursor.bounds[-1]
        if not ALERT_FIELDS <= set(names):
            if part is None or part.start == 0:
                log.warning("skipping %s: a Parquet file without Rubin alert columns (diaSource)", file)
            return
        size = file.stat().st_size
        if part is None:
            batches = pf.iter_batches(batch_size=batch_rows(pf.metadata), use_threads=False)
        else:
            size = size * (part.stop - part.start) // max(1, rows)
            batches = cursor.take(part.start, part.stop)
        for batch in batches:
            for name in LIST_FIELDS:
                if name in batch.schema.names:
                    list_slices(batch.column(name)[:0])  # a list field that is no list: unreadable, as before
            yield ParquetBatch(str(file), n, batch, size)
            n, size = n + batch.num_rows, 0
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        _Cursor.current = None
        yield Packet(str(file), n, None, f"unreadable Parquet after {n} record(s) ({type(exc).__name__}: {exc})",
                     whole_file=file)


class _Cursor:
    """This process's place in the Parquet file it last read a part of. The workers take the
    units in input order, so a worker's next part of a file is further on: it continues from
    here when that part starts in the same or the next row group (decoding the rows between,
    which other workers prepare: ~5 % of a worker's time with two workers), else it opens
    the file again at the part's row group."""

    current: "_Cursor | None" = None

    def __init__(self, file: Path, start: int):
        self.file = file
        pf = open_parquet(file)
        meta = pf.metadata
        self.names = pf.schema_arrow.names
        self.bounds = [0]  # the first row of each row group, then the file's row count
        for g in range(meta.num_row_groups):
            self.bounds.append(self.bounds[-1] + meta.row_group(g).num_rows)
        group = self.group(start)
        self.row = self.bounds[group]   # the file position of ``self.batch``'s first row (or the next batch's)
        self.batch = None
        self.batches = pf.iter_batches(batch_size=batch_rows(meta), row_groups=range(group, meta.num_row_groups),
                                         use_threads=False)

    def group(self, row: int) -> int:
        return max(0, bisect.bisect_right(self.bounds, row) - 1)

    @classmethod
    def at(cls, file: Path, start: int) -> "_Cursor":
        c = cls.current
        if c is None or c.file != file or not c.row <= start or c.group(start) > c.group(c.row) + 1:
            c = cls.current = cls(file, start)
        return c

    def take(self, start: int, stop: int) -> Iterator[pa.RecordBatch]:
        """The rows ``[start, stop)`` as batches (``start`` at or after this cursor's row)."""
        while self.row < stop:
            if self.batch is None:
                self.batch = next(self.batches, None)
                if self.batch is None:
                    return
            batch, first = self.batch, self.row
            end = first + batch.num_rows
            if end > start:
                lo = max(start, first) - first
                yield batch.slice(lo, min(stop, end) - first - lo)
            if end > stop:
                return  # the next part begins in this batch
            self.row, self.batch = end, None
