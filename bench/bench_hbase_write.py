"""The HBase write path, taken apart: what one night's mutations cost per Thrift call size and
per number of tables written at once.

    python -m bench.bench_hbase_write capture OUT.pickle [--survey rubin|ztf] [--path DIR]
    python -m bench.bench_hbase_write replay OUT.pickle [--sizes 100,1000,5000] [--threads 1,4] [--through-store]

``capture`` runs the real ingest of a night (default: the real Rubin alerts of
``$NOCTURNE_SHARED_DATA``) with ``HBaseTable.apply`` recording the encoded mutations instead of
sending them, so what is replayed is exactly what the ingest sends (rows, cells, bytes).
``replay`` sends them to the HBase of ``NOCTURNE_HBASE_HOST``/``PORT`` under the prefix
``NOCTURNE_TABLE_PREFIX`` (tables made if missing, rewritten in place: the writes are
idempotent), one Thrift ``mutateRows`` per ``size`` rows, the tables' batches sent by
``threads`` threads at once (each its own connection), and prints rows/s and cells/s. The
layout is the one of ``NOCTURNE_HBASE_LAYOUT`` at capture (the tables of a packed store get one
cell a family); replay into a store made with the same layout. ``--through-store`` sends each
call through ``HBaseTable.apply`` instead of raw Thrift: with a packed table that includes the
read of the stored rows each put is merged into (``store.hbase_layout``).
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import happybase

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def capture(out: Path, survey: str, path: Path | None) -> None:
    import tempfile

    from ingest.night import ingest
    from settings import load_config
    from store import hbase

    sent: list = []
    original = hbase.HBaseTable.apply

    def record(self, ops):
        if self.spec.logical == "meta":  # the schema stamp, checked on opening
            return original(self, ops)
        sent.append((self.spec.logical, [(op, key, payload) for op, key, payload in ops]))

    hbase.HBaseTable.apply = record
    if path is None:
        path = Path(os.environ.get("NOCTURNE_SHARED_DATA", "/work/shared/data")) / "rubin-fink-2026-03-10"
    with tempfile.TemporaryDirectory() as data:
        os.environ["NOCTURNE_DATA_DIR"] = data
        cfg = load_config(None).replace(backend="hbase")
        summary = ingest(path, cfg, survey=survey, show_progress=False)
    out.write_bytes(pickle.dumps({"survey": survey, "alerts": summary.alerts, "calls": sent}))
    rows = sum(len(ops) for _, ops in sent)
    print(f"captured {summary.alerts} alerts, {rows} mutations in {len(sent)} batches -> {out}")


def _send(host, port, name: bytes, ops) -> None:
    conn = happybase.Connection(host, port, timeout=120000)
    try:
        with conn.table(name).batch() as b:
            for op, key, arg in ops:
                if op == "put":
                    b.put(key, arg)
                else:
                    b.delete(key, columns=arg)
    finally:
        conn.close()


def replay(capture_file: Path, sizes: list[int], threads: list[int], through_store: bool = False) -> list[dict]:
    from settings import load_config
    from store import open_store

    data = pickle.loads(capture_file.read_bytes())
    cfg = load_config(None)
    schema = None
    if data["survey"] == "rubin":
        from hbase_schema import get_schema
        schema = get_schema("rubin")
    store = open_store(cfg, create=True, schema=schema)
    per_table: dict[str, list] = {}
    for logical, ops in data["calls"]:
        per_table.setdefault(logical, []).extend(ops)
    names = {t: store.table(t).bname for t in per_table}
    tables = {store.table(t).bname: store.table(t) for t in per_table}
    rows = sum(len(v) for v in per_table.values())
    cells = sum(len(p) for v in per_table.values() for op, _, p in v if op == "put")
    results = []
    for size in sizes:
        for n in threads:
            calls = [(names[t], ops[i:i + size]) for t, ops in per_table.items() for i in range(0, len(ops), size)]
            pool = [happybase.Connection(cfg.hbase_host, cfg.hbase_port, timeout=120000) for _ in range(n)]

            def send(job, pool=pool):
                if through_store:
                    return tables[job[0]].apply(job[1])
                conn = pool.pop()
                try:
                    with conn.table(job[0]).batch() as b:
                        for op, key, arg in job[1]:
                            b.put(key, arg) if op == "put" else b.delete(key, columns=arg)
                finally:
                    pool.append(conn)

            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            cpu0 = time.process_time()
            with ThreadPoolExecutor(n) as ex:
                list(ex.map(send, calls))
            dt = time.perf_counter() - t0
            r = {"size": size, "threads": n, "through_store": through_store,
                 "seconds": dt, "rows_per_s": rows / dt, "cells_per_s": cells / dt,
                 "alerts_per_s": data["alerts"] / dt, "client_cpu_s": time.process_time() - cpu0, "load": load,
                 "calls": len(calls)}
            results.append(r)
            print(f"size {size:>5} threads {n}: {dt:6.1f} s, {r['rows_per_s']:8.0f} rows/s, {r['cells_per_s']:9.0f} "
                  f"cells/s, {r['alerts_per_s']:7.1f} alerts/s, client CPU {r['client_cpu_s']:.1f} s, load {load:.1f}",
                  flush=True)
            for c in pool:
                c.close()
    print(f"{data['alerts']} alerts, {rows} rows, {cells} cells, tables: "
          + ", ".join(f"{t} {len(v)}" for t, v in per_table.items()))
    store.close()
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("out", type=Path)
    c.add_argument("--survey", default="rubin", choices=["rubin", "ztf"])
    c.add_argument("--path", type=Path)
    r = sub.add_parser("replay")
    r.add_argument("capture", type=Path)
    r.add_argument("--sizes", default="100,1000,5000")
    r.add_argument("--threads", default="1")
    r.add_argument("--through-store", action="store_true", help="send through HBaseTable.apply (packed: merge reads)")
    a = p.parse_args(argv)
    if a.cmd == "capture":
        capture(a.out, a.survey, a.path)
    else:
        replay(a.capture, [int(s) for s in a.sizes.split(",")], [int(s) for s in a.threads.split(",")],
               a.through_store)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
