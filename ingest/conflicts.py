"""Rows that several units of a distributed night write differently, put back in input order.

The single-machine ingest writes units in input order, so where two packets carry different
rows under one key (ZTF: two detections of an object at the same ``jd`` in ``prv_candidates``,
or a candid delivered twice with other values), the later packet's row is the one stored. On a
cluster, units land in any order. So each worker records a fingerprint of every row it sends
(:class:`Recording`: 8 bytes of BLAKE2b of the table and key, 8 of the payload), the client
gathers them in input order (:class:`Fingerprints`) and, once every unit is written, finds the
keys written with more than one payload; those rows are prepared again on the workers
(``unit_task.rows_of``) and the client puts every version in input order, so the row ends
as one run in input order leaves it (:class:`Replay`: every version, but Rubin's previous sources
only in their first version, as its writer sends them; its forced sources are not replayed at
all: their blocks merge cell by cell, see :class:`Recording`). In a real ZTF night such
keys are rare (2 of 305 bad-quality history rows of the 2023-10-18 sample), so the second pass
is small; in a Rubin night they are the diaSources an alert owns whose copy another unit sent
as a previous source (the own row has Fink's ``f:`` values and root fields: a different payload).

Rubin's workers skip the previous and forced sources the store holds when they prepare a unit
(``RubinPreparer.stored_keys``), so a copy another unit stored meanwhile is never sent, nor
fingerprinted. That is the single-machine result as long as the copies of a key carry the same
values (Rubin repeats a diaSource or forced source unchanged in later packets; when it does not,
``--rewrite-history`` sends the copies the store holds too, fingerprinted, and the replay keeps
the first of those sent; a worker still skips the keys of its own last units). A copy not stored
yet is sent again by another unit: the same cells, harmless.
"""
from __future__ import annotations

import hashlib
import zlib

import numpy as np


def digest(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def key_digest(table: str, key: str) -> int:
    return digest(f"{table}\0{key}".encode())


def payload_digest(payload) -> int:
    """Of an encoded row (HBase's column -> bytes, or the embedded codec's (families, blobs)):
    its CRC-32 and length, over the length-prefixed parts (a main row holds the cutouts, ~60 KB
    of a ZTF packet: 100 KB take BLAKE2b 240 µs here, CRC-32 18 µs). Two versions of a key that differ yet share
    both (about one in 4 billion) would be missed; two keys sharing a key digest only cost a
    needless second put."""
    if isinstance(payload, dict):
        parts = (p for c in sorted(payload) for p in (str(c).encode(), bytes(payload[c])))
    else:
        families, blobs = payload
        parts = (repr(families).encode(), *map(bytes, blobs))
    data = b"".join(len(p).to_bytes(4, "little") + p for p in parts)
    return zlib.crc32(data) | (len(data) & 0xFFFFFFFF) << 32


class Recording:
    """A batch that forwards to ``batch`` (None: sends nothing) and fingerprints what it is given;
    with ``wanted`` (key digests), it keeps those rows themselves in ``kept`` instead, as
    ``(table, key, payload, history)``: ``history`` for the rows given in bulk
    (``put_encoded_many``: Rubin's previous sources, which its writer sends once a key and run,
    the first version; ``rewrite_conflicts`` replays that rule). A table whose rows are blocks
    of records (``merged``: Rubin's forced sources, ``store.records``) is forwarded and not
    fingerprinted: its puts add cells to a block, so versions of a block key are no conflict."""

    def __init__(self, table: str, batch, into: list, wanted: set | None = None, merged: bool = False):
        self.name, self.batch, self.into, self.wanted, self.merged = table, batch, into, wanted, merged

    def put_encoded(self, key: str, payload, history: bool = False) -> None:
        if self.merged:
            if self.wanted is None:
                self.batch.put_encoded(key, payload)
            return
        k = key_digest(self.name, key)
        if self.wanted is None:
            self.into.append((k, payload_digest(payload)))
            self.batch.put_encoded(key, payload)
        elif k in self.wanted:
            self.into.append((self.name, key, payload, history))

    def put_encoded_many(self, rows: list) -> None:
        if self.wanted is None:
            self.into.extend((key_digest(self.name, key), payload_digest(payload)) for key, payload in rows)
            self.batch.put_encoded_many(rows)
            return
        for key, payload in rows:
            self.put_encoded(key, payload, history=True)

    @property
    def table(self):
        """The store's table (the Rubin writer reads it to confirm a hash match)."""
        return self.batch.table

    def send(self) -> None:
        if self.batch is not None:
            self.batch.send()


class Replay:
    """The rows to put again, unit after unit in input order, as the single-machine writer put
    them: every version of an alert's own rows (and of ZTF's history rows, sent whenever they
    differ from the last written); with ``history_once`` (Rubin's previous sources,
    each key sent once a run), a history row only when its key was not put before in the replay,
    by a history row or by the alert's own source row."""

    def __init__(self, history_once: bool):
        self.history_once = history_once
        self.written: set = set()

    def rows(self, unit_rows: list):
        """Of one unit's ``(table, key, payload, history)`` rows (``unit_task.rows_of``), those to
        put, as ``(table, key, payload)``."""
        for table, key, payload, history in unit_rows:
            if history and self.history_once and (table, key) in self.written:
                continue
            self.written.add((table, key))
            yield table, key, payload


def as_array(pairs: list) -> np.ndarray:
    return np.array(pairs, dtype=np.uint64).reshape(-1, 2)


class Fingerprints:
    """The fingerprints of every unit, by unit index; :meth:`conflicts` after the last one."""

    def __init__(self):
        self.units: dict[int, np.ndarray] = {}

    def add(self, unit: int, fingerprints: np.ndarray) -> None:
        self.units[unit] = fingerprints

    def conflicts(self) -> dict[int, set]:
        """unit index -> the digests of its keys that some unit wrote with another payload."""
        if not self.units:
            return {}
        order = sorted(self.units)
        rows = np.concatenate([self.units[u] for u in order])
        unit = np.concatenate([np.full(len(self.units[u]), u, dtype=np.int64) for u in order])
        pairs = np.unique(rows, axis=0)  # distinct (key, payload)
        keys, counts = np.unique(pairs[:, 0], return_counts=True)
        bad = keys[counts > 1]
        out: dict[int, set] = {}
        hit = np.isin(rows[:, 0], bad)
        for u, k in zip(unit[hit].tolist(), rows[hit, 0].tolist()):
            out.setdefault(u, set()).add(k)
        return out
