"""The row keys a process has sent during a run, in little memory (issue 19).

A Rubin night sends millions of history rows (previous and forced sources), each key once per
run. A Python set of the key strings costs ~150 bytes a key (the string and its slot): the
writer's 2 M keys were ~300 MB, each worker's ~1 M ~150 MB. :class:`SentKeys` keeps instead

- the keys of the last ``recent_units`` units exactly (the strings, in a set);
- older keys as sorted 64-bit hashes (8 bytes a key), when ``hash_limit`` is set.

``key in sent`` is an exact match among the recent units; :meth:`SentKeys.maybe` gives the
other keys whose hash matches an older key's (two keys may share a hash). A caller must never
drop a row on *maybe* alone: it confirms first (the writer reads the store for those keys,
once a unit, ``ingest.rubin.write``), so a hash collision costs a read, never a row. Forgetting (the hashes
beyond ``hash_limit``, a worker's units beyond its window) only means a row sent again under
the same key, the same cells: the ingest stays idempotent.
"""
from __future__ import annotations

from collections import deque

import numpy as np

key_hash = hash  # a key's 64-bit hash (str: SipHash, per process); tests make every key collide



class SentKeys:
    def __init__(self, recent_units: int, hash_limit: int | None = None):
        self.recent_units, self.hash_limit = recent_units, hash_limit
        self.recent: set = set()      # the keys of the recent units and the current one
        self.units: deque = deque()   # each recent unit's new keys, oldest first
        self.current: list = []       # the keys of the unit being sent
        self.hashes = np.zeros(0, dtype=np.int64)  # sorted hashes of the older keys

    def __len__(self) -> int:
        """Keys remembered, exactly or by hash."""
        return len(self.recent) + len(self.hashes)

    def __contains__(self, key) -> bool:
        """Sent for sure (an exact match; a hash match alone is not enough)."""
        return key in self.recent

    def add(self, keys: list) -> None:
        """Remember ``keys`` (not sent yet) as sent by the current unit."""
        self.current.extend(keys)
        self.recent.update(keys)

    def sent(self, keys: list) -> np.ndarray:
        """Per key: sent by a recent unit or the current one (exact)."""
        return np.fromiter(map(self.recent.__contains__, keys), dtype=bool, count=len(keys))

    def maybe(self, keys: list) -> list:
        """The keys not sent by a recent unit whose hash matches an older key's (to confirm)."""
        if not len(self.hashes) or not keys:
            return []
        h = np.fromiter(map(key_hash, keys), dtype=np.int64, count=len(keys))
        ordered = np.sort(h)  # sorted queries: each search starts where the last one ended
        pos = np.minimum(np.searchsorted(self.hashes, ordered), len(self.hashes) - 1)
        hits = ordered[self.hashes[pos] == ordered]
        if not len(hits):
            return []
        recent = self.recent
        return [keys[i] for i in np.flatnonzero(np.isin(h, hits)).tolist() if keys[i] not in recent]

    def clear(self) -> None:
        """Forget every key (at worst rows sent again, the same cells)."""
        self.recent, self.units, self.current = set(), deque(), []
        self.hashes = self.hashes[:0]

    def end_unit(self) -> None:
        """Close the current unit; the oldest recent unit's keys become hashes (or are forgotten)."""
        self.units.append(self.current)
        self.current = []
        while len(self.units) > self.recent_units:
            old = self.units.popleft()
            self.recent.difference_update(old)
            if self.hash_limit and old:  # (a key twice in ``old``: its hash twice, harmless)
                h = np.fromiter(map(key_hash, old), dtype=np.int64, count=len(old))
                h.sort()
                if len(self.hashes) + len(h) > self.hash_limit:
                    self.hashes = self.hashes[:0]  # forgotten: at worst rows sent again, the same cells
                merged = np.concatenate([self.hashes, h])
                merged.sort(kind="stable")  # two sorted runs: a linear merge
                self.hashes = merged
