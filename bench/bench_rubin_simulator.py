"""Rubin alert simulator benchmark: alerts generated and written per second.

    python bench/bench_rubin_simulator.py [--alerts 4000] [--workers 1 2] [--dir /tmp] [--write-doc]

For each output mode (Fink Parquet only, without then with cutouts; Parquet +
Avro container + one wire-format message per alert, with cutouts) and number
of worker processes, simulates about ``--alerts`` alerts over 2 nights (each
alert carrying a year of ``prvDiaSources`` and ``prvDiaForcedSources``) under
a fresh folder of ``--dir``, and prints a markdown table: N alerts, mode,
workers, wall seconds, alerts per second, CPU seconds (all processes), bytes
written per alert and peak RSS of the run's main process (each case runs in a
fresh forked process).  Rates include planning and writing.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.simulator.rubin.engine import Output, run  # noqa: E402
from ingest.simulator.rubin.observe import Config  # noqa: E402

NIGHTS = 2
MODES = (("parquet", False, dict(avro=False)), ("parquet", True, dict(avro=False)),
         ("parquet + avro + wire", True, dict(avro=True, wire=True)))


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def measure(n: int, cutouts: bool, outputs: dict, workers: int, base: Path) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-rubin-sim-", dir=base))
    cfg = Config(nights=NIGHTS, alerts_per_night=n // NIGHTS, seed=1, cutouts=cutouts)
    cpu0, t0 = _cpu(), time.perf_counter()
    try:
        summary = run(cfg, Output(root=out, **outputs), workers=workers, progress=False)
        wall = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"n": summary["alerts"], "wall": wall, "rate": summary["alerts"] / wall, "cpu": cpu,
            "bytes": size / max(summary["alerts"], 1),
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(queue, *args) -> None:
    queue.put(measure(*args))


def measure_apart(*args) -> dict:
    """``measure`` in a fresh forked process, so that each case's peak RSS is its own."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, *args))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv=None) -> int:
    from bench.report import machine, publish, today

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alerts", type=int, default=4000)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--write-doc", action="store_true", help="update docs/benchmarks.md (section rubin-simulator)")
    a = p.parse_args(argv)
    lines = [f"## Rubin simulator (`bench/bench_rubin_simulator.py`)", "",
             f"Run {today()} on {machine()}, written to {a.dir}; {NIGHTS} nights, a year of history per alert "
             "(prvDiaSources, prvDiaForcedSources), Fink values; rates include planning and writing.", "",
             "| N alerts | outputs | cutouts | workers | wall s | alerts/s | CPU s | bytes/alert written "
             "| peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, cutouts, outputs in MODES:
        for w in a.workers:
            r = measure_apart(a.alerts, cutouts, outputs, w, a.dir)
            lines.append(f"| {r['n']:,} | {name} | {'yes' if cutouts else 'no'} | {w} | {r['wall']:.2f} | "
                         f"{r['rate']:,.0f} | {r['cpu']:.2f} | {r['bytes']:,.0f} | {r['rss']:,.0f} |")
            print(lines[-1], file=sys.stderr, flush=True)
    publish("rubin-simulator", "\n".join(lines), write=a.write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
