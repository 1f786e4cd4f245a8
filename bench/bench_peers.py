"""Nocturne against its peers, in one run on the same data and the same machine.

    python bench/bench_peers.py [--alerts 1000000] [--sizes 100000,1000000] [--with-10m]
                                [--skip-hbase] [--repeats 30] [--no-write-doc]
    python bench/bench_peers.py --report-from bench/out/peers-run.json   # rewrite the doc only

For each store size (``--sizes`` plus ``--alerts``), builds (once, cached in bench/out/,
with ``bench_api.build_store``) a simulated store at Fink's sky density (about 10,000
alerts per deg²), then measures the same query set (``bench_api.pick_queries``) on:

* Nocturne, embedded backend (SQLite), the store as built;
* Nocturne, HBase backend: the local standalone (reused if running, else started and
  stopped here), loaded by copying the store table by table under a fresh prefix;
* PostgreSQL 15 + q3c, designed as ALeRCE's database (``bench/peers/pg.py``): a private
  cluster started here, loaded with COPY, indexed, CLUSTERed and VACUUM ANALYZEd.

The embedded store and PostgreSQL are measured first, with no HBase running; HBase is started
(or found running) only then, for its own ingest and queries; a running one is reused, and then
runs beside the others.

Two layers: the query layer alone, in this process (``api.queries`` on the store vs SQL
through psycopg, both answering the same DataFrames), and the full HTTP path through
gunicorn with 4 workers (Nocturne's API vs the same Flask parsing and rendering over
PostgreSQL, ``bench/peers/pg_service.py``). Also: ingest throughput of one simulated
night into an empty store of each backend, and bytes on disk per alert.

Writes the "peers" section of docs/benchmarks.md (every figure, the ratios, and the issue's
targets: PostgreSQL, Fink's published figures, growth with size) and
docs/benchmarks_latency.png; the run's results are kept in bench/out/peers-run.json.
Everything it starts (PostgreSQL, HBase, gunicorn) is stopped on the way out, and the
HBase tables and the PostgreSQL cluster it made are removed.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_api import build_store, pick_queries  # noqa: E402
from bench.http_timing import QueryFailed, quantiles, serve, stop, time_request  # noqa: E402
from bench.peers.report import LABELS, report  # noqa: E402
from bench.report import machine, publish, today  # noqa: E402
from store.sqlite_file import disk_bytes as embedded_bytes  # noqa: E402

OUT = ROOT / "bench" / "out"
PLOT = ROOT / "docs" / "benchmarks_latency.png"
BACKENDS = ("embedded", "hbase", "pg")
LATESTS_START_JD = 2458788.5  # 2019-11-01, the API's default startdate for latests
BYTES_GUESS = {"embedded": 7000, "hbase": 5000, "pg": 4000}  # per alert, for the disk check before a run


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# -- the query set, per layer -----------------------------------------------------------

def _sources(catalog: str):
    import pandas as pd
    return pd.read_csv(io.StringIO(catalog))[["ra", "dec", "id"]]


def peer_queries(data_dir: Path) -> dict:
    """``bench_api.pick_queries``, with two parameters moved so that every query returns
    rows: the 5″ cone is centred on a stored object (the 20-alert one) instead of an empty
    patch of sky, and the 10-minute window starts a minute before the first exposure."""
    from settings import Config
    from store import open_store
    queries = pick_queries(data_dir)
    with open_store(Config().replace(data_dir=data_dir)) as s:
        oid = queries["objects, 20-alert object"][2]["objectId"]
        main = s.table("main")
        _, cells = next(main.scan(row_prefix=main.keys.prefix(oid), columns=["i:ra", "i:dec"], limit=1))
        first_jd = next(s.table("jd").scan(columns=["i:jd"], limit=1))[1]["i:jd"]
    method, path, params, expected = queries.pop("cone 5″")
    cone5 = (method, path, dict(params, ra=cells["i:ra"], dec=cells["i:dec"]), expected)
    method, path, params, expected = queries["time window 10 min"]
    queries["time window 10 min"] = (method, path, dict(params, startdate=first_jd - 1 / 1440), expected)
    out = {}
    for name, query in queries.items():  # keep bench_api's order
        if name == "cone 1′":
            out["cone 5″ on an object"] = cone5
        out[name] = query
    return out


def nocturne_calls(store, queries: dict) -> dict:
    """name → zero-argument callable running the query in-process on a Nocturne store,
    as the route does (same parameters and defaults), returning (rows, result)."""
    from api import queries as q
    from science.cutout_image import to_png
    calls = {}
    for name, (_, path, p, _) in queries.items():
        if path.endswith("/objects"):
            calls[name] = lambda p=p: q.objects(store, [p["objectId"]])
        elif path.endswith("/conesearch"):
            calls[name] = lambda p=p: q.conesearch(store, p["ra"], p["dec"], p["radius"], None, None, p.get("n", 1000))
        elif path.endswith("/latests"):
            calls[name] = lambda p=p: q.latests(store, p["class"], p["n"], LATESTS_START_JD, None)
        elif path.endswith("/explorer"):
            calls[name] = lambda p=p: q.time_window(store, p["startdate"], p["startdate"] + p["window"] / 1440, 1000)
        elif path.endswith("/cutouts"):
            def cutout(p=p):
                cells = q.find_alert(store, p["objectId"], p["candid"], ("Science",))
                return to_png(q.decode_stamp(cells["b:cutoutScience_stampData"]))
            calls[name] = cutout
        elif path.endswith("/xmatch"):
            sources = _sources(p["catalog"])
            calls[name] = lambda p=p, s=sources: q.xmatch(store, s, p["radius"], None, p["columns"].split(","))
    return calls


def pg_calls(pgq, queries: dict) -> dict:
    calls = {}
    for name, (_, path, p, _) in queries.items():
        if path.endswith("/objects"):
            calls[name] = lambda p=p: pgq.objects(p["objectId"])
        elif path.endswith("/conesearch"):
            calls[name] = lambda p=p: pgq.conesearch(p["ra"], p["dec"], p["radius"], p.get("n", 1000))
        elif path.endswith("/latests"):
            calls[name] = lambda p=p: pgq.latests(p["class"], p["n"], LATESTS_START_JD)
        elif path.endswith("/explorer"):
            calls[name] = lambda p=p: pgq.time_window(p["startdate"], p["startdate"] + p["window"] / 1440, 1000)
        elif path.endswith("/cutouts"):
            calls[name] = lambda p=p: pgq.cutout_png(p["objectId"], p["candid"])
        elif path.endswith("/xmatch"):
            sources = _sources(p["catalog"])
            calls[name] = lambda p=p, s=sources: pgq.xmatch(s, p["radius"], p["columns"].split(","))
    return calls


def time_calls(calls: dict, repeats: int, xmatch_repeats: int, label: str) -> dict:
    out = {}
    for name, fn in calls.items():
        n = xmatch_repeats if name.startswith("xmatch") else repeats
        warm = 1 if name.startswith("xmatch") else 3
        times, rows, error = [], None, None
        try:
            for i in range(n + warm):
                t0 = time.perf_counter()
                result = fn()
                elapsed = time.perf_counter() - t0
                if i >= warm:
                    times.append(elapsed)
            rows = 1 if isinstance(result, bytes) else len(result)
        except Exception as exc:  # a failing query is reported in the table, not fatal
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if times and error is None:
            p50, p95 = quantiles(times)
            out[name] = {"p50": p50, "p95": p95, "rows": rows, "n": len(times)}
            log(f"  {label:<20} query  {name:<28} p50 {p50:9.1f} ms  p95 {p95:9.1f} ms  {rows} rows")
        else:
            out[name] = {"p50": None, "p95": None, "rows": None, "error": error}
            log(f"  {label:<20} query  {name:<28} FAILED: {error}")
    return out


# -- HTTP -------------------------------------------------------------------------------

# requests before the timed ones, per query: about three per gunicorn worker (4), since each
# worker opens its store's connections on its first requests (on HBase a cold worker's first
# cross-match took ~2× a warm one's: 212 against 100 ms, 2026-12-01)
WARM = 12


def time_http(port: int, queries: dict, repeats: int, xmatch_repeats: int, label: str) -> dict:
    out = {}
    for name, (method, path, params, _) in queries.items():
        xm = name.startswith("xmatch")
        try:  # a failing query is reported in the table, not fatal
            out[name] = r = time_request(port, method, path, params, xmatch_repeats if xm else repeats,
                                         warm=WARM)
            log(f"  {label:<20} HTTP   {name:<28} p50 {r['p50']:9.1f} ms  p95 {r['p95']:9.1f} ms  {r['rows']} rows")
        except QueryFailed as exc:
            out[name] = {"p50": None, "p95": None, "rows": None, "error": str(exc)}
            log(f"  {label:<20} HTTP   {name:<28} FAILED: {exc}")
    return out


# -- ingest throughput ------------------------------------------------------------------

def _night(sim: Path) -> tuple[Path, int]:
    """The largest night of a simulation folder and its number of alerts."""
    meta = json.loads((sim / "simulation.json").read_text())
    night, n = max(meta["alerts_per_night"].items(), key=lambda kv: kv[1])
    folder = next(p for p in sim.iterdir() if p.is_dir() and p.name.endswith(night))
    return folder, n


def ingest_nocturne(night: Path, env: dict, data_dir: Path) -> float:
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(data_dir), **env)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ingest", "night", str(night), "--no-progress"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"ingest failed (exit {proc.returncode}): {(proc.stdout + proc.stderr)[-800:]}")
    return elapsed


def measure_ingest(inputs: list[tuple[str, Path, int]], pg, hb, tmp: Path) -> list[dict]:
    """alerts/s of each backend ingesting each night into an empty store, timed from
    outside the ingest process (start-up included, the same for every backend). ``pg`` or
    ``hb`` None: that backend is left out (the embedded store is measured with ``pg``)."""
    rows = []
    for label, night, n in inputs:
        row = {"input": label, "alerts": n}
        if pg is not None:
            store = tmp / "ingest-embedded"
            try:
                row["embedded"] = n / ingest_nocturne(night, {"NOCTURNE_BACKEND": "embedded"}, store)
                row["embedded_bpa"] = embedded_bytes(store) / n
            finally:
                shutil.rmtree(store, ignore_errors=True)
            log(f"  ingest {label}: embedded {row['embedded']:,.0f} alerts/s")
            dsn = pg.create_db("ingest")
            try:
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-m", "bench.peers.pg", "ingest", dsn, str(night)], cwd=ROOT,
                                      capture_output=True, text=True)
                elapsed = time.perf_counter() - t0
                if proc.returncode != 0:
                    raise RuntimeError(f"PostgreSQL ingest failed: {proc.stderr[-800:]}")
                row["pg"] = int(proc.stdout.split()[0]) / elapsed
            finally:
                pg.drop_db("ingest")
            log(f"  ingest {label}: PostgreSQL {row['pg']:,.0f} alerts/s")
        if hb is not None:
            prefix = f"peers_ingest_{os.getpid()}"
            try:
                row["hbase"] = n / ingest_nocturne(night, hb.env(prefix), tmp / "ingest-hbase")
            finally:
                hb.drop(prefix)
                shutil.rmtree(tmp / "ingest-hbase", ignore_errors=True)
            log(f"  ingest {label}: HBase {row['hbase']:,.0f} alerts/s")
        rows.append(row)
    return rows


# -- one store size ---------------------------------------------------------------------

def store_alerts(data_dir: Path) -> int:
    from settings import Config
    from store import open_store
    with open_store(Config().replace(data_dir=data_dir)) as s:
        return sum(r["basic:sci"] for _, r in s.table("statistics").scan(columns=["basic:sci"])) + 1500


def measure_size(size: int, args, pg, hb, tmp: Path) -> dict:
    """The queries' figures, bytes and load times of one store size: the embedded store and
    PostgreSQL when ``pg`` is given, HBase when ``hb`` is (each None: left out)."""
    from bench.peers import pg as pgmod
    from bench.peers.hbase import copy_store
    from settings import Config
    from store import open_store
    log(f"== store of {size:,} alerts")
    data_dir = build_store(size, OUT) / "store"
    queries = peer_queries(data_dir)
    n = store_alerts(data_dir)
    result = {"size": size, "alerts": n, "bytes": {}, "load_s": {}, "layers": {"query": {}, "http": {}}}
    per = {"query": {}, "http": {}}  # layer → backend → name → figures
    logs = tmp / "gunicorn.log"

    if pg is not None:  # Nocturne, embedded, then PostgreSQL + q3c
        result["bytes"]["embedded"] = embedded_bytes(data_dir) / n
        with open_store(Config().replace(data_dir=data_dir)) as s:
            per["query"]["embedded"] = time_calls(nocturne_calls(s, queries), args.repeats, args.xmatch_repeats, "embedded")
        proc, port = serve("index:server", {"NOCTURNE_DATA_DIR": str(data_dir), "NOCTURNE_BACKEND": "embedded"}, logs)
        try:
            per["http"]["embedded"] = time_http(port, queries, args.repeats, args.xmatch_repeats, "embedded")
        finally:
            stop(proc)

        db = f"nocturne_{size}"
        dsn = pg.create_db(db)
        try:
            result["load_s"]["pg"] = pgmod.load_from_store(dsn, data_dir, log=log)["total_s"]
            result["bytes"]["pg"] = pgmod.database_bytes(dsn) / n
            pgq = pgmod.PgQueries(dsn)
            try:
                per["query"]["pg"] = time_calls(pg_calls(pgq, queries), args.repeats, args.xmatch_repeats, "PostgreSQL")
            finally:
                pgq.close()
            proc, port = serve("bench.peers.pg_service:app", {"NOCTURNE_PG_DSN": dsn}, logs)
            try:
                per["http"]["pg"] = time_http(port, queries, args.repeats, args.xmatch_repeats, "PostgreSQL")
            finally:
                stop(proc)
        finally:
            if not args.keep_pg:
                pg.drop_db(db)

    # Nocturne, HBase
    if hb is not None:
        prefix = f"peers_{size}_{os.getpid()}"
        try:
            result["load_s"]["hbase"] = copy_seconds = copy_store(data_dir, hb.config(prefix), log=log)
            log(f"  HBase: copied in {copy_seconds:.0f} s")
            result["bytes"]["hbase"] = hb.table_bytes(prefix) / n
            with open_store(hb.config(prefix)) as s:
                per["query"]["hbase"] = time_calls(nocturne_calls(s, queries), args.repeats, args.xmatch_repeats,
                                                   "HBase")
            proc, port = serve("index:server", {"NOCTURNE_DATA_DIR": str(tmp / "hbase-serve"), **hb.env(prefix)}, logs)
            try:
                per["http"]["hbase"] = time_http(port, queries, args.repeats, args.xmatch_repeats, "HBase")
            finally:
                stop(proc)
        finally:
            hb.drop(prefix)

    for layer, by_backend in per.items():
        for backend, figures in by_backend.items():
            for name, cell in figures.items():
                result["layers"][layer].setdefault(name, {})[backend] = cell
    return result


def merge_size(into: dict, other: dict) -> None:
    """Add ``other``'s backends (one size's figures, bytes and load times) to ``into``."""
    for part in ("bytes", "load_s"):
        into[part].update(other[part])
    for layer, names in other["layers"].items():
        for name, by_backend in names.items():
            into["layers"][layer].setdefault(name, {}).update(by_backend)


# -- main -------------------------------------------------------------------------------

def check_disk(sizes: list[int], skip_hbase: bool, where: Path) -> None:
    need = 0
    for size in sizes:
        built = (OUT / f"api-store-{size}" / "READY").exists()
        need += size * (BYTES_GUESS["pg"] + (0 if skip_hbase else BYTES_GUESS["hbase"])
                        + (0 if built else BYTES_GUESS["embedded"]))
    free = shutil.disk_usage(where).free
    if need * 1.2 > free:
        raise SystemExit(f"not enough disk: about {need / 1e9:,.0f} GB needed for sizes {sizes}, "
                         f"{free / 1e9:,.0f} GB free on {where}; drop a size or use --skip-hbase")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alerts", type=int, default=1_000_000, help="main store size (default 1,000,000)")
    p.add_argument("--sizes", default="100000,1000000", help="store sizes for the plot (comma-separated)")
    p.add_argument("--with-10m", action="store_true", help="also 10,000,000 alerts (the main size then)")
    p.add_argument("--skip-hbase", action="store_true", help="leave out the HBase backend")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--xmatch-repeats", type=int, default=3)
    p.add_argument("--work-dir", type=Path, default=Path("/var/tmp"),
                   help="where the PostgreSQL cluster and a started HBase keep their data (removed at the end)")
    p.add_argument("--keep-pg", action="store_true", help="keep the PostgreSQL databases (debugging)")
    p.add_argument("--resume-build", action="store_true",
                   help="finish a store build that was interrupted (a folder without READY)")
    p.add_argument("--no-write-doc", action="store_true")
    p.add_argument("--report-from", type=Path, metavar="JSON",
                   help="rewrite the section and the plot from a saved run (bench/out/peers-run.json), measuring nothing")
    args = p.parse_args(argv)
    if args.report_from:
        return write_report(json.loads(args.report_from.read_text()), args.no_write_doc)
    if args.with_10m:
        args.alerts = 10_000_000
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | {args.alerts})
    OUT.mkdir(parents=True, exist_ok=True)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    check_disk(sizes, args.skip_hbase, args.work_dir)
    signal.signal(signal.SIGTERM, _sigterm)

    from bench.peers.hbase import HBaseUnavailable, LocalHBase
    from bench.peers.pg import Cluster, PgUnavailable

    results: dict[int, dict] = {}
    for size in sizes:  # build (or find) every store first: the slow part, and no server runs meanwhile
        folder = OUT / f"api-store-{size}"
        if folder.exists() and not (folder / "READY").exists() and not args.resume_build:
            raise SystemExit(f"{folder} exists without READY: a build is running or was interrupted. Wait for "
                             f"{folder / 'READY'}, or pass --resume-build to finish it (the ingest is idempotent)")
        build_store(size, OUT)
    backends = ["embedded"] + ([] if args.skip_hbase else ["hbase"]) + ["pg"]
    versions = {"hbase": "2.6.1 standalone"}
    tmp = Path(tempfile.mkdtemp(prefix="nocturne-peers-", dir=args.work_dir))
    try:
        with ExitStack() as stack:
            try:
                pg = stack.enter_context(Cluster(args.work_dir, keep=args.keep_pg))
            except PgUnavailable as exc:
                raise SystemExit(f"PostgreSQL: {exc}") from None
            versions["pg"] = pg.versions()
            log(f"PostgreSQL {versions['pg']} on 127.0.0.1:{pg.port} ({pg.dir})")
            sim = OUT / f"api-sim-{args.alerts}"
            night, n_night = _night(sim)
            cut = OUT / f"api-sim-cutouts-{args.alerts}"
            cut_night, n_cut = _night(cut)
            inputs = [(f"night without cutouts ({night.name})", night, n_night),
                      (f"night with cutouts ({cut_night.name})", cut_night, n_cut)]
            # the embedded store and PostgreSQL first, with no HBase running beside them (its JVM
            # used a quarter of a core on average in its first minutes, 2026-12-02)
            ingest = measure_ingest(inputs, pg, None, tmp)
            for size in sizes:
                results[size] = measure_size(size, args, pg, None, tmp)
            if not args.skip_hbase:
                try:
                    hb = stack.enter_context(LocalHBase(args.work_dir, log=log))
                except HBaseUnavailable as exc:
                    raise SystemExit(f"HBase: {exc}") from None
                for row, got in zip(ingest, measure_ingest(inputs, None, hb, tmp)):
                    row["hbase"] = got["hbase"]
                for size in sizes:
                    merge_size(results[size], measure_size(size, args, None, hb, tmp))
            for size in sizes:
                (OUT / f"peers-results-{size}.json").write_text(json.dumps(results[size], indent=1))
    except KeyboardInterrupt:
        log("interrupted: everything started was stopped")
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    run = {"date": today(), "machine": machine(), "main_size": args.alerts, "backends": backends,
           "versions": versions, "ingest": ingest, "results": results}
    (OUT / "peers-run.json").write_text(json.dumps(run, indent=1))
    return write_report(run, args.no_write_doc)


def write_report(run: dict, no_write_doc: bool = False) -> int:
    """The peers section and the latency plot from a run's saved results."""
    from bench.peers.plot import plot
    results = {int(size): r for size, r in run["results"].items()}
    plot_path = OUT / "peers-latency.png" if no_write_doc else PLOT
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot(results, plot_path, f"p50 latency vs store size ({run['date']}, {run['machine'].split(',')[0]})")
    text = report(results, run["ingest"], int(run["main_size"]), run["backends"], run["versions"], run["date"],
                  run["machine"])
    publish("peers", text, write=not no_write_doc)
    log(f"plot: {plot_path}" if no_write_doc else f"wrote docs/benchmarks.md (section peers) and {PLOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
