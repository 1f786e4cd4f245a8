"""The CPU-heavy half of the ingest, run in worker processes: read and decode a unit of
files (``readers``), validate each packet (``validate``), build its rows (``rows``) and
encode them for the store.

:class:`Workers` hands the :class:`Prepared` units back in input order; the writer
(``ingest.write``) only sends bytes, counts and quarantines. So the work spreads over the
cores while the writes stay in one process, in a deterministic order.
"""
from __future__ import annotations

import multiprocessing
import pickle
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from hbase_schema import get_schema
from settings import Config
from store import compression, encoder_store
from store.sky import pixels

from science.stamps import stamp_problem

from .gc_pause import gc_paused
from .nights import night_of
from .readers import Packet, packets_of
from .rows import CUTOUTS, RowBuilder, alert_tables
from .unit_files import UnitFiles, take
from .unit_encoding import UnitEncoder
from .validate import candid_of, problem


ENCODE_ALERTS = 1000  # alerts built, then encoded together: their decoded packets are freed after
# (a unit is a whole file: 5,000 alerts with a month of history held ~250 MB more a worker)


class Workers:
    """The prepared units of a plan, in input order: from a pool of ``plan.workers`` forked
    processes (a bounded queue of twice as many units ahead), or in this process.

    Enter it before taking the lock and opening the store, so that no worker holds a copy
    of either (a killed ingest then frees its lock at once)."""

    def __init__(self, config: Config, plan, make_preparer=None):
        self.config, self.plan = config, plan
        self.make = make_preparer or Preparer  # (config) -> the survey's preparer (ingest.surveys)
        self.pool: ProcessPoolExecutor | None = None
        self.files: UnitFiles | None = None

    def __enter__(self) -> "Workers":
        if self.plan.workers > 1:
            self.files = UnitFiles()  # the units come back as files in memory (ingest.unit_files)
            self.pool = ProcessPoolExecutor(self.plan.workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=init_worker, initargs=(self.config, self.make, self.files))
            self.pool.submit(int).result()  # with fork, the first task starts every worker now
            widen_pipe(self.pool)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.__exit__(*exc)
        if self.files is not None:
            self.files.close()  # (after the pool: no worker writes a unit any more)

    def prepared(self) -> Iterator["Prepared"]:
        if self.pool is None:
            preparer = self.make(self.config)
            for unit in self.plan.units:
                yield preparer.run(unit)
            return
        pending: deque = deque()
        for unit in self.plan.units:
            pending.append(self.pool.submit(run_unit, unit))
            if len(pending) >= 2 * self.plan.workers:
                yield take(pending.popleft().result())
        while pending:
            yield take(pending.popleft().result())


PIPE_BYTES = 1 << 20  # Linux's default most for a pipe (/proc/sys/fs/pipe-max-size) without privileges
F_SETPIPE_SZ = 1031


def widen_pipe(pool: ProcessPoolExecutor, size: int = PIPE_BYTES) -> int:
    """Give the pipe the workers' results come back by ``size`` bytes instead of 64 KB, and
    return its size (0: left as it was). A Rubin unit with cutouts is ~25 MB of pickle: read 64
    KB at a time, each read allocating the message's remaining size, receiving it cost the
    writer ~140 µs of CPU an alert; read 1 MB at a time, ~75 (2026-11-30, issue 19). Where the
    pipe cannot be widened (another OS, a lower limit) it stays as it was: only slower."""
    try:
        import fcntl
        fd = pool._result_queue._reader.fileno()  # CPython's ProcessPoolExecutor: a SimpleQueue on a pipe
        return fcntl.fcntl(fd, F_SETPIPE_SZ, size)
    except (AttributeError, ImportError, OSError, ValueError):
        return 0


@dataclass
class Prepared:
    alerts: list = field(default_factory=list)
    rejects: list = field(default_factory=list)   # (Packet, reason, night or None)
    cutouts: list = field(default_factory=list)   # (Packet, reason, night): damaged cutouts left out
    nbytes: int = 0


class Preparer:
    """Worker-side state: the schema, the row builder and a connection-less encoder."""

    def __init__(self, config: Config):
        schema = get_schema()
        self.builder = RowBuilder(schema)
        self.order = schema.pixel_order
        store = encoder_store(config, schema)
        self.tables = {name: store.table(name) for name in alert_tables(schema)}
        self.same = same_encoding(schema, self.tables)
        self.encoder = UnitEncoder(self.tables, self.same, self.builder)

    def run(self, files: list[Path]) -> Prepared:
        with gc_paused():  # a unit's decoded packets are thousands of containers: no collection walks them
            return self._run(files)

    def _run(self, files: list[Path]) -> Prepared:
        out = Prepared()
        built = []
        for packet in packets_of(files):
            out.nbytes += packet.size
            reason, night = self._check(packet)
            if reason:
                out.rejects.append((packet, reason, night))
                continue
            record = packet.record
            damaged = damaged_cutouts(record)
            if damaged:
                record = {**record, **{name: None for name, _ in damaged}}  # the alert is kept without them
                for name, why in damaged:
                    out.cutouts.append((packet, f"{name} of alert {candid_of(record)} ({record['objectId']}) "
                                                f"is damaged, stored without it: {why}",
                                        night_of(record["candidate"]["jd"])))
            try:
                built.append((packet, self.builder.build(record, packet.typed)))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                out.rejects.append((packet, f"malformed packet: {type(exc).__name__}: {exc}",
                                    night_of(packet.record["candidate"]["jd"])))
            if len(built) >= ENCODE_ALERTS:
                self._encode(built, out)
                built = []
        if built:
            self._encode(built, out)
        return out

    def _encode(self, built: list, out: Prepared) -> None:
        """Encode ``built`` (packet, rows) into ``out``: its alerts, or a reason to refuse one."""
        pix = pixels([r.ra for _, r in built], [r.dec for _, r in built], self.order).tolist()
        for (packet, rows), (alert, reason) in zip(built, self.encoder.encode([r for _, r in built], pix)):
            if reason:
                out.rejects.append((packet, reason, night_of(rows.jd)))
                continue
            alert.source, alert.index = packet.source, packet.index
            out.alerts.append(alert)

    @staticmethod
    def _check(packet: Packet) -> tuple[str | None, str | None]:
        if packet.error:
            return packet.error, None
        reason = problem(packet.record, check_types=not packet.clean, typed=packet.typed)
        if not reason:
            return None, None
        candidate = packet.record.get("candidate") if isinstance(packet.record, dict) else None
        jd = candidate.get("jd") if isinstance(candidate, dict) else None
        return reason, night_of(jd) if isinstance(jd, float) and 2415020 < jd < 2488070 else None


def same_encoding(schema, tables: dict) -> dict[str, str]:
    """For each table, the first of ``tables`` that encodes any row into the same bytes: the
    same families, columns and types, and the same compression dictionaries (the light
    indexes ``jd``, ``pixel``, ``class``, ``tns``, ``ssnamenr`` share one declaration)."""
    first: dict = {}
    out = {}
    for name in tables:
        spec = schema.table(name)
        signature = tuple((f, fam.open_type, fam.compression, compression.current(schema.survey, name, f),
                           tuple((q, c.type) for q, c in fam.columns.items()))
                          for f, fam in spec.families.items())
        out[name] = first.setdefault(signature, name)
    return out


def damaged_cutouts(record: dict) -> list[tuple[str, str]]:
    """(cutout, reason) for each cutout of ``record`` that does not decode to a 2-D FITS image."""
    out = []
    for name in CUTOUTS:
        cutout = record.get(name)
        blob = cutout.get("stampData") if isinstance(cutout, dict) else None
        if blob is not None:
            why = stamp_problem(blob)
            if why:
                out.append((name, why))
    return out


_worker = None  # this worker's preparer (ZTF's Preparer, or another survey's)
_files: UnitFiles | None = None  # where this worker hands its units back (None: the pipe)


def init_worker(config: Config, make_preparer=None, files: UnitFiles | None = None) -> None:
    global _worker, _files
    _die_with_parent()
    _worker = (make_preparer or Preparer)(config)
    _files = files


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the ingest that started it dies (even by kill -9)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_unit(files: list[Path]) -> bytes | str:
    """The unit prepared, pickled, handed back as a file in memory (its name) or as the bytes
    (``ingest.unit_files``): the units waiting for the writer are held as these bytes and
    unpickled one at a time as it takes them (their Python objects, ~5 a history row, were ~3
    times the bytes: a first Rubin night's writer held ~140 MB of them for the units queued,
    issue 19). The collector stays paused until the unit's objects are freed after pickling:
    turned on while they lived, its first pass walked them all (~20 ms a Rubin unit)."""
    with gc_paused():
        data = pickle.dumps(_worker.run(files), protocol=pickle.HIGHEST_PROTOCOL)
    return data if _files is None else _files.hand(data)
