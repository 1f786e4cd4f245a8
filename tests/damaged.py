"""Damaged and old-schema copies of real ZTF packets, built in a test's tmp dir.

Each helper re-writes one real one-alert Avro file of ../shared/data with a changed
writer schema and/or record, the way a broken or older producer would have written it.
"""
from __future__ import annotations

import copy
from pathlib import Path

import fastavro

from conftest import shared_data


def real_files(n: int, start: int = 0) -> list[Path]:
    return sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))[start:start + n]


def read(src: Path) -> tuple[dict, list[dict]]:
    with open(src, "rb") as fh:
        reader = fastavro.reader(fh)
        return copy.deepcopy(reader.writer_schema), list(reader)


def write(dst: Path, schema: dict, records: list[dict]) -> Path:
    with open(dst, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), records)
    return dst


def record_type(schema: dict, name: str) -> dict:
    """The record schema of top-level field ``name`` (``prv_candidates``: of its items)."""
    field = next(f for f in schema["fields"] if f["name"] == name)
    t = next(b for b in field["type"] if b != "null") if isinstance(field["type"], list) else field["type"]
    if t.get("type") == "array":
        t = next(b for b in t["items"] if b != "null") if isinstance(t["items"], list) else t["items"]
    return t


def retype(schema: dict, record: str, field: str, new_type) -> None:
    """Declare ``record.field`` (``record`` a top-level record field, or prv_candidates) as ``new_type``."""
    for f in record_type(schema, record)["fields"]:
        if f["name"] == field:
            f["type"] = new_type
            return
    raise KeyError(field)


def mistyped(src: Path, dst: Path, field: str, record: str = "candidate") -> Path:
    """``record.field`` written as a string (the writer schema says string) in every packet."""
    schema, records = read(src)
    retype(schema, record, field, ["string", "null"])
    for r in records:
        targets = r[record] if record == "prv_candidates" else [r[record]]
        for t in targets:
            t[field] = None if t[field] is None else str(t[field])
    return write(dst, schema, records)


def flipped_stamp(src: Path, dst: Path, cutout: str = "cutoutScience", n: int = 8) -> Path:
    """``n`` bytes flipped in the middle of a gzipped stamp, the file otherwise intact."""
    schema, records = read(src)
    for r in records:
        blob = bytearray(r[cutout]["stampData"])
        mid = len(blob) // 2
        for i in range(mid, mid + n):
            blob[i] ^= 0xFF
        r[cutout]["stampData"] = bytes(blob)
    return write(dst, schema, records)


def schema_33_without_candid(src: Path, dst: Path) -> Path:
    """A schema-3.3-shaped packet: no top-level candid (only candidate.candid), schemavsn 3.3."""
    schema, records = read(src)
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "candid"]
    for r in records:
        r.pop("candid")
        r["schemavsn"] = "3.3"
    return write(dst, schema, records)


def changed(src: Path, dst: Path, change) -> Path:
    """The same schema, each record changed by ``change(record)``."""
    schema, records = read(src)
    for r in records:
        change(r)
    return write(dst, schema, records)


def candid(src: Path) -> int:
    return read(src)[1][0]["candid"]
