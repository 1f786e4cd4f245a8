"""Rubin ingest throughput: alerts/s, rows/s, peak RSS and bytes per alert, with and without
forced photometry and cutouts.

    python -m bench.bench_rubin_ingest [--copies N] [--per-file N] [--path DIR] [--workers W]
                                       [--json OUT] [--before JSON] [--no-write-doc]

Input: the real Rubin alerts (``$NOCTURNE_SHARED_DATA/rubin-fink-2026-03-10``, 107 alerts)
replicated ``--copies`` times with shifted ids (each copy new objects, sources and forced
sources), written ``--per-file`` alerts to a Parquet file (default 500, as a Fink delivery's
part files hold many alerts; 0: the sample's own layout, 2 or 3 alerts a file, where opening
files dominates), or ``--path``: any Rubin night (the simulator's output, Avro or Parquet) as it is.
Each variant is ingested into a fresh embedded store in a child process (its own peak RSS):
``full`` (as delivered), ``no-fp`` (prvDiaForcedSources emptied) and ``no-cutouts``.
Rows: every row written, all tables (the real alerts carry ~415 previous sources and ~575
forced sources each, many more than a typical alert: rows/s is the figure that carries over).
Bytes per alert: the SQLite file after a checkpoint and the cutouts' blob files (`store.sqlite_file.disk_bytes`), over the alerts stored.
``--json`` saves the figures; ``--before`` adds a run saved so (e.g. of an older commit) beside them.
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


def make_input(src: Path, out: Path, copies: int, variant: str, per_file: int = 500) -> int:
    """Write the replicated night for ``variant``, ``per_file`` alerts a file (0: one output file
    per input file and copy, the sample's layout); the number of alerts."""
    out.mkdir(parents=True, exist_ok=True)
    n, pending, schema, written = 0, [], None, 0

    def flush(name: str) -> None:
        nonlocal pending, written
        if pending:
            pq.write_table(pa.Table.from_pylist(pending, schema=schema), out / f"{name}.parquet")
            pending, written = [], written + 1

    for k in range(copies):
        for f in sorted(src.glob("*.parquet")):
            table = pq.read_table(f)
            schema = table.schema
            for r in table.to_pylist():
                r = _shift(r, k)
                if variant == "no-fp":
                    r["prvDiaForcedSources"] = None
                if variant == "no-cutouts":
                    r["cutoutScience"] = r["cutoutTemplate"] = r["cutoutDifference"] = None
                pending.append(r)
                n += 1
                if per_file and len(pending) >= per_file:
                    flush(f"alerts-{written:05d}")
            if not per_file:
                flush(f"{f.stem}-{k:04d}")
    flush(f"alerts-{written:05d}")
    return n


CHILD = """
import json, resource, sys, time
from pathlib import Path
from settings import load_config
from ingest.night import ingest
from store.sqlite_file import disk_bytes as embedded_bytes
cfg = load_config(None)
s = ingest(Path(sys.argv[1]), cfg, workers=int(sys.argv[2]) or None, show_progress=False, survey="rubin")
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
db = Path(cfg.data_dir) / "nocturne.sqlite3"
import sqlite3
con = sqlite3.connect(db)
names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rubin.%'")]
rows = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
print(json.dumps({"alerts": s.alerts, "seconds": s.duration, "quarantined": s.quarantined,
                  "rss_mb": rss / 1024, "bytes": embedded_bytes(cfg.data_dir), "rows": sum(rows.values()), "tables": rows,
                  "sources": sum(c.sources for c in s.nights.values()), "forced": sum(c.forced for c in s.nights.values())}))
"""


def run(path: Path, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, NOCTURNE_DATA_DIR=data, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(workers)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


TARGETS = {"full": 800, "no-cutouts": 2000}  # alerts/s (issue 19; no-cutouts: with forced photometry)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--copies", type=int, default=2, help="replicas of the real alerts (default 2)")
    p.add_argument("--per-file", type=int, default=500, help="alerts per Parquet file (default 500; 0: the sample's layout)")
    p.add_argument("--path", type=Path, help="a Rubin night to ingest as it is (e.g. the simulator's output)")
    p.add_argument("--workers", type=int, default=0, help="ingest workers (default: the ingest's own)")
    p.add_argument("--json", type=Path, help="save the figures as JSON")
    p.add_argument("--before", type=Path, help="figures saved by --json (e.g. of an older commit), shown beside")
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.path:
            variants = [("as given", args.path)]
        else:
            src = Path(os.environ.get("NOCTURNE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "rubin-fink-2026-03-10"
            variants = []
            for v in ("full", "no-fp", "no-cutouts"):
                make_input(src, Path(tmp) / v, args.copies, v, args.per_file)
                variants.append((v, Path(tmp) / v))
        for name, path in variants:
            r = run(path, args.workers)
            rows.append((name, r))
            print(f"{name:<11} {r['alerts']:>7,} alerts in {r['seconds']:6.1f} s = {r['alerts'] / r['seconds']:7.1f} alerts/s, "
                  f"{r['rows'] / r['seconds']:9,.0f} rows/s ({r['rows']:,} rows); peak RSS {r['rss_mb']:.0f} MB; "
                  f"{r['bytes'] / max(1, r['alerts']):,.0f} bytes/alert")
    if args.json:
        args.json.write_text(json.dumps(dict(rows), indent=1))
    before = json.loads(args.before.read_text()) if args.before else {}
    from bench.report import machine, publish, today
    layout = f"{args.per_file} alerts a Parquet file" if args.per_file else "the sample's layout (2-3 alerts a file)"
    what = f"`{args.path}`" if args.path else f"the 107 real alerts x {args.copies} (shifted ids), {layout}"
    body = [f"### Rubin ingest ({today()}, {machine()})", "",
            f"Input: {what}; embedded store; workers {args.workers or 'default'}. Rows: every row written "
            f"(sources incl. previous sources, forced sources, objects, indexes, cutouts).", "",
            "| variant | alerts | rows | alerts/s | rows/s | target alerts/s | peak RSS | bytes/alert |"
            + (" before: alerts/s | before: rows/s | before: peak RSS |" if before else ""),
            "|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if before else "")]
    for name, r in rows:
        line = (f"| {name} | {r['alerts']:,} | {r['rows']:,} | {r['alerts'] / r['seconds']:,.1f} | "
                f"{r['rows'] / r['seconds']:,.0f} | {TARGETS.get(name, '-')} | {r['rss_mb']:.0f} MB | "
                f"{r['bytes'] / max(1, r['alerts']):,.0f} |")
        b = before.get(name)
        if before:
            line += (f" {b['alerts'] / b['seconds']:,.1f} | {b.get('rows', 0) / b['seconds']:,.0f} | {b['rss_mb']:.0f} MB |"
                     if b else " - | - | - |")
        body.append(line)
    body += ["", f"Load average of the machine when the run started: {load:.1f} (shared; figures are wall time).", ""]
    for name, r in rows:
        target = TARGETS.get(name)
        if target is None:
            continue
        rate, per_alert = r["alerts"] / r["seconds"], r["rows"] / max(1, r["alerts"])
        verdict = "met" if rate >= target else f"missed by {target / rate:.0f}x"
        body.append(f"- {name}: {rate:,.0f} alerts/s against {target:,}: {verdict}. These alerts write "
                    f"{per_alert:,.0f} rows each; {target:,} alerts/s of them would be {target * per_alert:,.0f} rows/s, "
                    f"measured {r['rows'] / r['seconds']:,.0f}.")
    publish("rubin_ingest", "\n".join(body), write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
