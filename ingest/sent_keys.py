"""The row keys a process has sent during a run, in little memory (issue 19).

A Rubin night sends millions of history rows (previous and forced sources), each key once per
run. A Python set of the key strings costs ~150 bytes a key (the string and its slot): the
writer's 2 M keys were ~300 MB, each worker's ~1 M ~150 MB. :class:`SentKeys` keeps instead

- the keys of the last ``recent_units`` units exactly (the strings, in a set);
- older keys as sorted 64-bit hashes (8 bytes a key), when ``hash_limit`` is set.

:meth:`SentKeys.classify` tells, for each key, *sent* (an exact match among the recent units)
or *maybe* (its hash matches an older key's: two keys may share a hash). A caller must never
drop a row on *maybe* alone: it confirms first (the writer reads the store for those keys,
``ingest.rubin.write``), so a hash collision costs a read, never a row. Forgetting (the hashes
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

    def add(self, keys) -> None:
        """Remember ``keys`` as sent by the current unit."""
        recent, current = self.recent, self.current
        for k in keys:
            if k not in recent:
                recent.add(k)
                current.append(k)

    def classify(self, keys: list) -> tuple[np.ndarray, np.ndarray]:
        """(sent, maybe): booleans per key; ``sent``: sent by a recent unit or the current one;
        ``maybe``: not that, but its hash matches an older key's (to be confirmed)."""
        recent = self.recent
        sent = np.fromiter((k in recent for k in keys), dtype=bool, count=len(keys))
        maybe = np.zeros(len(keys), dtype=bool)
        if len(self.hashes):
            rest = np.flatnonzero(~sent)
            if len(rest):
                h = np.fromiter((key_hash(keys[i]) for i in rest.tolist()), dtype=np.int64, count=len(rest))
                pos = np.minimum(np.searchsorted(self.hashes, h), len(self.hashes) - 1)
                maybe[rest] = self.hashes[pos] == h
        return sent, maybe

    def end_unit(self) -> None:
        """Close the current unit; the oldest recent unit's keys become hashes (or are forgotten)."""
        self.units.append(self.current)
        self.current = []
        while len(self.units) > self.recent_units:
            old = self.units.popleft()
            self.recent.difference_update(old)
            if self.hash_limit and old:
                h = np.fromiter(map(key_hash, old), dtype=np.int64, count=len(old))
                h.sort()
                if len(self.hashes) + len(h) > self.hash_limit:
                    self.hashes = self.hashes[:0]  # forgotten: at worst rows sent again, the same cells
                merged = np.concatenate([self.hashes, h])
                merged.sort(kind="stable")  # two sorted runs: a linear merge
                self.hashes = merged
