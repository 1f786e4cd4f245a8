"""The embedded store from 1 M to 10 M alerts: the peers' queries at each size (issue 22).

    python bench/bench_growth.py [--sizes 1000000,10000000] [--repeats 30] [--no-write-doc]

Each size is the store ``bench_api.build_store`` makes (ten simulated nights at Fink's sky
density, about 10,000 alerts per deg², so ten times the alerts is ten times the sky; plus a
cutouts night and a 1,500-alert object), cached in bench/out/. A store that is not built yet
and whose simulated nights would not fit on disk beside it is built night by night: each night
is ingested, then its files are removed (``--stream``, automatic when needed), and the seconds
of every night's ingest are kept (the ingest rate as the store grows).

Then the same queries as the peers' benchmark (``bench_peers.peer_queries``), on the embedded
store only, in process and over HTTP (gunicorn, 4 workers). Writes the "growth" section of
docs/benchmarks.md; results in bench/out/growth-<size>.json.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_api import build_store, finish_store, run, simulate_nights, store_env  # noqa: E402
from bench.bench_peers import (OUT, nocturne_calls, peer_queries, store_alerts, time_calls,  # noqa: E402
                               time_http)
from bench.http_timing import serve, stop  # noqa: E402
from bench.report import machine, publish, today  # noqa: E402
from store.sqlite_file import disk_bytes  # noqa: E402

SIM_BYTES_PER_ALERT = 5_000  # the simulator's Avro without cutouts (4.9 GB for 1,030,522 alerts)
STORE_BYTES_PER_ALERT = 3_000  # the embedded store, with margin (2,367 measured at 1 M)


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def needs_streaming(size: int, where: Path = OUT) -> bool:
    """Whether the whole simulation and the store would not fit on disk together."""
    need = size * (SIM_BYTES_PER_ALERT + STORE_BYTES_PER_ALERT) * 1.1
    return need > shutil.disk_usage(where).free


def ingest_seconds(folder: Path, env: dict) -> float:
    t0 = time.perf_counter()
    run([sys.executable, "-m", "ingest", "night", str(folder), "--no-progress"], env=env)
    return time.perf_counter() - t0


def build_streamed(size: int, out: Path = OUT, max_nights: int | None = None) -> tuple[Path, list[dict]]:
    """``build_store``'s store, ingesting night by night and removing each night's files after;
    with ``max_nights``, only the first ones (the store then holds fewer alerts than ``size``,
    over the same sky)."""
    store = out / f"api-store-{size}"
    record = store / "nights.json"
    done = json.loads(record.read_text()) if record.exists() else []
    if (store / "READY").exists():
        return store, done
    sim = simulate_nights(size, out)
    per_night = json.loads((sim / "simulation.json").read_text())["alerts_per_night"]
    store.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in sim.iterdir() if p.is_dir()):
        if max_nights is not None and len(done) >= max_nights:
            break
        night = folder.name.rsplit("_", 1)[-1]
        seconds = ingest_seconds(folder, store_env(store))
        done.append({"night": night, "alerts": per_night[night], "seconds": seconds,
                     "store_bytes": disk_bytes(store / "store")})
        record.write_text(json.dumps(done, indent=1))
        log(f"  night {night}: {per_night[night]:,} alerts in {seconds:.0f} s "
            f"({per_night[night] / seconds:,.0f}/s), store {done[-1]['store_bytes'] / 1e9:.1f} GB")
        shutil.rmtree(folder)
    finish_store(store, size, out)
    return store, done


def measure(size: int, args) -> dict:
    from settings import Config
    from store import open_store
    folder = OUT / f"api-store-{size}"
    if (folder / "nights.json").exists() or args.stream or args.max_nights or \
            (not (folder / "READY").exists() and needs_streaming(size)):
        folder, nights = build_streamed(size, OUT, args.max_nights)
    else:
        folder, nights = build_store(size, OUT), []
    data_dir = folder / "store"
    queries = peer_queries(data_dir)
    n = store_alerts(data_dir)
    log(f"== embedded store of {n:,} alerts")
    result = {"size": size, "alerts": n, "bytes_per_alert": disk_bytes(data_dir) / n, "nights": nights}
    with open_store(Config().replace(data_dir=data_dir)) as s:
        result["query"] = time_calls(nocturne_calls(s, queries), args.repeats, args.xmatch_repeats, "embedded")
    proc, port = serve("index:server", {"NOCTURNE_DATA_DIR": str(data_dir), "NOCTURNE_BACKEND": "embedded"},
                       OUT / "growth-gunicorn.log")
    try:
        result["http"] = time_http(port, queries, args.repeats, args.xmatch_repeats, "embedded")
    finally:
        stop(proc)
    (OUT / f"growth-{size}.json").write_text(json.dumps(result, indent=1))
    return result


def _ms(cell: dict) -> str:
    return "failed" if cell.get("p50") is None else f"{cell['p50']:,.1f}"


def _ratio(a: dict, b: dict) -> str:
    if a.get("p50") is None or b.get("p50") is None:
        return "–"
    return f"{b['p50'] / a['p50']:.2f}×"


def report(results: list[dict], command: str) -> str:
    small, big = results[0], results[-1]
    lines = [f"## Growth of the embedded store: {small['alerts'] / 1e6:.1f} M → {big['alerts'] / 1e6:.1f} M alerts "
             "(`bench/bench_growth.py`)", "",
             f"Run {today()} on {machine()}; `{command}`. Stores as the peers' benchmark builds them (ten "
             "simulated nights at about 10,000 alerts per deg², so the sky grows with the alerts, plus a cutouts "
             "night and a 1,500-alert object); the same queries, on the embedded store only; p50 of "
             "repeated warm calls, in ms. A store built with `--max-nights K` holds the first K of its ten "
             "nights: fewer alerts over the same sky, so a lower density (big cones find fewer objects).", "",
             "| simulated for | nights stored | alerts | bytes per alert (file + WAL) |", "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['size']:,} | {len(r['nights']) or 10} | {r['alerts']:,} | {r['bytes_per_alert']:,.0f} |")
    a, b = f"{small['alerts']:,}", f"{big['alerts']:,}"
    lines += ["", f"| query | in process, {a} | in process, {b} | growth | HTTP, {a} | HTTP, {b} | growth |",
              "|---|---|---|---|---|---|---|"]
    for name in small["query"]:
        q0, q1 = small["query"][name], big["query"].get(name, {})
        h0, h1 = small["http"].get(name, {}), big["http"].get(name, {})
        lines.append(f"| {name} | {_ms(q0)} | {_ms(q1)} | {_ratio(q0, q1)} | {_ms(h0)} | {_ms(h1)} | "
                     f"{_ratio(h0, h1)} |")
    nights = big.get("nights") or []
    if nights:
        lines += ["", f"The {big['alerts']:,}-alert store was built night by night (each night's files removed "
                  "after its ingest, for disk); each night's ingest, into the store as it grew:", "",
                  "| night | alerts | s | alerts/s | store after (GB) |", "|---|---|---|---|---|"]
        for row in nights:
            lines.append(f"| {row['night']} | {row['alerts']:,} | {row['seconds']:,.0f} | "
                         f"{row['alerts'] / row['seconds']:,.0f} | {row['store_bytes'] / 1e9:,.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000000,10000000")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--xmatch-repeats", type=int, default=3)
    p.add_argument("--stream", action="store_true", help="build a missing store night by night (see above)")
    p.add_argument("--max-nights", type=int, help="a store built night by night holds only its first nights")
    p.add_argument("--reuse", action="store_true", help="take a size's figures from its growth-<size>.json if there")
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    results = []
    for size in sizes:
        cached = OUT / f"growth-{size}.json"
        results.append(json.loads(cached.read_text()) if args.reuse and cached.exists() else measure(size, args))
    command = "python bench/bench_growth.py " + " ".join(argv if argv is not None else sys.argv[1:])
    publish("growth", report(results, command.strip()), not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
