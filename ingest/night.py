"""Ingest one night: read → validate → build rows → write every table → statistics last.

Idempotent: row keys are deterministic, so a second run writes the same cells. Resumable:
killed at any point, the same command run again writes everything again and completes
the night; the statistics row, written last, is the mark of a complete night. Bad
packets are quarantined with their reason and never stop the night.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from hbase_schema import get_schema
from settings import Config
from store import open_store
from store.codec import ColumnValueError
from store.sky import pixels

from .lock import IngestLock
from .progress import Progress
from .quarantine import Quarantine
from .readers import input_files, packets
from .rows import RowBuilder
from .validate import problem

log = logging.getLogger("nocturne.ingest")
CHUNK = 500
SEEN_LIMIT = 2_000_000
FILTERS = {1: "n_g", 2: "n_r", 3: "n_i"}
WRITE_TABLES = ("main", "jd", "pixel", "class", "ssnamenr", "upper", "uppervalid")


@dataclass
class NightCounts:
    raw: int = 0
    sci: int = 0
    quarantined: int = 0
    duplicates: int = 0
    upper: int = 0
    badquality: int = 0
    filters: dict = field(default_factory=lambda: {"n_g": 0, "n_r": 0, "n_i": 0})
    classes: dict = field(default_factory=dict)
    objects: set = field(default_factory=set)

    def cells(self, night: str, duration: float) -> dict:
        cells = {"basic:raw": self.raw, "basic:sci": self.sci, "basic:n_objects": len(self.objects),
                 "basic:quarantined": self.quarantined, "basic:duplicates": self.duplicates,
                 "basic:upper": self.upper,
                 "basic:badquality": self.badquality, "basic:date": night,
                 "basic:duration_s": round(duration, 3),
                 "basic:finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        cells.update({f"basic:{k}": v for k, v in self.filters.items()})
        cells.update({f"class:{k}": v for k, v in self.classes.items()})
        return cells


@dataclass
class Summary:
    nights: dict[str, NightCounts]
    quarantined: int
    duration: float
    bytes_read: int
    dry_run: bool = False

    @property
    def alerts(self) -> int:
        return sum(c.sci for c in self.nights.values())

    @property
    def packets(self) -> int:
        return sum(c.raw for c in self.nights.values())

    @property
    def duplicates(self) -> int:
        return sum(c.duplicates for c in self.nights.values())


def night_of(jd: float) -> str:
    """The night (YYYYMMDD) of an observation: its UTC date, as ZTF's nightly archive names it
    (ZTF observes between about 02:00 and 16:00 UTC, within one UTC date)."""
    return (dt.datetime(2000, 1, 1, 12) + dt.timedelta(days=jd - 2451545.0)).strftime("%Y%m%d")


def ingest(path: Path, config: Config, night: str | None = None, dry_run: bool = False,
           quarantine_dir: Path | None = None, show_progress: bool | None = None,
           batch_size: int = 500) -> Summary:
    """Ingest every packet under ``path`` into the store ``config`` names."""
    files = input_files(Path(path))
    if not files:
        raise FileNotFoundError(f"no alert files (.avro, .tar.gz, .parquet) under {path}")
    started = time.perf_counter()
    schema = get_schema()
    builder = RowBuilder(schema)
    quarantine_root = Path(quarantine_dir or Path(config.data_dir) / "quarantine")
    counts: dict[str, NightCounts] = {}
    lock = IngestLock(Path(config.data_dir) / "ingest.lock")
    with ExitStack() as stack:
        if not dry_run:
            Path(config.data_dir).mkdir(parents=True, exist_ok=True)
            stack.enter_context(lock)
            store = stack.enter_context(open_store(config, create=True))
            writers = {t: stack.enter_context(store.table(t).batch(batch_size)) for t in WRITE_TABLES}
        else:
            store, writers = None, None
        progress = stack.enter_context(Progress(sum(f.stat().st_size for f in files), show_progress))
        quarantines: dict[str, Quarantine] = {}
        seen: set = set()
        state = _RunState(builder, writers, counts, quarantines, quarantine_root, night, dry_run, seen, schema)
        chunk = []
        for packet in packets(path):
            progress.advance(packet.size)
            chunk.append(packet)
            if len(chunk) >= CHUNK:
                state.process(chunk)
                progress.alerts(state.total_sci, state.total_quarantined)
                chunk = []
        if chunk:
            state.process(chunk)
            progress.alerts(state.total_sci, state.total_quarantined)
        if state.pending_quarantine:
            state.flush_quarantine(night or (max(counts, key=lambda n: counts[n].sci) if counts else None)
                                   or dt.date.today().strftime("%Y%m%d"))
        # Leaving the writers' contexts sends the last batches; statistics come after.
        if not dry_run:
            for writer in writers.values():
                writer.send()
            duration = time.perf_counter() - started
            _write_statistics(store, counts, duration)
            if hasattr(store, "checkpoint"):
                store.checkpoint()
    duration = time.perf_counter() - started
    return Summary(counts, sum(c.quarantined for c in counts.values()), duration, progress.bytes_done, dry_run)


class _RunState:
    """What one run accumulates while it walks the packets."""

    def __init__(self, builder, writers, counts, quarantines, root, night, dry_run, seen, schema):
        self.builder, self.writers, self.counts = builder, writers, counts
        self.quarantines, self.root, self.night, self.dry_run = quarantines, root, night, dry_run
        self.seen, self.order = seen, schema.pixel_order
        self.pending_quarantine: list = []
        self.total_sci = 0
        self.total_quarantined = 0

    def _counts(self, night: str) -> NightCounts:
        c = self.counts.get(night)
        if c is None:
            c = self.counts[night] = NightCounts()
        return c

    def reject(self, packet, reason: str, night: str | None = None) -> None:
        self.total_quarantined += 1
        night = self.night or night
        if night is None:  # unreadable: its night is known once some alert has been read
            self.pending_quarantine.append((packet, reason))
            return
        self._quarantine(night).add(packet, reason)
        c = self._counts(night)
        c.raw += 1
        c.quarantined += 1

    def _quarantine(self, night: str) -> Quarantine:
        q = self.quarantines.get(night)
        if q is None:
            q = self.quarantines[night] = Quarantine(self.root, night, self.dry_run)
        return q

    def flush_quarantine(self, night: str) -> None:
        pending, self.pending_quarantine = self.pending_quarantine, []
        self.total_quarantined -= len(pending)
        for packet, reason in pending:
            self.reject(packet, reason, night)

    def process(self, chunk: list) -> None:
        built = []
        for packet in chunk:
            if packet.error:
                self.reject(packet, packet.error)
                continue
            reason = problem(packet.record)
            if reason:
                jd = (packet.record.get("candidate") or {}).get("jd") if isinstance(packet.record, dict) else None
                self.reject(packet, reason, night_of(jd) if isinstance(jd, float) and 2415020 < jd < 2488070 else None)
                continue
            try:
                built.append((packet, self.builder.build(packet.record, packet.typed)))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                self.reject(packet, f"malformed packet: {type(exc).__name__}: {exc}",
                            night_of(packet.record["candidate"]["jd"]))
        if not built:
            return
        pix = pixels([r.ra for _, r in built], [r.dec for _, r in built], self.order)
        for (packet, rows), pixel in zip(built, pix.tolist()):
            night = self.night or night_of(rows.jd)
            if not self.dry_run:
                try:
                    self._write(rows, pixel)
                except ColumnValueError as exc:
                    self.reject(packet, f"value out of type: {exc}", night)
                    continue
            c = self._counts(night)
            c.raw += 1
            c.sci += 1
            self.total_sci += 1
            c.objects.add(hash(rows.object_id))
            if not self._first(f"c{rows.candid}"):
                c.duplicates += 1
            c.filters[FILTERS[rows.fid]] += 1
            c.classes[rows.classification] = c.classes.get(rows.classification, 0) + 1
            for key, _ in rows.upper:
                if self._first(key):
                    c.upper += 1
            for key, _ in rows.badquality:
                if self._first("b" + key):
                    c.badquality += 1

    def _first(self, key: str) -> bool:
        if key in self.seen:
            return False
        if len(self.seen) >= SEEN_LIMIT:
            self.seen.clear()
        self.seen.add(key)
        return True

    def _write(self, rows, pixel: int) -> None:
        w = self.writers
        w["main"].put(*rows.main)
        for table, (key, cells) in self.builder.index_rows(rows, pixel).items():
            w[table].put(key, cells)
        for key, cells in rows.upper:
            if key not in self.seen:
                w["upper"].put(key, cells)
        for key, cells in rows.badquality:
            if "b" + key not in self.seen:
                w["uppervalid"].put(key, cells)


def _write_statistics(store, counts: dict[str, NightCounts], duration: float) -> None:
    """One row per night, after everything else: a night with this row is complete.

    A rerun that found exactly the same counts leaves the existing row as it was, so
    ingesting a night twice leaves every table as after one run.
    """
    table = store.table("statistics")
    for night, c in sorted(counts.items()):
        key = table.keys.build(store.prefix, night)
        cells = c.cells(night, duration)
        old = table.row(key)
        volatile = ("basic:duration_s", "basic:finished")
        if old and {k: v for k, v in old.items() if k not in volatile} == \
                {k: v for k, v in cells.items() if k not in volatile}:
            continue
        table.put(key, cells)
