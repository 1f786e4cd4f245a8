"""Ingest one night: read → validate → build rows → write every table → statistics last.

Workers (``ingest.prepare``) decode, validate and encode units of files in parallel;
this process receives them in input order, writes, counts and quarantines. Idempotent:
row keys are deterministic, so a second run writes the same cells. Resumable: killed at
any point, the same command run again writes everything again and completes the night;
the statistics row, written last, marks a complete night, and is counted from the store
(``ingest.statistics``), so a night ingested in parts, rerun or resumed ends with the
same row. Bad packets are quarantined with their reason and never stop the night.
"""
from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from science.bands import ZTF_FID
from settings import Config
from store import open_store

from . import prepare
from .lock import IngestLock
from .prepare import Prepared, night_of  # noqa: F401  (night_of is part of this module's API)
from .progress import Progress
from .quarantine import Quarantine, Repeats
from .readers import input_files
from .statistics import night_span, write_statistics

log = logging.getLogger("nocturne.ingest")
SEEN_LIMIT = 2_000_000
FILTERS = {fid: f"n_{band}" for fid, band in ZTF_FID.items()}
WRITE_TABLES = ("main", "jd", "pixel", "class", "tns", "anomaly", "ssnamenr", "upper", "uppervalid")


@dataclass
class NightCounts:
    """What one run read of a night (the statistics row counts the night from the store)."""
    raw: int = 0          # packets read
    sci: int = 0          # distinct alerts stored (a repeated candid counts once)
    quarantined: int = 0
    duplicates: int = 0   # packets whose candid came earlier in the run
    upper: int = 0
    badquality: int = 0
    filters: dict = field(default_factory=lambda: dict.fromkeys(FILTERS.values(), 0))
    classes: dict = field(default_factory=dict)
    objects: set = field(default_factory=set)
    dates: set = field(default_factory=set)  # UTC dates of the alerts filed under the night


@dataclass
class Summary:
    nights: dict[str, NightCounts]
    quarantined: int
    duration: float
    bytes_read: int
    dry_run: bool = False
    cutouts_dropped: int = 0  # damaged cutouts left out of alerts that were stored
    statistics: dict = field(default_factory=dict)  # night -> its statistics row, as written

    @property
    def alerts(self) -> int:
        return sum(c.sci for c in self.nights.values())

    @property
    def packets(self) -> int:
        return sum(c.raw for c in self.nights.values())

    @property
    def duplicates(self) -> int:
        return sum(c.duplicates for c in self.nights.values())


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def ingest(path: Path, config: Config, night: str | None = None, dry_run: bool = False,
           quarantine_dir: Path | None = None, show_progress: bool | None = None,
           batch_size: int = 500, workers: int | None = None) -> Summary:
    """Ingest every packet under ``path`` into the store ``config`` names.

    :param workers: processes that decode and encode (default: the CPU count, at most 4;
        1 does everything in this process).
    """
    files = input_files(Path(path))
    if not files:
        raise FileNotFoundError(f"no alert files (.avro, .tar.gz, .parquet) under {path}")
    started = time.perf_counter()
    workers = default_workers() if workers is None else max(1, workers)
    counts: dict[str, NightCounts] = {}
    work = prepare.units(files)
    with ExitStack() as stack:
        # Fork the workers before taking the lock and opening the store, so that no
        # worker holds a copy of either (a killed ingest then frees its lock at once).
        pool = _pool(stack, config, workers) if workers > 1 and len(work) > 1 else None
        writers = None
        if not dry_run:
            Path(config.data_dir).mkdir(parents=True, exist_ok=True)
            stack.enter_context(IngestLock(Path(config.data_dir) / "ingest.lock"))
            store = stack.enter_context(open_store(config, create=True))
            writers = {t: stack.enter_context(store.table(t).batch(batch_size)) for t in WRITE_TABLES}
        progress = stack.enter_context(Progress(sum(f.stat().st_size for f in files), show_progress))
        run = _Run(writers, counts, Path(quarantine_dir or Path(config.data_dir) / "quarantine"), night, dry_run,
                   Path(config.data_dir) / "repeats")
        for prepared in _prepared_units(pool, config, work, workers):
            progress.advance(prepared.nbytes)
            run.take(prepared)
            progress.alerts(run.total_sci, run.total_quarantined)
        run.flush_pending_quarantine()
        if not dry_run:
            for writer in writers.values():  # every alert is sent before the statistics
                writer.send()
            statistics = run.write_statistics(store, time.perf_counter() - started)
            if hasattr(store, "checkpoint"):
                store.checkpoint()
    duration = time.perf_counter() - started
    return Summary(counts, sum(c.quarantined for c in counts.values()), duration, progress.bytes_done, dry_run,
                   run.cutouts_dropped, statistics if not dry_run else {})


def _pool(stack: ExitStack, config: Config, workers: int) -> ProcessPoolExecutor:
    pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                                   initializer=prepare.init_worker, initargs=(config,)))
    pool.submit(int).result()  # with fork, the first task starts every worker now
    return pool


def _prepared_units(pool: ProcessPoolExecutor | None, config: Config, work: list, workers: int):
    """Prepared units in input order: in this process, or from the pool with a bounded queue."""
    if pool is None:
        preparer = prepare.Preparer(config)
        for unit in work:
            yield preparer.run(unit)
        return
    pending: deque = deque()
    for unit in work:
        pending.append(pool.submit(prepare.run_unit, unit))
        if len(pending) >= 2 * workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class _Run:
    """What one run accumulates while it takes prepared units in order."""

    def __init__(self, writers, counts, root, night, dry_run, repeats_root):
        self.writers, self.counts, self.root, self.night, self.dry_run = writers, counts, root, night, dry_run
        self.repeats_root = repeats_root
        self.quarantines: dict[str, Quarantine] = {}
        self.repeats: dict[str, Repeats] = {}
        self.seen: set = set()
        self.written: dict = {}
        self.pending: list = []
        self.total_sci = 0
        self.total_quarantined = 0
        self.cutouts_dropped = 0

    def _counts(self, night: str) -> NightCounts:
        c = self.counts.get(night)
        if c is None:
            c = self.counts[night] = NightCounts()
        return c

    def take(self, prepared: Prepared) -> None:
        for packet, reason, night in prepared.rejects:
            self.reject(packet, reason, night)
        for packet, reason, night in prepared.cutouts:
            self.drop_cutout(packet, reason, night)
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
                self._repeats(night).repeat(alert.source, alert.index, alert.candid, alert.object_id)
            w = self.writers
            if w is not None:
                for table, key, payload in alert.writes:
                    w[table].put_encoded(key, payload)
            for key, payload in alert.upper:
                new, changed = self._history(key, payload)
                c.upper += new
                if changed and w is not None:
                    w["upper"].put_encoded(key, payload)
            for key, payload in alert.badquality:
                new, changed = self._history("b" + key, payload)
                c.badquality += new
                if changed and w is not None:
                    w["uppervalid"].put_encoded(key, payload)

    def reject(self, packet, reason: str, night: str | None) -> None:
        self.total_quarantined += 1
        night = self.night or night
        if night is None:  # unreadable: its night is known once some alert has been read
            self.pending.append((packet, reason))
            return
        self._quarantine(night).add(packet, reason)
        c = self._counts(night)
        c.raw += 1
        c.quarantined += 1

    def drop_cutout(self, packet, reason: str, night: str) -> None:
        """A quarantine line (and the packet as evidence) for a damaged cutout; the alert itself is stored."""
        self.cutouts_dropped += 1
        self._quarantine(self.night or night).add(packet, reason, cutout=True)

    def _quarantine(self, night: str) -> Quarantine:
        q = self.quarantines.get(night)
        if q is None:
            q = self.quarantines[night] = Quarantine(self.root, night, self.dry_run)
        return q

    def _repeats(self, night: str) -> Repeats:
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

    def _history(self, key: str, payload) -> tuple[bool, bool]:
        """(first time the run meets ``key``, ``payload`` differs from the last one written there).

        A history row (upper limit, bad-quality detection) comes in every later packet of its
        object; only a write that would change the row is sent. Two packets may carry different
        rows under one key (same object and jd): each is written in input order, as separate
        runs would write them, so a night ingested in parts ends as one run would leave it."""
        fingerprint = _fingerprint(payload)
        last = self.written.get(key)
        if last == fingerprint:
            return False, False
        if len(self.written) >= SEEN_LIMIT:
            self.written.clear()
        self.written[key] = fingerprint
        return last is None, True

    def _first(self, key: str) -> bool:
        if key in self.seen:
            return False
        if len(self.seen) >= SEEN_LIMIT:
            self.seen.clear()
        self.seen.add(key)
        return True


    def write_statistics(self, store, duration: float) -> dict:
        """One row per night the run touched, after everything else: a night with this row
        is complete. Counted from the store and the night's ledgers, not from this run."""
        out = {}
        for night, c in sorted(self.counts.items()):
            out[night] = write_statistics(store, night, _span(night, c.dates), self._quarantine(night).packets,
                                          len(self._repeats(night)), duration)
        return out


def _fingerprint(payload) -> int:
    """A hash of an encoded row (embedded: families and blobs; HBase: column -> bytes)."""
    if isinstance(payload, dict):
        return hash(frozenset(payload.items()))
    families, blobs = payload
    return hash((families, *blobs))


def _span(night: str, dates: set) -> tuple[float, float]:
    """The JD range to count a night over: its UTC date, widened to the dates of the alerts
    filed under it (``--night`` may file alerts of other dates under a night)."""
    spans = [night_span(d) for d in {night, *dates}]
    return min(s[0] for s in spans), max(s[1] for s in spans)
