"""Avro container files read with the writer schema parsed once per distinct schema.

A ZTF night is hundreds of thousands of one-alert files, each carrying the same 19 KB
writer schema; ``fastavro.reader`` parses that schema again for every file, which costs
more than decoding the alert itself. Here the header is read with fastavro's own header
schema, the writer schema is parsed once and cached by its text, and each block is
decoded with ``fastavro.schemaless_reader``. Anything unusual (an unknown codec, a
damaged block) falls back to ``fastavro.reader``, whose error message then explains it.
"""
from __future__ import annotations

import io
import json
import zlib
from functools import lru_cache
from typing import Iterator

import cramjam
import fastavro
from fastavro.read import HEADER_SCHEMA

_HEADER = fastavro.parse_schema(HEADER_SCHEMA)
_LONG = fastavro.parse_schema("long")


@lru_cache(maxsize=32)
def _parsed(schema_text: bytes):
    return fastavro.parse_schema(json.loads(schema_text))


def schema_text(data: bytes) -> bytes | None:
    """The writer schema (JSON text) of the Avro container in ``data``; None when unreadable."""
    try:
        header = fastavro.schemaless_reader(io.BytesIO(data), _HEADER)
        return header["meta"]["avro.schema"] if header["magic"] == b"Obj\x01" else None
    except Exception:
        return None


def _decompress(codec: bytes, data: bytes) -> bytes:
    if codec in (b"null", b""):
        return data
    if codec == b"deflate":
        return zlib.decompress(data, -15)
    if codec == b"snappy":
        return bytes(cramjam.snappy.decompress_raw(data[:-4]))  # the last 4 bytes are a CRC
    raise ValueError(f"codec {codec!r}")


def records(data: bytes) -> Iterator[dict]:
    """The records of one Avro container held in ``data``."""
    done = 0
    try:
        for record in _fast(data):
            yield record
            done += 1
    except _Unusual:
        for i, record in enumerate(fastavro.reader(io.BytesIO(data))):
            if i >= done:
                yield record


class _Unusual(Exception):
    pass


def _fast(data: bytes) -> Iterator[dict]:
    buf = io.BytesIO(data)
    try:
        header = fastavro.schemaless_reader(buf, _HEADER)
        if header["magic"] != b"Obj\x01":
            raise _Unusual
        meta = header["meta"]
        schema = _parsed(meta["avro.schema"])
        codec = meta.get("avro.codec", b"null")
        sync = header["sync"]
    except _Unusual:
        raise
    except Exception:
        raise _Unusual from None
    yielded = 0
    while buf.tell() < len(data):
        try:
            count = fastavro.schemaless_reader(buf, _LONG)
            size = fastavro.schemaless_reader(buf, _LONG)
            block = buf.read(size)
            if len(block) != size or buf.read(16) != sync:
                raise ValueError("truncated block")
            body = io.BytesIO(_decompress(codec, block))
            batch = [fastavro.schemaless_reader(body, schema) for _ in range(count)]
        except Exception:
            if yielded:  # let fastavro re-read and report the damage after what was good
                raise _DamagedAfter(yielded) from None
            raise _Unusual from None
        yield from batch
        yielded += len(batch)


class _DamagedAfter(_Unusual):
    """Damage after ``n`` good records: the fallback re-reads from the start."""

    def __init__(self, n: int):
        super().__init__(n)
        self.n = n
