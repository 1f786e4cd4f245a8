"""Alert simulator benchmark: alerts generated and written per second, with and without cutouts.

    python bench/bench_simulator.py [--alerts 20000] [--workers 1 2] [--dir /tmp] [--write-doc]

For each mode (cutouts on/off; one .avro file per alert, or multi-alert
containers) and number of worker processes, simulates about ``--alerts``
alerts over 4 nights under a fresh folder of ``--dir``, and prints a markdown
table: date, machine (``uname -m`` and processors), N alerts, mode, workers,
wall seconds, alerts per second, and CPU seconds (all processes).
Rates include planning and writing the files; the folder's filesystem is
named because a slow disk, not the generator, can be the limit.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.simulator import Config, Output, run  # noqa: E402

NIGHTS = 4


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _fstype(path: Path) -> str:
    best, kind = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            mnt, typ = line.split()[1], line.split()[2]
            if str(path.resolve()).startswith(mnt) and len(mnt) > len(best):
                best, kind = mnt, typ
    except OSError:
        pass
    return kind


def measure(n: int, cutouts: bool, workers: int, base: Path, layout: str = "files") -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-sim-", dir=base))
    cfg = Config(nights=NIGHTS, alerts_per_night=n // NIGHTS, seed=1, cutouts=cutouts)
    cpu0, t0 = _cpu(), time.perf_counter()
    try:
        summary = run(cfg, Output(root=out, layout=layout), workers=workers, progress=False)
        wall = time.perf_counter() - t0
        cpu = _cpu() - cpu0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"n": summary["alerts"], "wall": wall, "rate": summary["alerts"] / wall, "cpu": cpu}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alerts", type=int, default=20000)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                   help="where to write (e.g. /dev/shm to leave the disk out)")
    p.add_argument("--write-doc", action="store_true", help="update docs/benchmarks.md (section simulator)")
    a = p.parse_args(argv)
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    mach = f"{platform.machine()}, {os.cpu_count()} procs"
    fs = _fstype(a.dir)
    lines = [f"Alert simulator (`python -m ingest simulate`), written to {a.dir} ({fs}); layout "
             "`files` is one .avro per alert (the default), `containers` 10,000 alerts per .avro; "
             "rates include planning and writing.", "",
             "| date | machine | N alerts | cutouts | layout | workers | wall s | alerts/s | CPU s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for cutouts, layout in ((True, "files"), (False, "files"), (False, "containers")):
        for w in a.workers:
            r = measure(a.alerts, cutouts, w, a.dir, layout)
            lines.append(f"| {date} | {mach} | {r['n']} | {'yes' if cutouts else 'no'} | {layout} | {w} | "
                         f"{r['wall']:.2f} | {r['rate']:,.0f} | {r['cpu']:.2f} |")
            print(lines[-1], file=sys.stderr, flush=True)
    body = "\n".join(lines)
    from bench.report import publish
    publish("simulator", body, write=a.write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
