"""Rubin ingest throughput: alerts/s, peak RSS and bytes per alert, with and without forced photometry.

    python -m bench.bench_rubin_ingest [--copies N] [--path DIR] [--workers W] [--no-write-doc]

Input: the real Rubin alerts (``$NOCTURNE_SHARED_DATA/rubin-fink-2026-03-10``, 107 alerts)
replicated ``--copies`` times with shifted ids (each copy new objects, sources and forced
sources), or ``--path``: any Rubin night (the simulator's output, Avro or Parquet) as it is.
Each variant is ingested into a fresh embedded store in a child process (its own peak RSS):
``full`` (as delivered) and ``no-fp`` (prvDiaForcedSources emptied), and ``no-cutouts``.
Bytes per alert: the SQLite file after a checkpoint, over the alerts stored.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
ID_STEP = 10**15  # copy k shifts every id by k * ID_STEP (real ids are ~1.7e17 < 2**63 - 9000 * ID_STEP)


def _shift(record: dict, k: int) -> dict:
    if not k:
        return record
    off = k * ID_STEP

    def ids(d: dict | None, names) -> None:
        if d:
            for n in names:
                if d.get(n):
                    d[n] += off
    record["diaSourceId"] += off
    ids(record["diaSource"], ("diaSourceId", "diaObjectId", "ssObjectId"))
    ids(record.get("diaObject"), ("diaObjectId",))
    ids(record.get("ssSource"), ("diaSourceId", "ssObjectId"))
    for p in record.get("prvDiaSources") or ():
        ids(p, ("diaSourceId", "diaObjectId"))
    for p in record.get("prvDiaForcedSources") or ():
        ids(p, ("diaForcedSourceId", "diaObjectId"))
    return record


def make_input(src: Path, out: Path, copies: int, variant: str) -> int:
    """Write the replicated night for ``variant``; the number of alerts."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in sorted(src.glob("*.parquet")):
        table = pq.read_table(f)
        for k in range(copies):
            recs = [_shift(r, k) for r in table.to_pylist()]
            for r in recs:
                if variant == "no-fp":
                    r["prvDiaForcedSources"] = None
                if variant == "no-cutouts":
                    r["cutoutScience"] = r["cutoutTemplate"] = r["cutoutDifference"] = None
            pq.write_table(pa.Table.from_pylist(recs, schema=table.schema), out / f"{f.stem}-{k:04d}.parquet")
            n += len(recs)
    return n


CHILD = """
import json, resource, sys, time
from pathlib import Path
from settings import load_config
from ingest.night import ingest
cfg = load_config(None)
s = ingest(Path(sys.argv[1]), cfg, workers=int(sys.argv[2]) or None, show_progress=False, survey="rubin")
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
db = Path(cfg.data_dir) / "nocturne.sqlite3"
print(json.dumps({"alerts": s.alerts, "seconds": s.duration, "quarantined": s.quarantined,
                  "rss_mb": rss / 1024, "bytes": db.stat().st_size,
                  "sources": sum(c.sources for c in s.nights.values()), "forced": sum(c.forced for c in s.nights.values())}))
"""


def run(path: Path, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, NOCTURNE_DATA_DIR=data, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(workers)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--copies", type=int, default=2, help="replicas of the real alerts (default 2)")
    p.add_argument("--path", type=Path, help="a Rubin night to ingest as it is (e.g. the simulator's output)")
    p.add_argument("--workers", type=int, default=0, help="ingest workers (default: the ingest's own)")
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.path:
            variants = [("as given", args.path)]
        else:
            src = Path(os.environ.get("NOCTURNE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "rubin-fink-2026-03-10"
            variants = []
            for v in ("full", "no-fp", "no-cutouts"):
                make_input(src, Path(tmp) / v, args.copies, v)
                variants.append((v, Path(tmp) / v))
        for name, path in variants:
            r = run(path, args.workers)
            rows.append((name, r))
            print(f"{name:<11} {r['alerts']:>7,} alerts in {r['seconds']:6.1f} s = {r['alerts'] / r['seconds']:7.1f} alerts/s; "
                  f"peak RSS {r['rss_mb']:.0f} MB; {r['bytes'] / max(1, r['alerts']):,.0f} bytes/alert "
                  f"({r['sources']:,} previous sources, {r['forced']:,} forced sources)")
    if not args.no_write_doc:
        from bench.report import machine, today, write_section
        what = f"`{args.path}`" if args.path else f"the 107 real alerts x {args.copies} (shifted ids)"
        body = [f"### Rubin ingest ({today()}, {machine()})", "",
                f"Input: {what}; embedded store; workers {args.workers or 'default'}.", "",
                "| variant | alerts | alerts/s | peak RSS | bytes/alert | previous sources | forced sources |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for name, r in rows:
            body.append(f"| {name} | {r['alerts']:,} | {r['alerts'] / r['seconds']:.1f} | {r['rss_mb']:.0f} MB | "
                        f"{r['bytes'] / max(1, r['alerts']):,.0f} | {r['sources']:,} | {r['forced']:,} |")
        write_section("rubin_ingest", "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
