"""Keys a run has met, each with an integer, exactly and in little memory (issue 22).

The ZTF writer remembers, for the whole run, the candid of every alert (a repeat is counted
apart) and, per history key (upper limit, bad-quality detection, forced point), the
fingerprint of the last payload it wrote there (``ingest.write.Writer``). As a Python set
and dict these cost ~150 bytes a key (the string, the int, the slot): 2 M history keys were
~290 MB. :class:`CompactKeys` keeps

- the newest keys in a dict (until ``buffer`` of them);
- the older ones in one sorted numpy array of their UTF-8 bytes, fixed width (~29 bytes a
  history key, 20 a candid key), their integers beside it (8 bytes).

A match is exact, unlike ``ingest.sent_keys`` (Rubin: older keys as 64-bit hashes, a match
confirmed by reading the store): the writer must also tell whether a payload differs from
the last one written under its key, which a read of the store would tell only by decoding
the row, so keys are kept whole: no two keys are ever taken for one another, and what is
written and counted is what a dict of the same keys gives. Keys are text that never ends
with a NUL byte (numpy's fixed-width bytes drop trailing NULs): row keys, ``c<candid>``.

Past ``limit`` keys the older ones are forgotten, as the dict was cleared before: a forgotten
key met again is written again (the same cells) and counted again.
"""
from __future__ import annotations

import numpy as np

BUFFER = 100_000  # keys in the dict before they join the arrays (~13 MB; a merge copies the arrays once)


class CompactKeys:
    def __init__(self, limit: int, buffer: int | None = None):
        self.limit, self.buffer = limit, BUFFER if buffer is None else buffer
        self.recent: dict = {}                       # key -> value, the newest keys
        self.keys = np.zeros(0, dtype="S1")          # the older keys, UTF-8, sorted
        self.values = np.zeros(0, dtype=np.int64)    # their values, in the same order

    def __len__(self) -> int:
        return len(self.recent) + len(self.keys)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __setitem__(self, key: str, value: int) -> None:
        """Held from now on with ``value`` (the dict's; :meth:`compact` moves it to the arrays)."""
        self.recent[key] = value

    def get(self, key: str, older: dict | None = None) -> int | None:
        """The value held for ``key``, None when none is. ``older``: what :meth:`older` gave for a
        list of keys holding this one, no :meth:`compact` since (the arrays are then not searched)."""
        value = self.recent.get(key)
        if value is not None or not len(self.keys):
            return value
        if older is not None:
            return older.get(key)
        found = self.older([key])
        return found.get(key)

    def older(self, keys: list) -> dict:
        """key -> value of those of ``keys`` the arrays hold, in one search (a unit's keys)."""
        if not len(self.keys):
            return {}
        width, recent = self.keys.itemsize, self.recent
        wanted = [b for b in (k.encode() for k in keys if k not in recent) if len(b) <= width]  # (longer: not there)
        if not wanted:
            return {}
        query = np.array(wanted, dtype=self.keys.dtype)
        pos = np.minimum(self.keys.searchsorted(query), len(self.keys) - 1)
        hit = np.flatnonzero(self.keys[pos] == query)
        return {wanted[i].decode(): v for i, v in zip(hit.tolist(), self.values[pos[hit]].tolist())}

    def compact(self) -> None:
        """Move the dict's keys into the arrays once there are ``buffer`` of them (a key already
        there takes its newer value); past ``limit`` keys the arrays' older ones are forgotten."""
        if len(self.recent) < self.buffer:
            return
        keys = np.array([k.encode() for k in self.recent])
        values = np.fromiter(self.recent.values(), dtype=np.int64, count=len(self.recent))
        self.recent = {}
        order = keys.argsort(kind="stable")
        keys, values = keys[order], values[order]
        width = max(keys.itemsize, self.keys.itemsize)
        keys, self.keys = keys.astype(f"S{width}", copy=False), self.keys.astype(f"S{width}", copy=False)
        pos = self.keys.searchsorted(keys)
        held = pos < len(self.keys)
        held[held] = self.keys[pos[held]] == keys[held]
        new = ~held
        if len(self.keys) + int(new.sum()) > self.limit:  # forgotten: at worst rows written again, counted again
            self.keys, self.values = keys, values
            return
        self.values[pos[held]] = values[held]
        self.keys = np.insert(self.keys, pos[new], keys[new])
        self.values = np.insert(self.values, pos[new], values[new])
