"""Ingest one night across machines on a Dask distributed cluster (``python -m ingest night PATH
--cluster tcp://SCHEDULER:8786`` or ``--cluster local:N``).

The steps of ``ingest.night``, spread out:

1. plan, here (``ingest.plan``): the files and their units, the order every count follows;
2. one Dask task per unit (``ingest.unit_task.run_unit``), on any worker: prepare the unit and
   write its rows to the store from the worker; back comes a small summary;
3. here, the summaries taken in input order by the survey's writer, given no alert row: it
   counts, files the quarantine and the repeats ledger (on this machine's disk), and applies the
   rule of the table only a newer alert replaces (``Survey.newest``: ZTF's object-level sky
   index, Rubin's ``objects``, the newest diaObject; one writer: no race);
4. here, once every task is done: the keys several units wrote differently put again in input
   order (``ingest.conflicts``), then, last, each night's statistics row, counted from the store.

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
from .conflicts import Fingerprints, Replay
from .lock import IngestLock
from .night import Summary, write_statistics
from .plan import plan as plan_night
from .progress import Progress
from .surveys import detect, survey as survey_named
from .unit_task import rows_of, run_unit

RETRIES = 2
log = logging.getLogger("nocturne.ingest")


class ClusterRefused(ValueError):
    """The store or the night cannot be ingested on a cluster (the message says why)."""


class UnitLost(RuntimeError):
    """A unit's workers kept dying (``distributed.KilledWorker``): the night stops unfinished."""


def ingest_on_cluster(path: Path, config: Config, cluster: str, night: str | None = None,
                      quarantine_dir: Path | None = None, show_progress: bool | None = None,
                      batch_size: int | None = None, survey: str | None = None,
                      schema_path: Path | None = None, rewrite_history: bool = False) -> Summary:
    """Ingest every packet under ``path`` into the store ``config`` names, one Dask task per unit
    on the cluster at ``cluster`` (``tcp://HOST:PORT`` or ``local:N``). ``path`` (and Rubin's
    ``schema_path``) must be readable at the same place on every worker."""
    started = time.perf_counter()
    check(cluster)
    refuse_embedded(config)
    config = config.for_ingest()  # its HBase calls, and the tasks', wait out a region split
    path = Path(path).resolve()  # workers open the files by this path; ledgers key packets by it
    schema_path = Path(schema_path).resolve() if schema_path is not None else None
    plan = plan_night(path, night, 1)
    name = survey or detect(plan.files)
    chosen = survey_named(name, schema_path, rewrite_history)
    if chosen.split is not None:  # Rubin: Parquet regrouped into units of at most 500 alerts, big files cut
        plan = plan_night(path, night, 1, chosen.split)
    newest_table = chosen.newest[0]
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        stack.enter_context(IngestLock(data_dir / "ingest.lock"))
        store = stack.enter_context(open_store(config, create=True, schema=chosen.schema))  # before any worker writes
        client = stack.enter_context(connect(cluster))
        newest = stack.enter_context(store.table(newest_table).batch(batch_size or 500))
        writer = chosen.writer({newest_table: newest}, plan.night, Path(quarantine_dir or data_dir / "quarantine"),
                               data_dir / "repeats", False, store)  # its units come without rows: it writes none
        progress = stack.enter_context(Progress(plan.nbytes, show_progress))
        run = uuid.uuid4().hex[:12]
        futures = [client.submit(run_unit, config, name, unit, batch_size, schema_path, rewrite_history,
                                 key=f"nocturne-unit-{i}-{run}", pure=False, retries=RETRIES)
                   for i, unit in enumerate(plan.units)]
        fingerprints = Fingerprints()
        for i, done in enumerate(in_input_order(futures, plan.units)):
            fingerprints.add(i, done.fingerprints)
            progress.advance(done.prepared.nbytes)
            writer.take(done.prepared)
            for alert_night, history in done.history.items():
                c = writer.counts[plan.night or alert_night]
                for counter, rows in history.items():
                    setattr(c, counter, getattr(c, counter) + rows)
            progress.alerts(writer.total_sci, writer.total_quarantined)
        writer.flush_pending_quarantine()
        log.info("%d units written by the workers in %.1f s", len(plan.units), time.perf_counter() - started)
        put = rewrite_conflicts(client, config, chosen, plan.units, fingerprints, store, batch_size or 500,
                                schema_path)
        newest.send()  # every row is stored before the statistics count them
        log.info("%d row versions put again in input order (keys units wrote differently); at %.1f s",
                 put, time.perf_counter() - started)
        statistics = write_statistics(chosen, store, writer, time.perf_counter() - started)
    counts = writer.counts
    return Summary(counts, sum(c.quarantined for c in counts.values()), time.perf_counter() - started,
                   progress.bytes_done, False, writer.cutouts_dropped, statistics, name)


def rewrite_conflicts(client, config: Config, chosen, units: list, fingerprints: Fingerprints, store,
                      batch_size: int, schema_path: Path | None = None) -> int:
    """Put the rows several units wrote differently again, in input order, as the single-machine
    writer would have put them (``ingest.conflicts``): every version of an alert's own rows and
    of ZTF's history rows; of Rubin's previous and forced sources (``Survey.history_once``) only
    the first version of a key, none after the key's own source row. Returns the rows put."""
    conflicts = fingerprints.conflicts()
    if not conflicts:
        return 0
    order = sorted(conflicts)
    futures = [client.submit(rows_of, config, chosen.name, units[u], conflicts[u], schema_path,
                             pure=False, retries=RETRIES) for u in order]
    batches: dict = {}
    replay = Replay(chosen.history_once)
    put = 0
    with ExitStack() as stack:
        for rows in in_input_order(futures, [units[u] for u in order]):
            for table, key, payload in replay.rows(rows):
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
