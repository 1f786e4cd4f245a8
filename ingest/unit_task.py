"""One unit of a night on a cluster worker (``ingest.distributed``): prepare it, write its rows
to the store from the worker, and hand back only what the client needs.

The worker runs the single-machine steps on its unit: ``prepare`` (read, validate, rows,
encoded) then the survey's writer (``Survey.writer``) over the worker's own batches, which sends the
alert rows of every alert table and the history rows (ZTF: upper limits, bad-quality detections,
forced photometry; Rubin: previous and forced sources). Keys are deterministic, so a unit written twice (a lost worker's unit
redone elsewhere, a rerun) writes the same cells: nothing is stored twice.

What goes back to the client is small: each alert without its encoded rows (ZTF: candid,
objectId, band, class, source; Rubin: diaSourceId, diaObjectId, band, source: for the counts
and the repeats ledger), its row of the table only a newer alert may replace (ZTF's
``objects_sky``, Rubin's ``objects``: the rule reads the stored row then writes, which only one
writer may do without a race, so the client applies it; ``Survey.newest``), the rejected
packets and damaged cutouts (the client files the quarantine, on its own disk), the history
rows this unit met, and a fingerprint of every row sent.

Rubin's previous and forced sources are skipped by the worker's preparer when the store holds
their keys (``RubinPreparer.stored_keys``: read now, so rows another worker's unit stored
meanwhile are skipped too; rows not stored yet are sent again, the same cells). Which copy of a
key ends stored is then told by ``ingest.conflicts`` (see there).
"""
from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from settings import Config
from store import open_store

from .arrow_alone import use_jemalloc
from .conflicts import Recording, as_array
from .prepare import Prepared
from .surveys import survey as survey_named

_local = threading.local()  # per worker thread: (config, preparer, store), reused by every unit
NO_LEDGER = Path("/nonexistent")  # the worker's Writer is a dry run for ledgers: the client keeps them


@dataclass
class UnitDone:
    """A unit's summary for the client: the prepared unit without its encoded rows, and the
    history rows its worker met (per night: the survey's ``history`` counters)."""
    prepared: Prepared
    history: dict = field(default_factory=dict)  # night -> {counter: rows}, e.g. {"upper": 3, ...}
    fingerprints: object = None  # (key, payload) digests of every row sent (``ingest.conflicts``)
    worker: str = ""


def run_unit(config: Config, survey: str, files: list[Path], batch_size: int | None = None,
             schema_path: Path | None = None, rewrite_history: bool = False) -> UnitDone:
    """Prepare ``files`` and write their rows to the store ``config`` names; a Dask task
    (submitted ``pure=False``; safe to run again: it writes the same cells)."""
    chosen = survey_named(survey, schema_path, rewrite_history)
    preparer, store = _worker_state(config, chosen, (schema_path, rewrite_history))
    prepared = preparer.run(files)
    newest_table, newest_field = chosen.newest
    sent: list = []
    with ExitStack() as stack:  # on an error, a send under way is let finish before the task fails
        batches = {t: Recording(t, stack.enter_context(store.table(t).batch(chosen.batch_size_of(t, batch_size))), sent,
                                merged=store.schema.table(t).records is not None)
                   for t in chosen.tables(store.schema) if t != newest_table}  # the client keeps the newest rule
        writer = chosen.writer(batches, None, NO_LEDGER, NO_LEDGER, True, None)
        writer.take(Prepared(alerts=[replace(a, **{newest_field: None}) for a in prepared.alerts]))
        writer.send()
    history = {night: {name: getattr(c, name) for name in chosen.history} for night, c in writer.counts.items()}
    light = [replace(a, **{name: [] for name in chosen.heavy}) for a in prepared.alerts]
    return UnitDone(Prepared(light, prepared.rejects, prepared.cutouts, prepared.nbytes), history,
                    as_array(sent), _worker_name())


def rows_of(config: Config, survey: str, files: list[Path], wanted: set, schema_path: Path | None = None) -> list:
    """The ``(table, key, payload, history)`` rows of ``files`` whose key digests are ``wanted``,
    in the order the unit sends them, nothing skipped because the store holds it (a fresh
    preparer, ``rewrite_history``: the store now holds every row); nothing is written
    (``ingest.conflicts``)."""
    chosen = survey_named(survey, schema_path, rewrite_history=True)
    newest_table, newest_field = chosen.newest
    kept: list = []
    batches = {t: Recording(t, None, kept, wanted, merged=chosen.schema.table(t).records is not None)
               for t in chosen.tables(chosen.schema) if t != newest_table}
    alerts = chosen.preparer(config).run(files).alerts
    chosen.writer(batches, None, NO_LEDGER, NO_LEDGER, True, None).take(
        Prepared(alerts=[replace(a, **{newest_field: None}) for a in alerts]))
    return kept


def _worker_state(config: Config, chosen, options: tuple):
    state = getattr(_local, "state", None)
    wanted = (config, chosen.name, options)
    if state is None or state[0] != wanted:
        if state is not None:
            state[2].close()
        else:  # this worker's first unit: the pool `python -m ingest night` gets (ingest.arrow_alone)
            use_jemalloc()
        state = (wanted, chosen.preparer(config), open_store(config, schema=chosen.schema))
        _local.state = state
    return state[1], state[2]


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return ""
