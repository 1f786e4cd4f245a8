"""Write a night's prepared units, in input order: the only step that writes alerts.

:class:`Writer` takes the units ``ingest.prepare`` hands back, counts what each night of the
run read, sends the encoded rows to the store's batches, lists repeated packets
(``quarantine.Repeats``), quarantines bad packets and damaged cutouts
(``quarantine.Quarantine``), and sends a history row (upper limit, bad-quality detection,
forced-photometry point)
only when it would change what the run last wrote under its key, and a row of the object-level
sky index only when its alert is newer than the row's (``ingest.newest``). Row keys are
deterministic, so a rerun writes the same cells. The keys met are kept compact and exact
(``ingest.compact_keys``): ~37 bytes a history key, ~20 a candid, not ~150.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from science.bands import ZTF_FID

from .compact_keys import CompactKeys
from .quarantine import Quarantine, Repeats

SEEN_LIMIT = 2_000_000
SENT_UNITS = 6  # units whose history keys the Rubin writer keeps exactly (older ones as hashes: ingest.sent_keys)
FILTERS = {fid: f"n_{band}" for fid, band in ZTF_FID.items()}


@dataclass
class NightCounts:
    """What one run read of a night (the statistics row counts the night from the store)."""
    raw: int = 0          # packets read
    sci: int = 0          # distinct alerts stored (a repeated candid counts once)
    quarantined: int = 0
    duplicates: int = 0   # packets whose candid came earlier in the run
    upper: int = 0
    badquality: int = 0
    forced: int = 0       # forced-photometry points (fp_hists) first met in the run
    filters: dict = field(default_factory=lambda: {"n_g": 0, "n_r": 0, "n_i": 0})
    classes: dict = field(default_factory=dict)
    objects: set = field(default_factory=set)
    dates: set = field(default_factory=set)  # UTC dates of the alerts filed under the night


class Writer:
    """Takes the prepared units of a run in input order: counts, quarantines, and sends the
    encoded rows to ``batches`` (table -> the store's batch; None for a dry run)."""

    def __init__(self, batches: dict | None, night: str | None, quarantine_root: Path, repeats_root: Path,
                 dry_run: bool = False, sky=None):
        self.batches, self.night, self.dry_run = batches, night, dry_run
        self.sky = sky  # the object-level sky index's rows, sent only when newer (ingest.newest.NewestRows)
        self.root, self.repeats_root = Path(quarantine_root), Path(repeats_root)
        self.counts: dict[str, NightCounts] = {}
        self.quarantines: dict[str, Quarantine] = {}
        self.repeats: dict[str, Repeats] = {}
        self.seen = CompactKeys(SEEN_LIMIT)     # the candids met (``_first``)
        self.written = CompactKeys(SEEN_LIMIT)  # history key -> fingerprint of the last payload written (``_history``)
        self.pending: list = []
        self.total_sci = 0
        self.total_quarantined = 0
        self.cutouts_dropped = 0

    def send(self) -> None:
        """Send what every batch holds (before the statistics, which count from the store)."""
        for batch in (self.batches or {}).values():
            batch.send()

    def _counts(self, night: str) -> NightCounts:
        c = self.counts.get(night)
        if c is None:
            c = self.counts[night] = NightCounts()
        return c

    def take(self, prepared) -> None:
        """Take one :class:`ingest.prepare.Prepared` unit, the next in input order."""
        for packet, reason, night in prepared.rejects:
            self.reject(packet, reason, night)
        for packet, reason, night in prepared.cutouts:
            self.drop_cutout(packet, reason, night)
        held = self.written.older([p + k for a in prepared.alerts
                                   for p, rows in (("", a.upper), ("b", a.badquality), ("f", a.forced)) for k, _ in rows])
        for alert in prepared.alerts:
            night = self.night or alert.night
            c = self._counts(night)
            c.raw += 1
            if self._first(f"c{alert.candid}"):
                c.sci += 1
                self.total_sci += 1
                c.dates.add(alert.night)
                c.objects.add(alert.object_id)
                c.filters[FILTERS[alert.fid]] += 1
                c.classes[alert.classification] = c.classes.get(alert.classification, 0) + 1
            else:  # written again under the same keys (stored once), counted apart
                c.duplicates += 1
                self.repeats_of(night).repeat(alert.source, alert.index, alert.candid, alert.object_id)
            w = self.batches
            if w is not None:
                for table, key, payload in alert.writes:
                    w[table].put_encoded(key, payload)
            for key, payload in alert.upper:
                new, changed = self._history(key, payload, held)
                c.upper += new
                if changed and w is not None:
                    w["upper"].put_encoded(key, payload)
            for key, payload in alert.badquality:
                new, changed = self._history("b" + key, payload, held)
                c.badquality += new
                if changed and w is not None:
                    w["uppervalid"].put_encoded(key, payload)
            for key, payload in alert.forced:
                new, changed = self._history("f" + key, payload, held)
                c.forced += new
                if changed and w is not None:
                    w["fp"].put_encoded(key, payload)
        self.written.compact()  # (after the unit: ``held`` holds until then)
        if self.sky is not None:
            self.sky.offer([a.sky for a in prepared.alerts if a.sky is not None])

    def reject(self, packet, reason: str, night: str | None) -> None:
        self.total_quarantined += 1
        night = self.night or night
        if night is None:  # unreadable: its night is known once some alert has been read
            self.pending.append((packet, reason))
            return
        self.quarantine(night).add(packet, reason)
        c = self._counts(night)
        c.raw += 1
        c.quarantined += 1

    def drop_cutout(self, packet, reason: str, night: str) -> None:
        """A quarantine line (and the packet as evidence) for a damaged cutout; the alert itself is stored."""
        self.cutouts_dropped += 1
        self.quarantine(self.night or night).add(packet, reason, cutout=True)

    def quarantine(self, night: str) -> Quarantine:
        q = self.quarantines.get(night)
        if q is None:
            q = self.quarantines[night] = Quarantine(self.root, night, self.dry_run)
        return q

    def repeats_of(self, night: str) -> Repeats:
        r = self.repeats.get(night)
        if r is None:
            r = self.repeats[night] = Repeats(self.repeats_root, night, self.dry_run)
        return r

    def flush_pending_quarantine(self) -> None:
        """File unreadable packets under the night most alerts belong to."""
        if not self.pending:
            return
        busiest = max(self.counts, key=lambda n: self.counts[n].sci) if self.counts else None
        night = self.night or busiest or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")
        pending, self.pending = self.pending, []
        self.total_quarantined -= len(pending)
        for packet, reason in pending:
            self.reject(packet, reason, night)

    def _history(self, key: str, payload, held: dict) -> tuple[bool, bool]:
        """(first time the run meets ``key``, ``payload`` differs from the last one written there).

        A history row (upper limit, bad-quality detection) comes in every later packet of its
        object; only a write that would change the row is sent. Two packets may carry different
        rows under one key (same object and jd): each is written in input order, as separate
        runs would write them, so a night ingested in parts ends as one run would leave it.
        ``held``: the unit's keys the compact arrays hold (``CompactKeys.older``)."""
        fingerprint = _fingerprint(payload)
        last = self.written.get(key, held)
        if last == fingerprint:
            return False, False
        self.written[key] = fingerprint
        return last is None, True

    def _first(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen[key] = 0
        self.seen.compact()
        return True


def _fingerprint(payload) -> int:
    """A hash of an encoded row (embedded: families and blobs; HBase: column -> bytes)."""
    if isinstance(payload, dict):
        return hash(frozenset(payload.items()))
    families, blobs = payload
    return hash((families, *blobs))
