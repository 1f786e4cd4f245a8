"""Write a night's prepared Rubin units in input order: the only step that writes Rubin alerts.

:class:`RubinWriter` keeps :class:`ingest.write.Writer`'s bookkeeping (counts per night,
quarantine, repeats ledger, unreadable packets filed under the busiest night) and sends:

- each alert's rows (its source, index rows, cutouts); a diaSourceId met earlier in the run
  is counted as a repeat and written again under the same keys (stored once);
- previous sources, each key once per run (a source repeated by every later packet of its
  object is sent once; keys are deterministic, so a rerun writes the same cells); the keys
  sent are kept compact (``ingest.sent_keys``: the last units' exactly, older ones as 64-bit
  hashes, a hash match confirmed by reading the store, so a collision never loses a row);
- forced sources as the workers grouped them, in blocks (``store.records``): a put into a
  stored block adds its cells, so a forced source two units both sent is still one cell;
- the ``objects`` row of each object only when the packet's diaObject is newer than the one
  stored (by the alert source's ``midpointMjdTai``, then ``diaSourceId``): the stored row is
  the newest packet's whatever order packets, units or runs come in, and a rerun writes none.
"""
from __future__ import annotations

from pathlib import Path

from ..gc_pause import gc_paused
from ..sent_keys import SentKeys
from ..write import SEEN_LIMIT, SENT_UNITS, NightCounts, Writer
from .validate import BANDS

ORDER_COLUMNS = ["r:midpointMjdTai", "r:diaSourceId"]


class RubinCounts(NightCounts):
    """A night's counts with Rubin's six bands."""

    def __init__(self):
        super().__init__(filters={f"n_{b}": 0 for b in BANDS})
        self.sources = 0   # previous sources sent (first time in the run)
        self.forced = 0    # forced sources sent: those the store did not hold when a worker prepared
        #                    their unit (a copy two workers' units both sent counts twice, stored once)


class RubinWriter(Writer):
    """``batches``: table -> the store's batch (None for a dry run); ``objects``: the store's
    objects table, read to compare diaObjects with the stored ones."""

    def __init__(self, batches: dict | None, night: str | None, quarantine_root: Path, repeats_root: Path,
                 dry_run: bool = False, objects=None):
        super().__init__(batches, night, quarantine_root, repeats_root, dry_run)
        self.objects = objects
        self.newest: dict = {}  # object key -> the newest (mjd, diaSourceId) stored or sent by this run
        units = SENT_UNITS if batches is not None else 1 << 62  # a dry run stores nothing to confirm against
        self.sent = {"sources": SentKeys(units, SEEN_LIMIT)}  # previous sources' keys sent by this run
        self.confirmed = 0  # keys a hash matched, read from the store to confirm

    def _counts(self, night: str) -> NightCounts:
        c = self.counts.get(night)
        if c is None:
            c = self.counts[night] = RubinCounts()
        return c

    def take(self, prepared) -> None:
        """Take one :class:`ingest.prepare.Prepared` unit of Rubin alerts, the next in input order."""
        with gc_paused():
            self._take(prepared)

    def _take(self, prepared) -> None:
        for packet, reason, night in prepared.rejects:
            self.reject(packet, reason, night)
        for packet, reason, night in prepared.cutouts:
            self.drop_cutout(packet, reason, night)
        w = self.batches
        held = {"sources": self._held("sources", [k for a in prepared.alerts for k, _ in a.prv])}
        for alert in prepared.alerts:
            night = self.night or alert.night
            c = self._counts(night)
            c.raw += 1
            if self._first(f"s{alert.source_id}"):
                c.sci += 1
                self.total_sci += 1
                c.dates.add(alert.night)
                if alert.object_id:  # (0: a solar-system source)
                    c.objects.add(alert.object_id)
                c.filters[f"n_{alert.band}"] += 1
            else:
                c.duplicates += 1
                self.repeats_of(night).repeat(alert.source, alert.index, alert.source_id, str(alert.object_id))
            if w is not None:
                for table, key, payload in alert.writes:
                    w[table].put_encoded(key, payload)
            own = alert.writes[0][1] if alert.writes else None  # (none on a cluster's client: ingest.distributed)
            if own is not None and own not in self.sent["sources"]:
                self.sent["sources"].add([own])  # its source row: a previous-source copy is not sent again
            fresh = self._fresh("sources", alert.prv, held["sources"])
            c.sources += len(fresh)
            if w is not None and fresh:
                w["sources"].put_encoded_many(fresh)
            c.forced += alert.forced
            if w is not None:
                for key, payload in alert.fp:  # (one at a time: a block is no row sent once a run, ingest.conflicts)
                    w["fp"].put_encoded(key, payload)
        self._objects([a.obj for a in prepared.alerts if a.obj is not None])
        for sent in self.sent.values():
            sent.end_unit()
            if self.batches is None and len(sent.recent) >= SEEN_LIMIT:  # a dry run keeps keys exactly, bounded
                sent.clear()

    def _fresh(self, table: str, rows: list, held: set) -> list:
        """The ``(key, payload)`` rows of ``table`` whose key this run has not sent yet (``held``:
        the unit's keys sent units ago, confirmed in the store)."""
        if not rows:
            return rows
        sent = self.sent[table]
        recent = sent.recent
        keys = [k for k, _ in rows]
        if recent.isdisjoint(keys) and held.isdisjoint(keys):  # the usual case (the workers dedupe): no copy
            fresh = rows
        else:
            fresh = [kp for kp in rows if kp[0] not in recent and kp[0] not in held]
            keys = [k for k, _ in fresh]
        before = len(recent)
        sent.add(keys)
        if len(recent) - before == len(fresh):
            return fresh
        first: set = set()
        return [kp for kp in fresh if kp[0] not in first and not first.add(kp[0])]  # (repeats within rows)

    def _held(self, table: str, keys: list) -> set:
        """Of ``keys``, those sent units ago: their hash matched a key this run sent (the key
        itself unless two keys share a hash), confirmed by reading the store (the batch sent
        first, so every row this run put is read). One read a unit, when any hash matched."""
        maybe = self.sent[table].maybe(keys)
        if not maybe:
            return set()
        self.confirmed += len(maybe)
        batch = self.batches[table]
        batch.send()
        return set(batch.table.read(keys=maybe, columns=[]).keys)

    def _objects(self, candidates: list) -> None:
        """Send each object's diaObject of this unit when newer than what is stored or sent."""
        best: dict = {}
        for key, order, payload in candidates:
            if key not in best or order > best[key][0]:
                best[key] = (order, payload)
        if len(self.newest) >= SEEN_LIMIT:  # forgotten before the read, which then reads them back
            if self.batches is not None:
                self.batches["objects"].send()
            self.newest.clear()
        unknown = [k for k in best if k not in self.newest]
        if unknown and self.objects is not None:
            stored = self.objects.read(keys=unknown, columns=list(ORDER_COLUMNS))
            for k, (_, cells) in zip(stored.keys, stored.rows()):
                mjd, sid = cells.get(ORDER_COLUMNS[0]), cells.get(ORDER_COLUMNS[1])
                if mjd is not None and sid is not None and mjd == mjd:  # (NaN: no cell)
                    self.newest[k] = (float(mjd), int(sid))
        for key, (order, payload) in best.items():
            current = self.newest.get(key)
            if current is not None and order <= current:
                continue
            self.newest[key] = order
            if self.batches is not None:
                batch = self.batches["objects"]
                if current is not None:
                    batch.delete(key)  # the newer diaObject replaces the row: no cell of the older one stays
                batch.put_encoded(key, payload)
