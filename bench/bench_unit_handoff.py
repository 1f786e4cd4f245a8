"""What handing prepared units back from the workers costs: the pool's pipe against files in
memory (``ingest.unit_files``).

    python -m bench.bench_unit_handoff [--units 40] [--mb 25] [--rounds 2] [--json OUT]

A pool of two forked workers (as the ingest's) makes ``--units`` units of ``--mb`` MB each (a
Rubin unit with cutouts is ~25 MB pickled, one without ~9 MB): a list of 100 KB byte strings,
pickled as ``ingest.prepare.run_unit`` pickles a unit. ``pipe``: the pickled bytes are the
task's result; ``files``: handed as a file (:meth:`UnitFiles.hand`), taken with
:func:`ingest.unit_files.take`. The writer's side takes each unit whole (unpickled) in order.
Prints, per way and round, the CPU time of the workers and of the writer (psutil, user +
system) for the whole handoff and per GB, and the wall time; the two ways alternate.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

from ingest.prepare import widen_pipe
from ingest.unit_files import UnitFiles, take

PIECE = 100_000
_files: UnitFiles | None = None


def _init(files: UnitFiles | None) -> None:
    global _files
    _files = files


def _unit(mb: int):
    """A unit of ``mb`` MB (made, then pickled: its making is counted in both ways alike)."""
    piece = os.urandom(PIECE)
    data = pickle.dumps([piece[:-1] + bytes([i % 256]) for i in range(mb * 2**20 // PIECE)],
                        protocol=pickle.HIGHEST_PROTOCOL)
    return data if _files is None else _files.hand(data)


def _cpu(procs) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in procs)


def handoff(way: str, units: int, mb: int) -> dict:
    files = UnitFiles() if way == "files" else None
    if way == "files" and files.folder is None:
        raise SystemExit("no writable /dev/shm: the files way cannot be measured here")
    try:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"), initializer=_init,
                                 initargs=(files,)) as pool:
            pool.submit(int).result()
            widen_pipe(pool)
            workers = psutil.Process().children()
            me = psutil.Process()
            w0, m0, t0 = _cpu(workers), _cpu([me]), time.perf_counter()
            pending = [pool.submit(_unit, mb) for _ in range(units)]
            taken = 0
            for future in pending:
                taken += len(take(future.result()))
            w1, m1, t1 = _cpu(workers), _cpu([me]), time.perf_counter()
    finally:
        if files is not None:
            files.close()
    gb = units * mb / 1024
    return {"way": way, "units": units, "mb": mb, "pieces": taken, "workers_cpu_s": w1 - w0, "writer_cpu_s": m1 - m0,
            "wall_s": t1 - t0, "workers_cpu_s_per_gb": (w1 - w0) / gb, "writer_cpu_s_per_gb": (m1 - m0) / gb}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--units", type=int, default=40)
    p.add_argument("--mb", type=int, default=25)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    out = []
    for _ in range(args.rounds):
        for way in ("pipe", "files"):
            r = handoff(way, args.units, args.mb)
            out.append(r)
            print(f"{way:5s}: {r['units']} units of {r['mb']} MB: workers {r['workers_cpu_s']:.2f} s, writer "
                  f"{r['writer_cpu_s']:.2f} s of CPU ({r['workers_cpu_s_per_gb']:.2f} / {r['writer_cpu_s_per_gb']:.2f} "
                  f"s a GB); wall {r['wall_s']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
