"""Rubin/LSST API benchmark: p50/p95 over HTTP through gunicorn (4 workers, warm) of the
`/lsst/api/v1` routes the issue sets targets for: objects, sources and fp of one object,
and a 5″ cone.

    python bench/bench_rubin_api.py [--path NIGHT | --data-dir DIR] [--repeats 40] [--no-write-doc]

``--path``: a Rubin night (Avro, wire messages or Fink Parquet; e.g. the simulator's output
at 1 M alerts) ingested once into bench/out/ (default: the 107 real alerts of
../shared/data/rubin-fink-2026-03-10). ``--data-dir``: a store already holding Rubin tables.
The object timed is the one whose sources number closest to 20 (among the first 200,000
objects), the cone is centred on it.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_timing import QueryFailed, serve, stop, time_request  # noqa: E402
from bench.report import machine, publish, today  # noqa: E402

TARGETS_MS = {"objects, one object": 10, "sources, one object": 10, "fp, one object": 10, "cone 5″": 10}
LSST = "/lsst/api/v1"


def build_store(path: Path, out: Path) -> Path:
    from ingest.night import ingest
    from settings import Config
    from store import open_store
    data_dir = out / f"rubin-api-store-{path.name}"
    if not (data_dir / "READY").exists():
        cfg = Config().replace(data_dir=data_dir, backend="embedded")
        ingest(path, cfg, show_progress=False)
        open_store(cfg, create=True).close()  # the ZTF tables too: gunicorn's health check opens them
        (data_dir / "READY").write_text("ok\n")
    return data_dir


def pick_queries(data_dir: Path) -> tuple[dict, int]:
    from hbase_schema import get_schema
    from settings import Config
    from store import open_store
    with open_store(Config().replace(data_dir=data_dir), schema=get_schema("rubin")) as s:
        objects = s.table("objects")
        batch = objects.read(ranges=[(None, None)], columns=["r:nDiaSources", "r:ra", "r:dec"], limit=200_000)
        counts = {objects.keys.parse(k)["diaObjectId"]: (n or 0) for k, n in zip(batch.keys, batch["r:nDiaSources"])}
        oid = min(counts, key=lambda o: abs(counts[o] - 20))
        i = batch.keys.index(objects.keys.build(oid))
        ra, dec = float(batch["r:ra"][i]), float(batch["r:dec"][i])
        alerts = len(s.table("time").read(ranges=[(None, None)], columns=[]))
    ident = {"diaObjectId": str(oid)}
    return {"objects, one object": (f"{LSST}/objects", ident), "sources, one object": (f"{LSST}/sources", ident),
            "fp, one object": (f"{LSST}/fp", ident),
            "cone 5″": (f"{LSST}/conesearch", {"ra": ra, "dec": dec, "radius": 5})}, alerts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", type=Path, default=Path(os.environ.get("NOCTURNE_SHARED_DATA", ROOT.parent / "shared"
                                                                     / "data")) / "rubin-fink-2026-03-10")
    p.add_argument("--data-dir", type=Path, help="a store already holding the Rubin tables")
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir or build_store(args.path, out)
    queries, alerts = pick_queries(data_dir)
    proc, port = serve("index:server", {"NOCTURNE_DATA_DIR": str(data_dir)}, timeout_s=120)
    results = []
    try:
        for name, (path, params) in queries.items():
            try:
                r = time_request(port, "GET", path, params, args.repeats, warm=3)
            except QueryFailed as exc:
                raise SystemExit(str(exc)) from None
            results.append((name, r["p50"], r["p95"], r["rows"]))
            print(f"{name:<24} p50 {r['p50']:8.1f} ms  p95 {r['p95']:8.1f} ms  {r['rows']} rows", file=sys.stderr)
    finally:
        stop(proc)
    lines = ["## Rubin/LSST API over HTTP: gunicorn, 4 workers, embedded store (`bench/bench_rubin_api.py`)", "",
             f"Run {today()} on {machine()}. Store: {alerts:,} Rubin alerts; one client, keep-alive, warm workers; "
             "JSON output, every column.", "",
             "| query | rows | p50 ms | p95 ms | target p50 ms |", "|---|---|---|---|---|"]
    for name, p50, p95, rows in results:
        target = TARGETS_MS.get(name)
        mark = "" if target is None else (" ✓" if p50 <= target else " ✗")
        lines.append(f"| {name} | {rows:,} | {p50:,.1f} | {p95:,.1f} | {target}{mark} |")
    publish("rubin-api", "\n".join(lines), write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
