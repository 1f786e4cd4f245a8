"""Writing Rubin alerts: Fink's Parquet, Avro object containers, Confluent wire-format messages.

Layout under OUT (one night = one UTC date, ``YYYYMMDD``):

- ``parquet/lsst_YYYYMMDD.parquet``: the night's alerts in Fink's layout
  (LSST alert fields, then Fink's added values), snappy, one row group per
  work unit, as Fink's data-transfer service delivers them;
- ``avro/lsst_YYYYMMDD.avro``: the same alerts in one Avro object container
  (fastavro), its writer schema derived from the Arrow schema
  (``schema.avro_schema``), deterministic sync marker;
- ``wire/YYYYMMDD/<diaSourceId>.msg`` (``--wire``): one message per alert in
  the Confluent wire format (byte 0, the 4-byte big-endian schema id
  ``schema.SCHEMA_ID``, then the Avro body without schema), the plain LSST
  alert as Rubin's Kafka stream sends it (no Fink values; absent diaObject,
  ssSource, mpc_orbits and empty histories are null), with the schema in
  ``wire/schema/<id>.avsc``.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import fastavro
import fastavro.write
import pyarrow as pa
import pyarrow.parquet as pq

from ..encoding import sync_marker
from . import schema

PREFIX = "lsst_"


def avro_records(table: pa.Table) -> list[dict]:
    """Rows as fastavro wants them (maps as dicts)."""
    rows = table.to_pylist()
    if "lc_features" in table.column_names:
        for r in rows:
            if r["lc_features"] is not None:
                r["lc_features"] = dict(r["lc_features"])
    return rows


def raw_record(row: dict) -> dict:
    """The plain LSST alert of a Fink row: LSST fields only, absent records null."""
    out = {f.name: row[f.name] for f in schema.lsst_fields()}
    if out["diaObject"] is not None and out["diaObject"]["diaObjectId"] is None:
        out["diaObject"] = None
    for name in ("ssSource", "mpc_orbits"):
        rec = out[name]
        if rec is not None and all(v is None for v in rec.values()):
            out[name] = None
    return out


class Sinks:
    """The main process's writers, fed unit by unit in order."""

    def __init__(self, root: Path, fink: bool, parquet: bool, avro: bool, wire: bool, codec: str, seed: int):
        self.root, self.seed, self.codec = root, seed, codec
        self.parquet, self.avro, self.wire = parquet, avro, wire
        self.schema = schema.alert_schema(fink)
        self.avro_schema = fastavro.parse_schema(schema.avro_schema(self.schema)) if avro else None
        self.raw_schema = None
        if wire:
            raw = schema.raw_avro_schema()
            self.raw_schema = fastavro.parse_schema(raw)
            d = root / "wire" / "schema"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{schema.SCHEMA_ID}.avsc").write_text(json.dumps(raw, indent=1) + "\n")
        self.pq: dict[str, pq.ParquetWriter] = {}
        self.ocf: dict[str, tuple] = {}

    def add(self, night: str, table: pa.Table) -> None:
        if self.parquet:
            w = self.pq.get(night)
            if w is None:
                d = self.root / "parquet"
                d.mkdir(parents=True, exist_ok=True)
                w = pq.ParquetWriter(str(d / f"{PREFIX}{night}.parquet"), self.schema, compression="snappy")
                self.pq[night] = w
            w.write_table(table)
        if not (self.avro or self.wire):
            return
        rows = avro_records(table)
        if self.avro:
            entry = self.ocf.get(night)
            if entry is None:
                d = self.root / "avro"
                d.mkdir(parents=True, exist_ok=True)
                fo = open(d / f"{PREFIX}{night}.avro", "wb")
                entry = (fo, fastavro.write.Writer(fo, self.avro_schema, codec=self.codec,
                                                   sync_marker=sync_marker(self.seed, "rubin", night)))
                self.ocf[night] = entry
            for r in rows:
                entry[1].write(r)
            entry[1].flush()
        if self.wire:
            d = self.root / "wire" / night
            d.mkdir(parents=True, exist_ok=True)
            head = struct.pack(">bI", 0, schema.SCHEMA_ID)
            for r in rows:
                buf = io.BytesIO()
                buf.write(head)
                fastavro.schemaless_writer(buf, self.raw_schema, raw_record(r))
                (d / f"{r['diaSourceId']}.msg").write_bytes(buf.getvalue())

    def close(self) -> None:
        for w in self.pq.values():
            w.close()
        for fo, w in self.ocf.values():
            w.flush()
            fo.close()
