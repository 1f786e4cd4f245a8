"""The API's reads on HBase against the embedded store holding the same alerts, in process.

    python bench/bench_hbase_read.py --embedded DATA_DIR --hbase-prefix PREFIX [--thrift2-port 9091]
                                     [--repeats 15] [--json OUT]

Both stores must hold the same night (ingest it twice: ``NOCTURNE_BACKEND=embedded`` and
``NOCTURNE_BACKEND=hbase NOCTURNE_TABLE_PREFIX=PREFIX``). The queries are those of
``bench/bench_api.py`` (objects, cones of 5″, 1′ and 1°, latests, time window, a cross-match of
1,000 sources over the alerts' sky), sent through Flask's test client (no HTTP, no gunicorn):
what is timed is the query and its store. Prints p50 / p95 ms per query and backend, and the
ratio HBase ÷ embedded, and the median CPU time of the process a query (client side:
Flask, the store, its reader threads). ``--thrift2-port`` gives the store HBase's Thrift 2
server (many ranges read with multi-range scanners, ``store/hbase_multirange.py``); without
it they go through Thrift 1 (``store/hbase_pipeline.py``); ``--check`` first asserts that both stores give the same answers. Run
from another checkout's folder to time that checkout's code
(the script imports the code of the current directory).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())


def queries(data_dir: Path) -> dict:
    from settings import Config
    from store import open_store

    with open_store(Config().replace(backend="embedded", data_dir=data_dir)) as s:
        main = s.table("main")
        counts: dict = {}
        for key, _ in main.scan(columns=["i:jd"]):
            oid = main.keys.parse(key)["objectId"]
            counts[oid] = counts.get(oid, 0) + 1
        busiest = max(counts, key=counts.get)
        first = next(main.scan(row_prefix=main.keys.prefix(busiest), columns=["i:ra", "i:dec", "i:jd"], limit=1))[1]
    ra, dec = first["i:ra"], first["i:dec"]
    catalog = "ra,dec,id\n" + "\n".join(f"{ra + (i % 40) * 0.05 - 1},{dec + (i // 40) * 0.05 - 0.6},s{i}"
                                        for i in range(1000))
    return {
        f"objects ({counts[busiest]} alerts)": ("GET", "/api/v1/objects", {"objectId": busiest}),
        "cone 5″": ("GET", "/api/v1/conesearch", {"ra": ra, "dec": dec, "radius": 5}),
        "cone 1′": ("GET", "/api/v1/conesearch", {"ra": ra, "dec": dec, "radius": 60}),
        "cone 1°": ("GET", "/api/v1/conesearch", {"ra": ra, "dec": dec, "radius": 3600, "n": 1000}),
        "latests n=1000": ("GET", "/api/v1/latests", {"class": "SN candidate", "n": 1000}),
        "time window 10 min": ("GET", "/api/v1/explorer", {"startdate": first["i:jd"] - 5 / 1440, "window": 10}),
        "xmatch 1,000 sources": ("POST", "/api/v1/xmatch", {"catalog": catalog, "header": "ra,dec,id",
                                                             "radius": 1.5, "columns": "i:objectId"}),
    }


def time_all(config, qs: dict, repeats: int) -> dict:
    from index import create_app

    client = create_app(config).test_client()
    out = {}
    for name, (method, path, params) in qs.items():
        n = max(3, repeats // 5) if name.startswith("xmatch") else repeats
        times, cpu, rows = [], [], None
        for i in range(n + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get(path, query_string=params) if method == "GET" else client.post(path, json=params)
            dt, dc = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            if r.status_code != 200:
                raise SystemExit(f"{name}: HTTP {r.status_code} {r.get_data(as_text=True)[:300]}")
            rows = len(r.get_json())
            if i:  # the first is a warm-up
                times.append(dt)
                cpu.append(dc)
        times.sort()
        out[name] = {"p50": statistics.median(times), "p95": times[min(len(times) - 1, int(0.95 * len(times)))],
                     "cpu": statistics.median(cpu), "rows": rows}
    return out


def check_same(embedded, hbase, qs: dict) -> None:
    """Raise SystemExit unless each query gets the same JSON from both stores."""
    from index import create_app

    clients = [create_app(c).test_client() for c in (embedded, hbase)]
    for name, (method, path, params) in qs.items():
        answers = [(c.get(path, query_string=params) if method == "GET" else c.post(path, json=params)).get_json()
                   for c in clients]
        if answers[0] != answers[1]:
            raise SystemExit(f"{name}: HBase answers differently from the embedded store")
    print(f"checked: the {len(qs)} queries get the same answers from both stores")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embedded", type=Path, required=True, help="data dir of the embedded store")
    p.add_argument("--hbase-prefix", required=True)
    p.add_argument("--thrift2-port", type=int, default=0, help="HBase's Thrift 2 server (0: Thrift 1 only)")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--skip-embedded", action="store_true")
    p.add_argument("--json", type=Path)
    p.add_argument("--check", action="store_true", help="first check that both stores answer the same")
    a = p.parse_args(argv)
    from settings import Config

    qs = queries(a.embedded)
    embedded = Config().replace(backend="embedded", data_dir=a.embedded)
    hbase = Config().replace(backend="hbase", table_prefix=a.hbase_prefix, hbase_timeout_ms=60000,
                             hbase_thrift2_port=a.thrift2_port,
                             data_dir=a.embedded.parent / "hbase-read-data")
    if a.check:
        check_same(embedded, hbase, qs)
    result = {"load": os.getloadavg()[0], "thrift2_port": a.thrift2_port}
    if not a.skip_embedded:
        result["embedded"] = time_all(embedded, qs, a.repeats)
    result["hbase"] = time_all(hbase, qs, a.repeats)
    result["load_after"] = os.getloadavg()[0]
    for name in qs:
        e, h = result.get("embedded", {}).get(name), result["hbase"][name]
        ratio = f"{h['p50'] / e['p50']:.1f}×" if e else ""
        print(f"{name:28} rows {h['rows']:>5}  embedded {e['p50'] if e else float('nan'):8.1f} ms  "
              f"hbase {h['p50']:8.1f} / {h['p95']:8.1f} ms (CPU {h['cpu']:.1f} ms)  {ratio}")
    print(f"load {result['load']:.1f} -> {result['load_after']:.1f}")
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
