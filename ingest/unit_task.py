"""One unit of a night on a cluster worker (``ingest.distributed``): prepare it, write its rows
to the store from the worker, and hand back only what the client needs.

The worker runs the single-machine steps on its unit: ``prepare`` (read, validate, rows,
encoded) then a :class:`ingest.write.Writer` over the worker's own batches, which sends the
alert rows of every alert table and the history rows (upper limits, bad-quality detections,
forced photometry). Keys are deterministic, so a unit written twice (a lost worker's unit
redone elsewhere, a rerun) writes the same cells: nothing is stored twice.

What goes back to the client is small: each alert without its encoded rows (candid, objectId,
band, class, source: for the counts and the repeats ledger), its row of the object-level sky
index (a few columns: the newest-alert rule reads the stored row and writes, which only one
writer may do without a race, so the client applies it), the rejected packets and damaged
cutouts (the client files the quarantine, on its own disk), and the history rows this unit met.
"""
from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from settings import Config
from store import open_store

from .conflicts import Recording, as_array
from .prepare import Prepared
from .rows import SKY
from .surveys import survey as survey_named
from .write import Writer

_local = threading.local()  # per worker thread: (config, preparer, store), reused by every unit
NO_LEDGER = Path("/nonexistent")  # the worker's Writer is a dry run for ledgers: the client keeps them


@dataclass
class UnitDone:
    """A unit's summary for the client: the prepared unit without its encoded rows, and the
    history rows its worker met (per night: upper, badquality, forced)."""
    prepared: Prepared
    history: dict = field(default_factory=dict)  # night -> (upper, badquality, forced)
    fingerprints: object = None  # (key, payload) digests of every row sent (``ingest.conflicts``)
    worker: str = ""


def run_unit(config: Config, survey: str, files: list[Path], batch_size: int | None = None) -> UnitDone:
    """Prepare ``files`` and write their rows to the store ``config`` names; a Dask task
    (submitted ``pure=False``; safe to run again: it writes the same cells)."""
    chosen = survey_named(survey)
    preparer, store = _worker_state(config, chosen)
    prepared = preparer.run(files)
    size = chosen.batch_size if batch_size is None else batch_size
    sent: list = []
    with ExitStack() as stack:  # on an error, a send under way is let finish before the task fails
        batches = {t: Recording(t, stack.enter_context(store.table(t).batch(size)), sent)
                   for t in chosen.tables(store.schema) if t != SKY}  # the client keeps the sky rule
        writer = Writer(batches, None, NO_LEDGER, NO_LEDGER, dry_run=True)
        writer.take(Prepared(alerts=prepared.alerts))
        writer.send()
    history = {night: (c.upper, c.badquality, c.forced) for night, c in writer.counts.items()}
    light = [replace(a, writes=[], upper=[], badquality=[], forced=[]) for a in prepared.alerts]
    return UnitDone(Prepared(light, prepared.rejects, prepared.cutouts, prepared.nbytes), history,
                    as_array(sent), _worker_name())


def rows_of(config: Config, survey: str, files: list[Path], wanted: set) -> list:
    """The (table, key, payload) rows of ``files`` whose key digests are ``wanted``, in the
    order the unit sends them; nothing is written (``ingest.conflicts``)."""
    chosen = survey_named(survey)
    preparer, store = _worker_state(config, chosen)
    kept: list = []
    batches = {t: Recording(t, None, kept, wanted) for t in chosen.tables(store.schema) if t != SKY}
    Writer(batches, None, NO_LEDGER, NO_LEDGER, dry_run=True).take(Prepared(alerts=preparer.run(files).alerts))
    return kept


def _worker_state(config: Config, chosen):
    state = getattr(_local, "state", None)
    if state is None or state[0] != (config, chosen.name):
        if state is not None:
            state[2].close()
        state = ((config, chosen.name), chosen.preparer(config), open_store(config, schema=chosen.schema))
        _local.state = state
    return state[1], state[2]


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return ""
