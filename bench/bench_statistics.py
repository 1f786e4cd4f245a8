"""Cost of counting a night's statistics from the store (issue 17: statistics of the night,
not of the run), on a simulated night in a fresh embedded store.

    python bench/bench_statistics.py [--alerts 20000 60000] [--no-write-doc]

The ingest writes the statistics row last by reading the night back: a column-wise scan
of the time index (``i:objectId``, ``i:fid``, ``d:classification``) and one multi-range
scan of the upper-limit tables for the night's objects (``i:jd``). This measures that
recount alone (best of 3, warm cache, as right after the ingest) and per alert, to say
what a night of 1 M alerts costs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine, publish, today  # noqa: E402


def measure(alerts: int) -> str:
    """One table row: simulate a night of about ``alerts``, ingest it, time the recount."""
    work = Path(tempfile.mkdtemp(prefix="nocturne-stats-bench-"))
    try:
        sim = work / "sim"
        subprocess.run([sys.executable, "-m", "ingest", "simulate", "--nights", "1", "--alerts-per-night",
                        str(alerts), "--seed", "3", "--no-cutouts", "--quiet", str(sim)], cwd=ROOT, check=True)
        env = dict(os.environ, NOCTURNE_DATA_DIR=str(work / "store"), NOCTURNE_BACKEND="embedded")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ingest", "night", str(sim), "--no-progress"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ingest_s = time.perf_counter() - t0
        from ingest.statistics import night_counts
        from settings import Config
        from store import open_store
        with open_store(Config().replace(backend="embedded", data_dir=work / "store")) as store:
            nights = [k.rsplit("_", 1)[1] for k, _ in store.table("statistics").scan(columns=["basic:sci"])]
            times, cells = [], None
            for _ in range(3):  # every UTC date the simulated night touches
                t = time.perf_counter()
                counted = [night_counts(store, night) for night in nights]
                times.append(time.perf_counter() - t)
            cells = {k: sum(c.get(k, 0) for c in counted)
                     for k in ("basic:sci", "basic:n_objects", "basic:upper", "basic:badquality")}
        best = min(times)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = cells["basic:sci"]
    per_alert_us = best / n * 1e6
    return (f"| {n:,} | {cells['basic:n_objects']:,} | {cells['basic:upper'] + cells['basic:badquality']:,} | "
            f"{ingest_s:.1f} | {best:.2f} | {per_alert_us:.1f} | ≈ {per_alert_us:.0f} s |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alerts", type=int, nargs="+", default=[20_000, 60_000])
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    rows = [measure(n) for n in args.alerts]
    text = "\n".join([
        "## Statistics recount of a night from the store (`bench/bench_statistics.py`)", "",
        f"Run {today()} on {machine()}. One simulated night, no cutouts, embedded backend; the recount "
        "the ingest does before writing the statistics row (best of 3, warm).", "",
        "| alerts | objects | upper limits + bad-quality rows counted | ingest s | recount s | µs per alert "
        "| projected for 1 M alerts |",
        "|---|---|---|---|---|---|---|",
        *rows, "",
        "The recount is linear in the night's alerts and objects (one range of the time index, one key "
        "range per object in the history tables), so the projection is per alert × 1 M.",
    ])
    publish("statistics", text, write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
