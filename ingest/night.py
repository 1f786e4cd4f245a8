"""Ingest one night, top down: plan → prepare (read, validate, rows) → write → statistics.

1. ``plan``: the input files, cut into units of work, and how many processes prepare them;
2. ``prepare``: worker processes read and decode each unit, validate every packet, build
   its rows for every alert table and encode them, handing the units back in input order;
3. ``write``: this process takes them in that order, counts, quarantines and sends the
   encoded rows in batches (the only writer of the alert tables, one ingest at a time by
   ``lock``);
4. ``statistics``: last, each night's row, counted from the store.

Idempotent: row keys are deterministic, so a second run writes the same cells. Resumable:
killed at any point, the same command run again writes everything again and completes the
night; the statistics row, written last, marks a complete night, and is counted from the
store, so a night ingested in parts, rerun or resumed ends with the same row. Bad packets
are quarantined with their reason and never stop the night.
"""
from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from settings import Config
from store import open_store
from store.sqlite_file import ingest_pragmas

from .gc_pause import gc_paused
from .lock import IngestLock
from .malloc_threshold import fix_mmap_threshold
from .plan import plan as plan_night
from .prepare import Workers
from .progress import Progress
from .surveys import Survey, detect, survey as survey_named
from .write import NightCounts, Writer


def ingest(path: Path, config: Config, night: str | None = None, dry_run: bool = False,
           quarantine_dir: Path | None = None, show_progress: bool | None = None,
           batch_size: int | None = None, workers: int | None = None, survey: str | None = None,
           schema_path: Path | None = None, rewrite_history: bool = False) -> Summary:
    """Ingest every packet under ``path`` into the store ``config`` names.

    :param night: YYYYMMDD to file every alert under (default: each alert's UTC date).
    :param batch_size: rows per write batch (default: the survey's, ``Survey.batch_size``).
    :param workers: processes that decode and encode (default: the CPU count, at most 4;
        1 does everything in this process).
    :param survey: ``ztf`` or ``rubin`` (default: told from the files, ``ingest.surveys.detect``).
    :param schema_path: Rubin's writer schema (.avsc file or folder) for Confluent wire messages.
    :param rewrite_history: Rubin: send every previous and forced source, also those the store
        holds (by default they are skipped before encoding: ``ingest.rubin.lists``).
    """
    started = time.perf_counter()
    config = config.for_ingest()  # its HBase calls wait out a region split (workers get it too)
    plan = plan_night(Path(path), night, workers)
    chosen = survey_named(survey or detect(plan.files), schema_path, rewrite_history)
    if chosen.split is not None:  # big files cut into parts, each a unit of work
        plan = plan_night(Path(path), night, workers, chosen.split)
    data_dir = Path(config.data_dir)
    with ExitStack() as stack:
        # no memory-mapped SQLite reads in the ingest's processes: the mapped pages were ~250 MB of
        # the writer's resident memory on a big night, Rubin's (issue 19) and ZTF's (issue 22)
        stack.enter_context(ingest_pragmas())
        prepared = stack.enter_context(Workers(config, plan, chosen.preparer))  # forked before the lock and the store
        if chosen.bulk:  # the writer's big blocks (units) back to the system once freed; not the workers' (CPU)
            fix_mmap_threshold()
        store, batches = None, None
        if not dry_run:
            data_dir.mkdir(parents=True, exist_ok=True)
            stack.enter_context(IngestLock(data_dir / "ingest.lock"))
            store = stack.enter_context(open_store(config, create=True, schema=chosen.schema))
            batches = {t: stack.enter_context(store.table(t).batch(chosen.batch_size_of(t, batch_size)))
                       for t in chosen.tables(store.schema)}
        writer = chosen.writer(batches, plan.night, Path(quarantine_dir or data_dir / "quarantine"),
                               data_dir / "repeats", dry_run, store)
        progress = stack.enter_context(Progress(plan.nbytes, show_progress))
        if chosen.bulk:  # units of many small objects: no collection walks them (ingest.gc_pause)
            stack.enter_context(gc_paused())
        for unit in prepared.prepared():
            progress.advance(unit.nbytes)
            with gc_paused():  # a unit's rows are many small containers: collected after it is taken, not during
                writer.take(unit)
            del unit  # (not held while the next one is unpickled)
            progress.alerts(writer.total_sci, writer.total_quarantined)
        writer.flush_pending_quarantine()
        statistics = {}
        if not dry_run:
            writer.send()  # every alert is sent before the statistics
            statistics = write_statistics(chosen, store, writer, time.perf_counter() - started)
            if hasattr(store, "checkpoint"):
                store.checkpoint()
    counts = writer.counts
    return Summary(counts, sum(c.quarantined for c in counts.values()), time.perf_counter() - started,
                   progress.bytes_done, dry_run, writer.cutouts_dropped, statistics, chosen.name)


def write_statistics(survey: Survey, store, writer: Writer, duration: float) -> dict:
    """One row per night the run touched, after everything else: a night with this row is
    complete. Counted from the store and the night's ledgers, not from this run."""
    return {night: survey.write_statistics(store, night, _span(survey, night, c.dates),
                                           writer.quarantine(night).packets, len(writer.repeats_of(night)), duration)
            for night, c in sorted(writer.counts.items())}


@dataclass
class Summary:
    nights: dict[str, NightCounts]
    quarantined: int
    duration: float
    bytes_read: int
    dry_run: bool = False
    cutouts_dropped: int = 0  # damaged cutouts left out of alerts that were stored
    statistics: dict = field(default_factory=dict)  # night -> its statistics row, as written
    survey: str = "ztf"

    @property
    def alerts(self) -> int:
        return sum(c.sci for c in self.nights.values())

    @property
    def packets(self) -> int:
        return sum(c.raw for c in self.nights.values())

    @property
    def duplicates(self) -> int:
        return sum(c.duplicates for c in self.nights.values())


def _span(survey: Survey, night: str, dates: set) -> tuple[float, float]:
    """The range (JD for ZTF, MJD for Rubin) to count a night over: its UTC date, widened to the
    dates of the alerts filed under it (``--night`` may file alerts of other dates under a night)."""
    spans = [survey.night_span(d) for d in {night, *dates}]
    return min(s[0] for s in spans), max(s[1] for s in spans)
