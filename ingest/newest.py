"""Rows that only a newer version may replace, whatever order alerts, units or runs come in.

The object-level sky index (``objects_sky``) keeps, per pixel and object, the latest alert.
:class:`NewestRows` sends a candidate row only when it ranks above the one stored or already
sent under its key: the stored rank is read when the run first meets the key, then remembered,
up to ``LIMIT`` keys (~240 bytes each: a key, a jd, a candid; past it they are forgotten once
the batch is sent, and read from the store again when met), so a rerun, a night ingested in
parts or out of order, or a run killed (kill -9) and run again ends with the same rows, and a
rerun writes none.
"""
from __future__ import annotations

from typing import Callable

from .rows import SKY, sky_newer, sky_order

LIMIT = 250_000  # keys whose rank is remembered (~60 MB; a night of 834 k alerts has ~0.7 M)


class NewestRows:
    """``table``: the stored rows (read for their rank); ``batch``: where to send (None: a dry
    run); ``rank_columns`` and ``rank_of(cells)``: a stored row's rank (None when it has none);
    ``newer(a, b)``: whether rank ``a`` replaces rank ``b``."""

    def __init__(self, table, batch, rank_columns: list[str], rank_of: Callable, newer: Callable):
        self.table, self.batch = table, batch
        self.rank_columns, self.rank_of, self.newer = list(rank_columns), rank_of, newer
        self.known: dict = {}  # key -> the highest rank stored or sent by this run

    def offer(self, candidates) -> int:
        """Send each ``(key, rank, payload, full)`` that outranks its key's row; ``full``: the
        payload has every column (else the older row is deleted first, so none of its cells
        stays). Returns the number of rows sent."""
        best: dict = {}
        for key, rank, payload, full in candidates:
            if key not in best or self.newer(rank, best[key][0]):
                best[key] = (rank, payload, full)
        if len(self.known) >= LIMIT:  # (before the read: the ranks it reads are used below)
            if self.batch is not None:
                self.batch.send()  # what is forgotten here is then read back from the store
            self.known.clear()
        unknown = [k for k in best if k not in self.known]
        if unknown and self.table is not None:
            stored = self.table.read(keys=unknown, columns=self.rank_columns)
            for key, (_, cells) in zip(stored.keys, stored.rows()):
                rank = self.rank_of(cells)
                if rank is not None:
                    self.known[key] = rank
        sent = 0
        for key, (rank, payload, full) in best.items():
            current = self.known.get(key)
            if current is not None and not self.newer(rank, current):
                continue
            self.known[key] = rank
            sent += 1
            if self.batch is not None:
                if current is not None and not full:
                    self.batch.delete(key)
                self.batch.put_encoded(key, payload)
        return sent


def sky_writer(store, batches) -> NewestRows | None:
    """The object-level sky index's rule over ``store`` and its batch in ``batches`` (None for
    a dry run): a row replaced only by a newer alert (``rows.sky_newer``). None when the
    schema has no such table."""
    if store is None or SKY not in store.schema.tables:
        return None
    return NewestRows(store.table(SKY), (batches or {}).get(SKY), ["i:jd", "i:candid"], _sky_rank, sky_newer)


def _sky_rank(cells: dict):
    jd, candid = cells.get("i:jd"), cells.get("i:candid")
    return None if jd is None or candid is None or jd != jd else sky_order(jd, candid)
