"""Writing Rubin alerts: Fink's Parquet, Avro object containers, Confluent wire-format messages.

Layout under OUT (one night = one UTC date, ``YYYYMMDD``):

- ``parquet/lsst_YYYYMMDD.parquet``: the night's alerts in Fink's layout
  (LSST alert fields, then Fink's added values), snappy, as Fink's
  data-transfer service delivers them; row groups of a few thousand alerts
  (or 64 MB), and past ``FILE_MAX_ALERTS`` the night goes on in
  ``lsst_YYYYMMDD.1.parquet``, ``.2``...: a Parquet writer keeps every row
  group's metadata (about 0.3 MB for the ~1,000 leaf columns of an alert)
  until it closes, so this bounds memory at any number of alerts;
- ``avro/lsst_YYYYMMDD.avro``: the same alerts in one Avro object container,
  its writer schema derived from the Arrow schema (``schema.avro_schema``),
  one block per work unit, deterministic sync marker (encoded column-wise by
  ``avro.py``; fastavro reads it back in the tests);
- ``wire/YYYYMMDD/<diaSourceId>.msg`` (``--wire``): one message per alert in
  the Confluent wire format (byte 0, the 4-byte big-endian schema id
  ``schema.SCHEMA_ID``, then the Avro body without schema), the plain LSST
  alert as Rubin's Kafka stream sends it (no Fink values; absent diaObject,
  ssSource, mpc_orbits and empty histories are null), with the schema in
  ``wire/schema/<id>.avsc``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..encoding import container_block, container_header, sync_marker
from . import avro, schema

PREFIX = "lsst_"
WIRE_SUFFIX = ".msg"
ROW_GROUP_ALERTS, ROW_GROUP_BYTES = 5000, 64 << 20
FILE_MAX_ALERTS = 100_000


def raw_datums(table: pa.Table) -> list[bytes]:
    """Avro bodies of the plain LSST alerts (``schema.raw_avro_schema``) of Fink rows."""
    lsst = table.select([f.name for f in schema.lsst_fields()])
    present = {
        "diaObject": table.column("diaObject").combine_chunks().field("diaObjectId").is_valid().to_numpy(
            zero_copy_only=False),
        "ssSource": table.column("ssSource").combine_chunks().field("ssObjectId").is_valid().to_numpy(
            zero_copy_only=False),
        "mpc_orbits": table.column("mpc_orbits").combine_chunks().field("designation").is_valid().to_numpy(
            zero_copy_only=False),
    }
    return avro.encode(lsst, present)


@dataclass
class NightPart:
    """A unit's alerts of one night, with their Avro datums when asked (made in the worker)."""

    night: str
    table: pa.Table
    datums: list | None          # Avro bodies in the container's schema
    wire: list | None            # Avro bodies in the plain LSST schema


def night_parts(table: pa.Table, nights: np.ndarray, labels: list[str], avro_out: bool,
                wire: bool) -> list[tuple]:
    """``(night, start, stop, datums, wire)`` of each night's run of alerts (alerts are in time order).

    Offsets rather than sliced tables: a slice would carry (and pickle) the whole table's buffers.
    """
    parts = []
    bounds = np.flatnonzero(np.diff(nights)) + 1
    for lo, hi in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(nights)].tolist()):
        if hi <= lo:
            continue
        t = table.slice(lo, hi - lo)
        parts.append((labels[int(nights[lo])], lo, hi, avro.encode(t) if avro_out else None,
                      raw_datums(t) if wire else None))
    return parts


def split_parts(table: pa.Table, parts: list[tuple]) -> list[NightPart]:
    return [NightPart(night, table.slice(lo, hi - lo), datums, wire) for night, lo, hi, datums, wire in parts]


class _NightParquet:
    """A night's Parquet files: tables gathered into row groups, a new file every FILE_MAX_ALERTS."""

    def __init__(self, folder: Path, night: str, schema_: pa.Schema):
        self.folder, self.night, self.schema = folder, night, schema_
        self.pending: list[pa.Table] = []
        self.pending_rows = self.pending_bytes = 0
        self.writer: pq.ParquetWriter | None = None
        self.files = self.in_file = 0

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.pending_rows += table.num_rows
        self.pending_bytes += table.nbytes
        if self.pending_rows >= ROW_GROUP_ALERTS or self.pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self.pending_rows:
            return
        if self.writer is not None and self.in_file >= FILE_MAX_ALERTS:
            self.writer.close()
            self.writer = None
        if self.writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            suffix = f".{self.files}" if self.files else ""
            self.writer = pq.ParquetWriter(str(self.folder / f"{PREFIX}{self.night}{suffix}.parquet"),
                                           self.schema, compression="snappy")
            self.files += 1
            self.in_file = 0
        self.writer.write_table(pa.concat_tables(self.pending), row_group_size=self.pending_rows)
        self.in_file += self.pending_rows
        self.pending, self.pending_rows, self.pending_bytes = [], 0, 0

    def close(self) -> None:
        self._flush()
        if self.writer is not None:
            self.writer.close()


class Sinks:
    """The main process's writers, fed unit by unit in order."""

    def __init__(self, root: Path, fink: bool, parquet: bool, avro: bool, wire: bool, codec: str, seed: int):
        self.root, self.seed, self.codec = root, seed, codec
        self.parquet, self.avro, self.wire = parquet, avro, wire
        self.schema = schema.alert_schema(fink)
        self.avro_schema = schema.avro_schema(self.schema)
        if wire:
            raw = schema.raw_avro_schema()
            d = root / "wire" / "schema"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{schema.SCHEMA_ID}.avsc").write_text(json.dumps(raw, indent=1) + "\n")
        self.pq: dict[str, _NightParquet] = {}
        self.ocf: dict[str, tuple] = {}       # night -> (file, sync marker)

    def add(self, part: NightPart) -> None:
        night, table = part.night, part.table
        if self.parquet:
            w = self.pq.get(night)
            if w is None:
                w = self.pq[night] = _NightParquet(self.root / "parquet", night, self.schema)
            w.add(table)
        if self.avro and table.num_rows:
            entry = self.ocf.get(night)
            if entry is None:
                d = self.root / "avro"
                d.mkdir(parents=True, exist_ok=True)
                fo = open(d / f"{PREFIX}{night}.avro", "wb")
                sync = sync_marker(self.seed, "rubin", night)
                fo.write(container_header(self.avro_schema, self.codec, sync))
                entry = self.ocf[night] = (fo, sync)
            entry[0].write(container_block(part.datums, self.codec, entry[1]))
        if self.wire and table.num_rows:
            d = self.root / "wire" / night
            d.mkdir(parents=True, exist_ok=True)
            head = struct.pack(">bI", 0, schema.SCHEMA_ID)
            ids = table.column("diaSourceId").to_pylist()
            for sid, body in zip(ids, part.wire):
                (d / f"{sid}{WIRE_SUFFIX}").write_bytes(head + body)

    def close(self) -> None:
        for w in self.pq.values():
            w.close()
        for fo, _ in self.ocf.values():
            fo.close()
