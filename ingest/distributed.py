"""Ingest one night across machines on a Dask distributed cluster (``python -m ingest night PATH
--cluster tcp://SCHEDULER:8786`` or ``--cluster local:N``).

The steps of ``ingest.night``, spread out:

1. plan, here (``ingest.plan``): the files and their units, the order every count follows;
2. one Dask task per unit (``ingest.unit_task.run_unit``), on any worker: prepare the unit and
   write its rows to the store from the worker; back comes a small summary;
3. here, the summaries taken in input order by a :class:`ingest.write.Writer` that writes no
   alert row: it counts, files the quarantine and the repeats ledger (on this machine's disk),
   and applies the newest-alert rule of the object-level sky index (one writer: no race);
4. here, last, once every task is done: each night's statistics row, counted from the store.

Idempotent and resumable as the single-machine ingest: keys are deterministic, so a unit run
twice writes the same cells. Dask reruns the units of a lost worker on another one (up to
``distributed.scheduler.allowed-failures`` lost workers per unit); a unit whose task raises is
tried ``RETRIES`` more times, then the night stops with an error and no statistics row (run
the same command again: it resumes). Bad packets never raise: they come back quarantined.
The night lock (``ingest.lock``) is taken here, on this machine's ``data_dir``.
"""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from settings import Config
from store import open_store

from .cluster import check, connect
from .conflicts import Fingerprints
from .lock import IngestLock
from .newest import sky_writer
from .night import Summary, write_statistics
from .plan import plan as plan_night
from .progress import Progress
from .rows import SKY
from .surveys import detect, survey as survey_named
from .unit_task import rows_of, run_unit
from .write import Writer

RETRIES = 2
log = logging.getLogger("nocturne.ingest")


class ClusterRefused(ValueError):
    """The store or the night cannot be ingested on a cluster (the message says why)."""


class UnitLost(RuntimeError):
    """A unit's workers kept dying (``distributed.KilledWorker``): the night stops unfinished."""


def ingest_on_cluster(path: Path, config: Config, cluster: str, night: str | None = None,
                      quarantine_dir: Path | None = None, show_progress: bool | None = None,
                      batch_size: int | None = None, survey: str | None = None) -> Summary:
    """Ingest every packet under ``path`` into the store ``config`` names, one Dask task per unit
    on the cluster at ``cluster`` (``tcp://HOST:PORT`` or ``local:N``). ``path`` must be readable
    at the same place on every worker."""
    started = time.perf_counter()
    check(cluster)
    refuse_embedded(config)
    path = Path(path).resolve()  # workers open the files by this path; ledgers key packets by it
    plan = plan_night(path, night, 1)
    name = survey or detect(plan.files)
    chosen = survey_named(name)
    if name != "ztf":
        raise ClusterRefused(f"--cluster ingests ZTF nights; a {name} night runs on one machine "
                             f"(drop --cluster: its workers are processes of that machine)")
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        stack.enter_context(IngestLock(data_dir / "ingest.lock"))
        store = stack.enter_context(open_store(config, create=True))  # tables exist before any worker writes
        client = stack.enter_context(connect(cluster))
        sky = stack.enter_context(store.table(SKY).batch(batch_size or 500))
        writer = Writer(None, plan.night, Path(quarantine_dir or data_dir / "quarantine"), data_dir / "repeats",
                        sky=sky_writer(store, {SKY: sky}))
        progress = stack.enter_context(Progress(plan.nbytes, show_progress))
        run = uuid.uuid4().hex[:12]
        futures = [client.submit(run_unit, config, name, unit, batch_size, key=f"nocturne-unit-{i}-{run}",
                                 pure=False, retries=RETRIES) for i, unit in enumerate(plan.units)]
        fingerprints = Fingerprints()
        for i, done in enumerate(in_input_order(futures, plan.units)):
            fingerprints.add(i, done.fingerprints)
            progress.advance(done.prepared.nbytes)
            writer.take(done.prepared)
            for alert_night, (upper, badquality, forced) in done.history.items():
                c = writer.counts[plan.night or alert_night]
                c.upper, c.badquality, c.forced = c.upper + upper, c.badquality + badquality, c.forced + forced
            progress.alerts(writer.total_sci, writer.total_quarantined)
        writer.flush_pending_quarantine()
        log.info("%d units written by the workers in %.1f s", len(plan.units), time.perf_counter() - started)
        put = rewrite_conflicts(client, config, name, plan.units, fingerprints, store, batch_size or 500)
        sky.send()  # every row is stored before the statistics count them
        log.info("%d row versions put again in input order (keys units wrote differently); at %.1f s",
                 put, time.perf_counter() - started)
        statistics = write_statistics(chosen, store, writer, time.perf_counter() - started)
    counts = writer.counts
    return Summary(counts, sum(c.quarantined for c in counts.values()), time.perf_counter() - started,
                   progress.bytes_done, False, writer.cutouts_dropped, statistics, name)


def rewrite_conflicts(client, config: Config, survey: str, units: list, fingerprints: Fingerprints, store,
                      batch_size: int) -> int:
    """Put every version of the rows several units wrote differently, in input order, so each
    ends as the single-machine ingest leaves it (``ingest.conflicts``); the rows put."""
    conflicts = fingerprints.conflicts()
    if not conflicts:
        return 0
    order = sorted(conflicts)
    futures = [client.submit(rows_of, config, survey, units[u], conflicts[u], pure=False, retries=RETRIES)
               for u in order]
    batches: dict = {}
    put = 0
    with ExitStack() as stack:
        for rows in in_input_order(futures, [units[u] for u in order]):
            for table, key, payload in rows:
                if table not in batches:
                    batches[table] = stack.enter_context(store.table(table).batch(batch_size))
                batches[table].put_encoded(key, payload)
                put += 1
    return put


def refuse_embedded(config: Config) -> None:
    if config.backend == "embedded":
        raise ClusterRefused(
            "--cluster needs the hbase backend: the embedded store is one SQLite file on this machine's disk, "
            "which workers on other machines cannot write (and SQLite allows one writer at a time). "
            "Set backend: hbase (or NOCTURNE_BACKEND=hbase), or drop --cluster to ingest on this machine.")


def in_input_order(futures, units):
    """The results of ``futures`` in their order, each as soon as it and those before it are done
    (the counts and ledgers follow the input order, as the single-machine ingest's)."""
    from distributed import KilledWorker, as_completed

    index = {f.key: i for i, f in enumerate(futures)}
    ready, following = {}, 0
    for future in as_completed(futures):
        i = index[future.key]
        try:
            ready[i] = future.result()  # a unit that failed after its retries raises its error here
        except KilledWorker as exc:
            raise UnitLost(f"unit {i + 1} of {len(units)} (from {units[i][0]}) lost every worker that ran it "
                           f"({exc}); nothing is half-done: run the same command again") from None
        future.release()
        while following in ready:
            yield ready.pop(following)
            following += 1
