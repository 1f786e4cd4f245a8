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

A big Parquet file (the simulator writes a night as files of up to 100,000 alerts in row groups
of up to 5,000) is cut into parts of whole row groups (:func:`split_units`), each a unit of
work of its own: the workers prepare a big night in parallel and a unit's rows stay bounded.

Records are read by field name; fields a schema version adds are ignored, fields it lacks are
absent. Every packet comes back as :class:`ingest.readers.Packet`; a file that cannot be read
is one packet with ``error`` set (quarantined with its bytes), as for ZTF.
"""
from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq

from .. import avro_files
from ..readers import QUARANTINE_MAX_BYTES, Packet, file_kind

log = logging.getLogger("nocturne.ingest")
OCF_MAGIC = b"Obj\x01"
WIRE_MAGIC = b"\x00"
ALERT_FIELDS = {"diaSource"}  # what makes a record (or a Parquet file) a Rubin alert
LIST_FIELDS = ("prvDiaSources", "prvDiaForcedSources")  # read from Parquet as Arrow arrays, not lists


@dataclass(frozen=True)
class ParquetPart:
    """Row groups ``[first, stop)`` of a Parquet file: a unit of work of its own."""
    path: Path
    first: int
    stop: int


def split_units(units: list[list[Path]], unit_bytes: int) -> list[list]:
    """``units`` with each Parquet file that is a unit alone (``ingest.plan.units``: a file of
    more than ``unit_bytes``) cut into units of consecutive row groups of about ``unit_bytes``
    (compressed), in file order; a file whose footer cannot be read stays whole (reading it
    then reports why), as does a file of one row group."""
    out = []
    for unit in units:
        parts = _parts(unit[0], unit_bytes) if len(unit) == 1 and file_kind(unit[0].name) == "parquet" else None
        out.extend([[p] for p in parts] if parts else [unit])
    return out


def _parts(file: Path, unit_bytes: int) -> list[ParquetPart] | None:
    try:
        meta = pq.ParquetFile(file).metadata
    except Exception:  # pyarrow raises ArrowInvalid, OSError...: the reader reports it
        return None
    if meta.num_row_groups < 2:
        return None
    parts, first, size = [], 0, 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).total_byte_size
        if g > first and size + n > unit_bytes:
            parts.append(ParquetPart(file, first, g))
            first, size = g, 0
        size += n
    parts.append(ParquetPart(file, first, meta.num_row_groups))
    return parts


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
        return array.to_pylist()
    names = [f.name for f in array.type]
    rows = [dict(zip(names, values)) for values in zip(*(_values(array.field(i)) for i in range(len(names))))]
    if array.null_count:
        rows = [r if ok else None for r, ok in zip(rows, array.is_valid().to_pylist())]
    return rows


def _parquet_packets(file: Path, part: ParquetPart | None = None) -> Iterator[Packet]:
    """The packets of ``file`` (of ``part``'s row groups only: positions count from the file's
    first row, and the part's share of the file's bytes goes with its first packet)."""
    n = 0
    try:
        pf = pq.ParquetFile(file)
        if not ALERT_FIELDS <= set(pf.schema_arrow.names):
            if part is None or part.first == 0:
                log.warning("skipping %s: a Parquet file without Rubin alert columns (diaSource)", file)
            return
        size = file.stat().st_size
        groups = None
        if part is not None:
            meta = pf.metadata
            groups = list(range(part.first, part.stop))
            n = sum(meta.row_group(g).num_rows for g in range(part.first))
            size = size * sum(meta.row_group(g).num_rows for g in groups) // max(1, meta.num_rows)
        start = n
        for batch in pf.iter_batches(batch_size=256, row_groups=groups):
            lists = [name for name in LIST_FIELDS if name in batch.schema.names]
            records = rows_of(batch.drop_columns(lists))
            for name in lists:  # Arrow arrays as they are: ingest.rubin.lists reads them column-wise
                column = batch.column(name)
                offsets = column.offsets.to_numpy()
                valid = column.is_valid().to_numpy(zero_copy_only=False)
                values = column.values
                for i, record in enumerate(records):
                    record[name] = values.slice(offsets[i], offsets[i + 1] - offsets[i]) if valid[i] else None
            for record in records:
                yield Packet(str(file), n, record, size=size if n == start else 0, typed=False)
                n += 1
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        yield Packet(str(file), n, None, f"unreadable Parquet after {n} record(s) ({type(exc).__name__}: {exc})",
                     whole_file=file)
