"""The surveys the ingest knows, and what differs between them: the schema, the preparer run
in the workers (read, validate, rows), the writer, the tables it writes and the statistics row.
``ingest.night`` runs the same steps for each (plan → prepare → write → statistics).

:func:`detect` tells a night's survey from its first alert files (Rubin: a ``diaSource``
field or a Confluent wire-format message; ZTF otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from hbase_schema import Schema, get_schema

from . import statistics as ztf_statistics
from .prepare import Preparer
from .newest import sky_writer
from .rows import SKY, alert_tables
from .rubin import statistics as rubin_statistics
from .rubin.prepare import TABLES as RUBIN_TABLES, RubinPreparer
from .rubin.readers import is_rubin_file, split_units
from .rubin.write import RubinWriter
from .write import Writer

NAMES = ("ztf", "rubin")
SNIFF_FILES = 8


@dataclass(frozen=True)
class Survey:
    name: str
    preparer: Callable          # (config) -> a preparer with run(files) -> Prepared; picklable
    tables: Callable            # (schema) -> the tables the writer batches
    night_span: Callable        # (night) -> [start, end) in the time index's unit
    bulk: bool = False          # units carry hundreds of rows an alert: the cyclic GC is paused while they are written
    batch_size: int = 5000      # rows per write batch by default (a Rubin alert writes ~850 rows: a fifth less writer time
    # than 500; ZTF's ~10: 4-6 % less wall time on a 147,423-alert night, fewer SQLite commits rewriting the same pages)
    # tables whose rows are heavy, with the most rows their batch holds (Rubin's cutouts: ~115 KB
    # a row, so 5,000 of them held ~575 MB in the writer, twice that with a send in flight; ZTF's
    # main rows carry the three cutouts, ~60 KB)
    table_batch: tuple = ()
    split: Callable | None = None  # (units, unit bytes) -> units: files regrouped, big ones cut (``ingest.plan.plan``)
    # On a cluster (``ingest.distributed``): the table whose rows only a newer alert replaces (read
    # then written: the client applies that rule) and the alert's field holding its row; the alert
    # fields holding encoded rows (the workers write them; they do not travel back); the history
    # counters the workers report; whether a history key is sent once a run, its first version
    # (Rubin's previous and forced sources) rather than every version that differs (ZTF's).
    newest: tuple = (SKY, "sky")
    heavy: tuple = ("writes", "upper", "badquality", "forced")
    history: tuple = ("upper", "badquality", "forced")
    history_once: bool = False

    @property
    def schema(self) -> Schema:
        return get_schema(self.name)

    def batch_size_of(self, table: str, size: int | None = None) -> int:
        """Rows per write batch of ``table``: ``size`` (default the survey's), at most its
        ``table_batch`` bound."""
        size = self.batch_size if size is None else size
        return min(size, dict(self.table_batch).get(table, size))

    def writer(self, batches, night, quarantine_root: Path, repeats_root: Path, dry_run: bool, store):
        if self.name == "rubin":
            objects = store.table("objects") if store is not None else None
            return RubinWriter(batches, night, quarantine_root, repeats_root, dry_run, objects)
        return Writer(batches, night, quarantine_root, repeats_root, dry_run, sky_writer(store, batches))

    def write_statistics(self, store, night: str, span, quarantined: int, duplicates: int, duration: float):
        module = rubin_statistics if self.name == "rubin" else ztf_statistics
        return module.write_statistics(store, night, span, quarantined, duplicates, duration)


def survey(name: str, schema_path: Path | None = None, rewrite_history: bool = False) -> Survey:
    """The survey called ``name`` (``ztf`` or ``rubin``); ``schema_path``: Rubin's writer schema
    (.avsc file or folder) for Confluent wire-format messages; ``rewrite_history``: Rubin's
    previous and forced sources are all sent, also those the store holds."""
    if name == "rubin":
        return Survey("rubin", partial(RubinPreparer, schema_path=schema_path, rewrite_history=rewrite_history), lambda schema: RUBIN_TABLES,
                      rubin_statistics.night_span, bulk=True,
                      table_batch=(("cutouts", 200),), split=split_units, newest=("objects", "obj"), heavy=("writes", "prv", "fp"),
                      history=("sources", "forced"), history_once=True)
    if name == "ztf":
        return Survey("ztf", Preparer, alert_tables, ztf_statistics.night_span, table_batch=(("main", 500),))
    raise ValueError(f"unknown survey {name!r} (known: {', '.join(NAMES)})")


def detect(files: list[Path]) -> str:
    """``rubin`` when the first readable of ``files`` is a Rubin alert file, else ``ztf``."""
    for file in files[:SNIFF_FILES]:
        found = is_rubin_file(file)
        if found is not None:
            return "rubin" if found else "ztf"
    return "ztf"
