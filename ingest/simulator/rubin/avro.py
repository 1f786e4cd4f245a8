"""Avro binary encoding of Arrow tables of alerts, column-wise (no dict per alert).

Going through ``Table.to_pylist`` and a generic Avro writer costs about 25 ms
per Rubin alert (hundreds of nested sources each); this encoder writes the
same bytes from the Arrow columns with ``..encoding.encode_records``: a
record's primitive fields are one vectorised block, a list of records is its
items' block cut by the list offsets, a map the same with its keys.  Then each
alert's datum is the concatenation of its slices.  The schema is the one of
``schema.avro_schema`` (every primitive a ``[T, "null"]`` union; records
either plain or ``["null", record]``), which ``tests/test_rubin_simulator.py``
checks by reading the output back with fastavro.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..encoding import encode_records, zigzag_varint

_KIND = {pa.int64(): "long", pa.int32(): "int", pa.float64(): "double", pa.float32(): "float",
         pa.bool_(): "boolean", pa.string(): "string", pa.binary(): "string"}
_FILL = {"long": 0, "int": 0, "double": 0.0, "float": 0.0, "boolean": False}
NULL_FIRST, NULL_SECOND = b"\x00", b"\x02"     # union branch 0 / branch 1


def _column(arr: pa.Array, kind: str):
    """(values, valid) for encode_records."""
    valid = None
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
    if kind == "string":
        values = arr.to_numpy(zero_copy_only=False)
    else:
        if arr.null_count:
            arr = pc.fill_null(arr, _FILL[kind])
        values = arr.to_numpy(zero_copy_only=False)
    return values, valid


def _flat(struct: pa.StructArray) -> tuple[bytes, np.ndarray]:
    """Encoded primitive fields of every row of a struct (its offsets per row)."""
    fields, cols = [], {}
    for f, child in zip(struct.type, struct.flatten()):
        kind = _KIND[f.type]
        fields.append((f.name, kind))
        cols[f.name] = _column(child, kind)
    return encode_records(fields, cols, len(struct))


def _slices(flat: bytes, offsets: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[bytes]:
    mv = memoryview(flat)
    a, b = offsets[lo].tolist(), offsets[hi].tolist()
    return [bytes(mv[x:y]) for x, y in zip(a, b)]


def _list_column(arr: pa.ListArray) -> list[bytes]:
    n = len(arr)
    off = arr.offsets.to_numpy()
    values = arr.values
    if off[0] == 0 and values.offset == 0 and len(values) == off[-1]:
        items = values
    else:
        items = arr.flatten()
        off = off - off[0]
    flat, item_off = _flat(items) if len(items) else (b"", np.zeros(1, np.int64))
    body = _slices(flat, item_off, off[:-1], off[1:])
    counts = np.diff(off)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    out = []
    for i in range(n):
        if not valid[i]:
            out.append(NULL_SECOND)
        elif counts[i] == 0:
            out.append(NULL_FIRST + b"\x00")
        else:
            out.append(NULL_FIRST + zigzag_varint(int(counts[i])) + body[i] + b"\x00")
    return out


def _map_column(arr: pa.MapArray) -> list[bytes]:
    n = len(arr)
    off = arr.offsets.to_numpy()
    # keys and items are those of the whole (unsliced) map array: keep this slice's entries
    keys = arr.keys.slice(off[0], off[-1] - off[0])
    items = arr.items.slice(off[0], off[-1] - off[0])
    off = off - off[0]
    fields = [("key", "string")] + [(f.name, _KIND[f.type]) for f in items.type]
    cols = {"key": (keys.to_numpy(zero_copy_only=False), None)}
    for f, child in zip(items.type, items.flatten()):
        cols[f.name] = _column(child, _KIND[f.type])
    flat, item_off = encode_records(fields, cols, len(keys), required={"key"}) if len(keys) \
        else (b"", np.zeros(1, np.int64))
    body = _slices(flat, item_off, off[:-1], off[1:])
    counts = np.diff(off)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    return [NULL_SECOND if not valid[i] else
            NULL_FIRST + (zigzag_varint(int(counts[i])) + body[i] if counts[i] else b"") + b"\x00"
            for i in range(n)]


def _record_column(arr: pa.StructArray, nullable: bool, present: np.ndarray | None) -> list[bytes]:
    flat, off = _flat(arr)
    rows = _slices(flat, off, np.arange(len(arr)), np.arange(1, len(arr) + 1))
    if not nullable:
        return rows
    return [NULL_SECOND + r if ok else NULL_FIRST for r, ok in zip(rows, present)]


def _primitive_column(arr: pa.Array) -> list[bytes]:
    kind = _KIND[arr.type]
    if kind == "string" and arr.type == pa.binary():
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        return [NULL_FIRST + zigzag_varint(len(v)) + v if ok else NULL_SECOND
                for v, ok in zip(arr.to_pylist(), valid)]
    flat, off = encode_records([("v", kind)], {"v": _column(arr, kind)}, len(arr))
    return _slices(flat, off, np.arange(len(arr)), np.arange(1, len(arr) + 1))


def encode(table: pa.Table, present: dict | None = None) -> list[bytes]:
    """Avro datums of the rows of ``table``.

    ``present`` maps the name of a record field that is nullable in the
    writer schema (``["null", record]``) to a boolean array: which rows hold
    the record.  Other record fields are written as plain records.
    """
    present = present or {}
    parts = []
    for name, col in zip(table.column_names, table.columns):
        arr = col.combine_chunks()
        t = arr.type
        if pa.types.is_struct(t):
            parts.append(_record_column(arr, name in present, present.get(name)))
        elif pa.types.is_list(t):
            parts.append(_list_column(arr))
        elif pa.types.is_map(t):
            parts.append(_map_column(arr))
        else:
            parts.append(_primitive_column(arr))
    return [b"".join(row) for row in zip(*parts)]
