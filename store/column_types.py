"""The schema's column types (``float32``, ``float64``, ``int32``, ``int64``, ``bool``,
``string``, ``bytes``, ``json``): one value as bytes and back, the check that a value fits
its column, and a column of values cast to its type at once.

:func:`encode_cell` / :func:`decode_cell` encode one cell on its own, big-endian like Java's
``Bytes.toBytes`` (the HBase backend stores one cell per column, so HBase's own tools read
the same values). :mod:`store.codec` packs a family's cells with the same types,
little-endian (:data:`NUMPY`).
"""
from __future__ import annotations

import json
import struct

import numpy as np
import orjson

FIXED = {"float32": "f", "float64": "d", "int32": "i", "int64": "q", "bool": "?"}
NUMPY = {"f": "<f4", "d": "<f8", "i": "<i4", "q": "<i8", "?": "?"}  # the same little-endian layout, for numpy


def _to_text(value) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value.encode("utf-8")


def _to_bytes(value) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return bytes(value)


def _to_json(value) -> bytes:
    """JSON via orjson (NaN becomes null, numpy values are converted)."""
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY)


def _from_json(data: bytes):
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # NaN tokens written by the standard library
        return json.loads(data.decode("utf-8"))


def _json_default(value):
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _bytes_view(value):
    """A bytes value as a family blob packs it (``store.codec``: joined, never kept): a
    memoryview of bytes as it is, not copied (the ingest's stamps, views into Arrow's buffer)."""
    if isinstance(value, memoryview) and value.c_contiguous and value.itemsize == 1:
        return value if value.format == "B" else value.cast("B")
    return _to_bytes(value)


VAR_ENCODE = {"string": _to_text, "bytes": _to_bytes, "json": _to_json}
VAR_PACK = {**VAR_ENCODE, "bytes": _bytes_view}  # the encoders of a packed family's values (store.codec)


def from_text(data: bytes) -> str:
    return data.decode("utf-8")


VAR_DECODE = {
    "string": from_text,
    "bytes": bytes,
    "json": _from_json,
}


def encode_cell(type_: str, value) -> bytes:
    """One value as bytes (big-endian for numbers)."""
    code = FIXED.get(type_)
    if code is not None:
        return struct.pack(">" + code, value)
    return VAR_ENCODE[type_](value)


def decode_cell(type_: str, data: bytes):
    code = FIXED.get(type_)
    if code is not None:
        return struct.unpack(">" + code, data)[0]
    return VAR_DECODE[type_](data)


_INT_RANGE = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}


def cast_fixed(values, type_: str, present: np.ndarray):
    """``values`` as the little-endian numpy type of a fixed-width column, and the present rows
    ``struct.pack`` would refuse (a float32 overflow, an integer out of range); ``(None, None)``
    when the values are not of a kind this path converts (e.g. floats for an integer column:
    the caller packs those one by one, which raises as :meth:`FamilyCodec.encode` does)."""
    if not isinstance(values, np.ndarray):
        return None, None
    kind = values.dtype.kind
    wrong = np.zeros(len(values), dtype=bool)
    if type_ in ("float32", "float64"):
        if kind not in "fiub":
            return None, None
        if type_ == "float64" or kind == "b":
            return values.astype(NUMPY[FIXED[type_]]), wrong
        with np.errstate(over="ignore", invalid="ignore"):
            cast = values.astype("<f4")
            if kind == "f":  # finite, but beyond float32: struct raises OverflowError
                wrong = present & np.isinf(cast) & np.isfinite(values)
        return cast, wrong
    if type_ == "bool":
        if kind == "b":
            return values, wrong
        if kind not in "fiu":
            return None, None
        return values != 0, wrong  # struct packs any number as its truth value (NaN: True)
    if kind == "b":
        return values.astype(NUMPY[FIXED[type_]]), wrong
    if kind not in "iu":
        return None, None
    lo, hi = _INT_RANGE[type_]
    if len(values) and (int(values.min()) < lo or int(values.max()) > hi):
        wrong = present & ((values < lo) | (values > hi)) if kind == "i" else present & (values > hi)
        values = np.where(wrong, 0, values)
    return values.astype(NUMPY[FIXED[type_]]), wrong


def encode_var(encode, values, present: np.ndarray) -> tuple[list, np.ndarray]:
    """The bytes of each present value of a variable-width column (None elsewhere), and the
    present rows whose value the encoder refuses."""
    flags = present.tolist()
    try:
        if encode is _to_text:  # (``str.encode`` refuses what is no str as ``_to_text`` does, a call less a value)
            return [str.encode(v) if p else None for v, p in zip(values, flags)], np.zeros(len(flags), dtype=bool)
        return [encode(v) if p else None for v, p in zip(values, flags)], np.zeros(len(flags), dtype=bool)
    except (TypeError, ValueError, OverflowError):
        pass
    out, wrong = [], np.zeros(len(flags), dtype=bool)
    for i, (v, p) in enumerate(zip(values, flags)):
        try:
            out.append(encode(v) if p else None)
        except (TypeError, ValueError, OverflowError):
            out.append(None)
            wrong[i] = True
    return out, wrong


class ColumnValueError(ValueError):
    """A value does not fit its column's type; the message names the column."""


def check_value(name: str, type_: str, value) -> None:
    """Raise :class:`ColumnValueError` naming ``name`` if ``value`` does not fit ``type_``."""
    try:
        encode_cell(type_, value)
    except (TypeError, ValueError, struct.error, OverflowError) as exc:
        raise ColumnValueError(f"column {name} ({type_}): cannot store {value!r}: {exc}") from None
