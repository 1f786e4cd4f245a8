"""The Rubin ingest's writer alone, by the embedded store's page size.

    python -m bench.bench_rubin_writer NIGHT [--units 30] [--page-sizes 4096,16384] [--rounds 2]
                                             [--checkpoints 1000]

The night's first ``--units`` units of work are prepared once in this process, as a worker
prepares them against an empty store (a first night: every previous and forced source is
sent), and kept pickled; then, for each round and page size in turn (alternated, so that the
host's drift falls on every size alike), ``RubinWriter`` takes them into a fresh embedded store
created with that page size (``store.sqlite_file.Pragmas.page_bytes``), the collector paused as
in the ingest. Printed per run: the writer's CPU and wall time an alert (taking the units,
sending the last batches and the last checkpoint, as a night ends; unpickling not counted),
its read and write system calls an alert (``/proc/self/io``: SQLite's page reads and writes,
WAL and checkpoints), and the store's bytes.
``--checkpoints``: WAL sizes (pages) that start a checkpoint (``PRAGMA wal_autocheckpoint``;
SQLite's default 1,000, the store's), each tried with each page size.
"""
from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare(night: Path, units: int, warm: int = 0, through=None) -> list[bytes]:
    """The first ``units`` units of ``night``, prepared against an empty store, pickled.
    ``through``: what runs the units after the first ``warm`` (given a function of no argument;
    default: it is called; ``bench.bench_rubin_instructions`` counts their instructions alone)."""
    from ingest.plan import plan
    from ingest.rubin.prepare import RubinPreparer
    from ingest.rubin.readers import split_units
    from settings import Config
    with tempfile.TemporaryDirectory() as empty:
        preparer = RubinPreparer(Config().replace(data_dir=Path(empty), backend="embedded"))
        work = plan(night, split=split_units).units[:units]

        def run(part: list) -> list[bytes]:
            return [pickle.dumps(preparer.run(u), protocol=pickle.HIGHEST_PROTOCOL) for u in part]

        first = run(work[:warm])
        return first + (through or _called)(lambda: run(work[warm:]))


def _called(fn):
    return fn()


def io_calls() -> tuple[int, int]:
    """(read, write) system calls of this process so far (0, 0 where /proc has no io file)."""
    try:
        fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
        return int(fields["syscr"]), int(fields["syscw"])
    except (OSError, KeyError, ValueError):
        return 0, 0


def write(units: list[bytes], page_bytes: int, data_dir: Path, checkpoint_pages: int | None = None,
          warm: int = 0, through=None) -> dict:
    """``units`` taken by the Rubin writer into a new store in ``data_dir`` of ``page_bytes`` pages
    (its WAL checkpointed every ``checkpoint_pages``; None: as the store does). ``through``: what
    runs the units after the first ``warm`` and the night's end (as :func:`prepare`'s)."""
    from ingest.gc_pause import gc_paused
    from ingest.surveys import survey
    from settings import Config
    from store import open_store
    from store.sqlite_file import Pragmas, disk_bytes, ingest_pragmas
    chosen = survey("rubin", None, False)
    config = Config().replace(data_dir=data_dir, backend="embedded")
    with patch.object(Pragmas, "page_bytes", page_bytes), ingest_pragmas(), \
            open_store(config, create=True, schema=chosen.schema) as store, gc_paused():
        batches = {t: store.table(t).batch(chosen.batch_size_of(t)) for t in chosen.tables(store.schema)}
        writer = chosen.writer(batches, None, data_dir / "quarantine", data_dir / "repeats", False, store)
        page = store._conn().execute("PRAGMA page_size").fetchone()[0]
        if checkpoint_pages is not None:
            store._conn().execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")
        cpu = wall = 0.0
        reads, writes = io_calls()

        def take(blobs: list[bytes]) -> None:
            nonlocal cpu, wall
            for blob in blobs:
                unit = pickle.loads(blob)
                t, c = time.perf_counter(), time.process_time()
                writer.take(unit)
                wall, cpu = wall + time.perf_counter() - t, cpu + time.process_time() - c
                del unit

        def rest() -> None:
            nonlocal cpu, wall
            take(units[warm:])
            t, c = time.perf_counter(), time.process_time()
            writer.send()
            for b in batches.values():
                b.send()
            store.checkpoint()  # (as the night's ingest ends: the WAL folded into the file)
            wall, cpu = wall + time.perf_counter() - t, cpu + time.process_time() - c

        take(units[:warm])
        (through or _called)(rest)
        read_after, write_after = io_calls()
    return {"page_size": page, "alerts": writer.total_sci, "cpu_s": cpu, "wall_s": wall,
            "reads": read_after - reads, "writes": write_after - writes, "bytes": disk_bytes(data_dir)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("night", type=Path, help="a Rubin night (Fink Parquet, Avro or wire messages)")
    p.add_argument("--units", type=int, default=30, help="units of work taken from the night's start")
    p.add_argument("--page-sizes", default="4096,16384")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--checkpoints", default="", help="e.g. 1000,16000: WAL pages a checkpoint waits for")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.page_sizes.split(",")]
    checkpoints = [int(c) for c in args.checkpoints.split(",") if c] or [None]
    units = prepare(args.night, args.units)
    print(f"{len(units)} units prepared ({sum(map(len, units)) / 2**20:.0f} MB pickled)", file=sys.stderr)
    for r in range(args.rounds):
        for size, every in ((s, c) for s in sizes for c in checkpoints):
            with tempfile.TemporaryDirectory() as data:
                got = write(units, size, Path(data), every)
            n = max(1, got["alerts"])
            told = "" if every is None else f" checkpoint {every:>6}"
            print(f"round {r + 1} page {got['page_size']:>6}{told}: {got['alerts']:,} alerts; writer CPU "
                  f"{1000 * got['cpu_s'] / n:.3f} ms an alert (wall {1000 * got['wall_s'] / n:.3f}); "
                  f"{got['writes'] / n:.1f} write and {got['reads'] / n:.1f} read calls an alert; "
                  f"store {got['bytes'] / 2**20:.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
