"""Rubin test inputs built from the real Parquet alerts (../shared/data/rubin-fink-2026-03-10):
the same alerts as Avro containers and as Confluent wire-format messages, written with
fastavro and the Avro schema Fink ships beside the data (read there, never copied)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import fastavro
import pyarrow.parquet as pq

from conftest import comparable, shared_data
from hbase_schema import get_schema
from store import open_store

SCHEMA_ID = 704


def rubin_dir() -> Path:
    return shared_data() / "rubin-fink-2026-03-10"


def parquet_files(n: int | None = None) -> list[Path]:
    files = sorted(rubin_dir().glob("*.parquet"))
    return files if n is None else files[:n]


def records(files) -> list[dict]:
    """The alerts of ``files`` as Avro-ready records (Arrow maps as dicts)."""
    out = []
    for f in files:
        for r in pq.read_table(f).to_pylist():
            if isinstance(r.get("lc_features"), list):
                r["lc_features"] = dict(r["lc_features"])
            out.append(r)
    return out


def writer_schema() -> dict:
    return json.loads(next(rubin_dir().glob("avro_schema_*.json")).read_text())


def derived_schema(add: str, remove: tuple[str, str]) -> dict:
    """The writer schema with a root field ``add`` added and ``remove`` = (record field, inner
    field) taken out: another schema version's shape."""
    schema = copy.deepcopy(writer_schema())
    schema["fields"].append({"name": add, "type": ["null", "string"], "default": None})
    for f in schema["fields"]:
        if f["name"] == remove[0]:
            inner = next(t for t in f["type"] if isinstance(t, dict)) if isinstance(f["type"], list) else f["type"]
            inner["fields"] = [x for x in inner["fields"] if x["name"] != remove[1]]
    return schema


def write_containers(folder: Path, recs, per_file: int = 5, codec: str = "deflate", schema=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    parsed = fastavro.parse_schema(schema or writer_schema())
    for i in range(0, len(recs), per_file):
        with open(folder / f"alerts-{i:04d}.avro", "wb") as fh:
            fastavro.writer(fh, parsed, recs[i:i + per_file], codec=codec)
    return folder


def write_wire(folder: Path, recs, schema_dir: Path) -> Path:
    """One Confluent wire-format message per file (magic 0, schema id, Avro body), and the
    writer schema as ``<schema_dir>/<id>.avsc``."""
    import io
    folder.mkdir(parents=True, exist_ok=True)
    schema_dir.mkdir(parents=True, exist_ok=True)
    (schema_dir / f"{SCHEMA_ID}.avsc").write_text(json.dumps(writer_schema()))
    parsed = fastavro.parse_schema(writer_schema())
    for i, r in enumerate(recs):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, r)
        (folder / f"msg-{i:04d}.avro").write_bytes(b"\x00" + SCHEMA_ID.to_bytes(4, "big") + buf.getvalue())
    return folder


VOLATILE = ("f:duration_s", "f:finished")  # statistics cells that differ between equal runs


def stored_tables(cfg) -> dict:
    """Every Rubin table of the store of ``cfg`` as comparable rows (dump), without the
    statistics' timing cells and the meta table: equal for equal ingests."""
    with open_store(cfg, schema=get_schema("rubin")) as s:
        return comparable(s)


def forced_records(alerts: list) -> list:
    """The ``(record key, packed forced source)`` pairs of prepared Rubin alerts' forced-source
    blocks (``RubinAlert.fp``: the unit's, on its first alert; ``store.records``), in order."""
    from store.codec import unpack_cells
    out = []
    for alert in alerts:
        for key, payload in alert.fp:
            head = key.rsplit("_", 1)[0] + "_"
            if isinstance(payload, tuple):  # the embedded encoder: (families, blobs)
                (family,), (blob,) = payload
                assert family == "b"
                cells = zip(*unpack_cells(blob))
            else:  # HBase, one cell a forced source
                cells = ((c[2:], v) for c, v in sorted(payload.items()))
            out.extend((head + q.decode(), v) for q, v in cells)
    return out
