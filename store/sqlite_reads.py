"""The SQL statements of the embedded store's read primitive (store/embedded.py runs them):
rows by key as ``IN`` lists, and rows over key ranges, one statement per range for a few,
else one join of all of them with the table's key index.

Each statement selects ``k`` then the blob of each family asked (none for a read of keys
only), and only rows holding one of those blobs.
"""
from __future__ import annotations

import json
from itertools import chain

import numpy as np

from .base import as_bytes

KEYS_PER_STATEMENT = 500
JOINED_RANGES = 8  # from this many ranges on, one statement joins them all
_LEN_BITS = 12  # a bound of a joined read: at most 4095 bytes (longer: one statement per range)
_MAX_LEN = (1 << _LEN_BITS) - 1


def _columns(fcols: list[str], keys_only: bool, alias: str = "") -> tuple[str, str]:
    """The select list and the condition that a row holds a selected blob."""
    select = ", ".join([alias + "k"] + ([] if keys_only else [alias + c for c in fcols]))
    return select, " OR ".join(f"{alias}{c} IS NOT NULL" for c in fcols)


def key_statements(table: str, fcols: list[str], keys_only: bool, keys: list[bytes]) -> list[tuple[str, list]]:
    """Statements reading the rows of ``keys`` (bytes) of ``table``, in any order."""
    select, present = _columns(fcols, keys_only)
    out = []
    for i in range(0, len(keys), KEYS_PER_STATEMENT):
        chunk = keys[i:i + KEYS_PER_STATEMENT]
        out.append((f"SELECT {select} FROM {table} WHERE k IN ({','.join('?' * len(chunk))}) "
                    f"AND ({present})", chunk))
    return out


def range_statements(table: str, fcols: list[str], keys_only: bool, ranges, reverse: bool,
                     limit: int | None) -> list[tuple[str, tuple]]:
    """Statements reading ``ranges`` of ``table``, range after range, each in key order (or
    from its end with ``reverse``): one per range for a few, each with the ``limit``, else one
    SQL join of the ranges with the table's key index: SQLite seeks each range in C, instead
    of one query per range from Python, and without filling a temporary table row by row. The
    join's bounds go as one BLOB, their bytes end to end, each range one integer of a JSON
    array (``json_each``) saying where its bounds lie in it (:func:`_packed_spans`);
    ``substr`` cuts them from the blob byte for byte (as JSON text, a NUL byte ended a bound
    and bytes not UTF-8 could not be passed at all)."""
    spans = None
    if len(ranges) >= JOINED_RANGES and limit is None and not any(None in r for r in ranges):
        bounds = list(chain.from_iterable(ranges))
        if set(map(type, bounds)) != {bytes}:  # (str bounds: encoded; all bytes: as given)
            bounds = [as_bytes(b) for b in bounds]
        spans = _packed_spans(bounds)
    if spans is None:
        select, present = _columns(fcols, keys_only)
        tail = f" ORDER BY k {'DESC' if reverse else 'ASC'}" + (f" LIMIT {int(limit)}" if limit else "")
        out = []
        for lo, hi in ranges:
            where = [f"({present})"] + (["k >= ?"] if lo is not None else []) + (["k < ?"] if hi is not None else [])
            args = tuple(as_bytes(b) for b in (lo, hi) if b is not None)
            out.append((f"SELECT {select} FROM {table} WHERE {' AND '.join(where)}{tail}", args))
        return out
    select, present = _columns(fcols, keys_only, "t.")
    at, lo_len, hi_len = f"(r.value >> {2 * _LEN_BITS})", f"((r.value >> {_LEN_BITS}) & {_MAX_LEN})", \
        f"(r.value & {_MAX_LEN})"
    sql = (f"SELECT {select} FROM json_each(?1) r JOIN {table} t "
           f"ON t.k >= substr(?2, {at}, {lo_len}) AND t.k < substr(?2, {at} + {lo_len}, {hi_len}) "
           f"WHERE ({present})")
    return [(sql, (spans, b"".join(bounds)))]


def _packed_spans(bounds: list[bytes]) -> str | None:
    """``bounds`` (lo, hi of each range, in turn) placed end to end, as the JSON array of one
    integer per range: where its lo starts (counted from 1, as ``substr`` does), its length,
    the length of its hi (which follows). None when a bound is too long to pack."""
    lengths = np.fromiter(map(len, bounds), dtype=np.int64, count=len(bounds))
    if lengths.max() > _MAX_LEN:
        return None
    starts = np.cumsum(lengths) - lengths + 1
    lo, hi = lengths[0::2], lengths[1::2]
    return json.dumps((starts[0::2] << 2 * _LEN_BITS | lo << _LEN_BITS | hi).tolist())
