"""API benchmark: p50/p95 over HTTP through gunicorn (4 workers, warm) on a store at
Fink's sky density (about 10,000 alerts per deg²).

    python bench/bench_api.py [--alerts 1000000] [--repeats 50] [--no-write-doc]

Builds (once, cached in bench/out/) a simulated store: N alerts without cutouts over
N/10,000 deg², plus one night with cutouts in the same footprint, plus a 1,500-alert
object written through the store API. Then serves it with gunicorn and times each query
from one client with a keep-alive connection.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_timing import QueryFailed, serve, stop, time_request  # noqa: E402
from bench.report import machine, publish, today  # noqa: E402

CENTER = (150.0, 30.0)
TARGETS_MS = {"objects, 20-alert object": 10, "objects, 1,500-alert object": 150, "cone 5″": 10, "cone 1′": 20,
              "cone 1°": 300, "latests n=1000": 100, "cutout PNG": 20, "xmatch 10,000 sources": 5000}
FINK_MS = {"objects, 20-alert object": "300", "objects, 1,500-alert object": "1,800", "cone 5″": "200–400",
           "cone 1′": "200–400", "cone 1°": "400–2,000", "latests n=1000": "~60,000", "cutout PNG": "250",
           "xmatch 10,000 sources": "~5,000,000 (2 sources/s)"}


def run(cmd, env=None):
    subprocess.run(cmd, cwd=ROOT, check=True, env=env)


def build_store(alerts: int, out: Path) -> Path:
    store = out / f"api-store-{alerts}"
    if (store / "READY").exists():
        return store
    env = store_env(store)
    sim = simulate_nights(alerts, out)
    run([sys.executable, "-m", "ingest", "night", str(sim), "--no-progress"], env=env)
    finish_store(store, alerts, out)
    return store


def store_env(store: Path) -> dict:
    """The environment of an ingest into ``store``'s embedded store."""
    return dict(os.environ, NOCTURNE_DATA_DIR=str(store / "store"), NOCTURNE_BACKEND="embedded")


def simulate_nights(alerts: int, out: Path, nights: int = 10) -> Path:
    """The store's simulated nights without cutouts (made once): ``alerts`` over ``nights``."""
    sim = out / f"api-sim-{alerts}"
    if not (sim / "simulation.json").exists():
        run([sys.executable, "-m", "ingest", "simulate", "--nights", str(nights), "--alerts-per-night",
             str(alerts // nights), "--seed", "11", "--no-cutouts", "--containers", "5000", "--workers", "2",
             "--center", f"{CENTER[0]},{CENTER[1]}", "--with-fink-values", "--quiet", "--force", str(sim)])
    return sim


def finish_store(store: Path, alerts: int, out: Path) -> None:
    """The store's last steps: a night with cutouts (its area follows the store size), the
    1,500-alert object, then READY."""
    cut = out / f"api-sim-cutouts-{alerts}"
    if not (cut / "simulation.json").exists():
        run([sys.executable, "-m", "ingest", "simulate", "--nights", "1", "--alerts-per-night", "2000", "--seed",
             "12", "--center", f"{CENTER[0]},{CENTER[1]}", "--area", str(alerts / 10000), "--start-date",
             "2026-01-01", "--with-fink-values", "--quiet", "--force", str(cut)])
    run([sys.executable, "-m", "ingest", "night", str(cut), "--no-progress"], env=store_env(store))
    add_long_object(store / "store")
    (store / "READY").write_text("ok")


def add_long_object(data_dir: Path, n: int = 1500) -> None:
    """A 1,500-alert object (a long-observed variable), copied from a stored alert."""
    from settings import Config
    from store import open_store
    with open_store(Config().replace(data_dir=data_dir)) as s:
        main = s.table("main")
        _, template = next(main.scan(columns=["i", "d"], limit=1))
        with main.batch(500) as b:
            for i in range(n):
                jd = 2459000.5 + i * 0.7
                cells = dict(template, **{"i:objectId": "ZTF20longobj", "i:jd": jd, "i:candid": 10**18 + i})
                b.put(main.keys.build("ZTF20longobj", jd, 10**18 + i), cells)


def pick_queries(data_dir: Path) -> dict:
    from settings import Config
    from store import open_store
    with open_store(Config().replace(data_dir=data_dir)) as s:
        main = s.table("main")
        counts: dict = {}
        for key, _ in main.scan(columns=["i:jd"], limit=200_000):
            oid = main.keys.parse(key)["objectId"]
            counts[oid] = counts.get(oid, 0) + 1
        twenty = min(counts, key=lambda o: abs(counts[o] - 20))
        first = next(main.scan(row_prefix=main.keys.prefix(twenty), columns=["i:ra", "i:dec", "i:jd"], limit=1))[1]
        cut_key, cut = next((k, c) for k, c in main.scan(columns=["b:cutoutScience_stampData", "i:objectId",
                                                                  "i:candid"], reverse=True, limit=1))
    cone = lambda r: {"ra": first["i:ra"], "dec": first["i:dec"], "radius": r}  # noqa: E731  (on an object)
    catalog = "ra,dec,id\n" + "\n".join(f"{CENTER[0] + (i % 100) * 0.05 - 2.5},{CENTER[1] + (i // 100) * 0.05 - 2.5},s{i}"
                                        for i in range(10_000))
    return {
        "objects, 20-alert object": ("GET", "/api/v1/objects", {"objectId": twenty}, counts[twenty]),
        "objects, 1,500-alert object": ("GET", "/api/v1/objects", {"objectId": "ZTF20longobj"}, 1500),
        "cone 5″": ("GET", "/api/v1/conesearch", cone(5), None),
        "cone 1′": ("GET", "/api/v1/conesearch", cone(60), None),
        "cone 1°": ("GET", "/api/v1/conesearch", {**cone(3600), "n": 1000}, None),
        "latests n=1000": ("GET", "/api/v1/latests", {"class": "SN candidate", "n": 1000}, None),
        "time window 10 min": ("GET", "/api/v1/explorer", {"startdate": first["i:jd"] - 5 / 1440, "window": 10},
                               None),
        "cutout PNG": ("GET", "/api/v1/cutouts", {"objectId": cut["i:objectId"], "candid": cut["i:candid"]}, None),
        "xmatch 10,000 sources": ("POST", "/api/v1/xmatch", {"catalog": catalog, "header": "ra,dec,id",
                                                               "radius": 1.5, "columns": "i:objectId"}, None),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alerts", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    store = build_store(args.alerts, out)
    data_dir = store / "store"
    queries = pick_queries(data_dir)
    from settings import Config
    from store import open_store
    with open_store(Config().replace(data_dir=data_dir)) as s:
        n_alerts = sum(r["basic:sci"] for _, r in s.table("statistics").scan(columns=["basic:sci"])) + 1500
    proc, port = serve("index:server", {"NOCTURNE_DATA_DIR": str(data_dir)}, timeout_s=120)
    results = []
    try:
        for name, (method, path, params, expected) in queries.items():
            repeats = 5 if name.startswith("xmatch") else args.repeats
            try:
                r = time_request(port, method, path, params, repeats, warm=3)
            except QueryFailed as exc:
                raise SystemExit(str(exc)) from None
            p50, p95, size, rows = r["p50"], r["p95"], r["bytes"], r["rows"]
            results.append((name, p50, p95, size, rows))
            print(f"{name:<32} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  {rows} rows  {size:,} bytes", file=sys.stderr)
    finally:
        stop(proc)
    lines = ["## API over HTTP: gunicorn, 4 workers, embedded store (`bench/bench_api.py`)", "",
             f"Run {today()} on {machine()}. Store: {n_alerts:,} alerts at about 10,000 alerts/deg² around "
             f"(150°, +30°); one client, keep-alive, warm workers; JSON output, all columns.", "",
             "| query | rows | p50 ms | p95 ms | target p50 ms | Fink (published) ms |", "|---|---|---|---|---|---|"]
    for name, p50, p95, size, rows in results:
        target = TARGETS_MS.get(name)
        mark = "" if target is None else (" ✓" if p50 <= target else " ✗")
        lines.append(f"| {name} | {rows:,} | {p50:,.1f} | {p95:,.1f} | {target if target else '—'}{mark} | "
                     f"{FINK_MS.get(name, '—')} |")
    text = "\n".join(lines)
    publish("api", text, write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
