"""Storage benchmark: alert-like rows into the main table, then prefix scans.

    python bench/bench_storage.py [--rows 1000000] [--backend embedded|hbase] [--no-write-doc]

Writes N rows of the main table's ``i`` family (106 typed columns: float32 magnitudes,
float64 coordinates and jd, ints, short strings) as objects of 20 alerts each, then
measures: rows/s written (generation excluded), bytes on disk per row against the raw
size of the values (embedded only), and p50/p95 of a 20-row prefix scan (one object)
returning all columns and 3 columns. Figures go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import machine, publish, today  # noqa: E402
from settings import Config  # noqa: E402
from store import open_store  # noqa: E402

ALERTS_PER_OBJECT = 20
RAW_SIZE = {"float32": 4, "float64": 8, "int32": 4, "int64": 8, "bool": 1}


def object_id(i: int) -> str:
    letters = np.base_repr(i, 26).lower().rjust(7, "0")
    return "ZTF25" + "".join(chr(ord("a") + int(c, 26)) for c in letters)


def chunk_rows(columns, start: int, n: int, rng) -> list[tuple[str, dict]]:
    """``n`` rows (whole objects) beginning at row ``start``: (key, cells)."""
    values = {}
    for col in columns:
        if col.type == "float32":
            values[col.name] = rng.normal(19, 1.5, n).astype(np.float32).tolist()
        elif col.type == "float64":
            values[col.name] = rng.uniform(0, 360, n).tolist()
        elif col.type in ("int32", "int64"):
            values[col.name] = rng.integers(0, 2**30 if col.type == "int32" else 2**60, n).tolist()
        elif col.type == "string":
            values[col.name] = [f"v{x}" for x in rng.integers(0, 10**6, n)]
    rows_idx = np.arange(start, start + n)
    obj = rows_idx // ALERTS_PER_OBJECT
    jd = 2460000.5 + (rows_idx % ALERTS_PER_OBJECT) * 1.37 + (obj % 997) * 1e-4
    values["i:jd"] = jd.tolist()
    values["i:objectId"] = [object_id(o) for o in obj]
    names = list(values)
    rows = []
    for i, cells in enumerate(zip(*(values[c] for c in names))):
        d = dict(zip(names, cells))
        rows.append((f"{d['i:objectId']}_{jd[i]:015.7f}", d))
    return rows


def raw_size(columns, cells: dict) -> int:
    types = {c.name: c.type for c in columns}
    return sum(RAW_SIZE.get(types[k], 0) or len(str(v).encode()) for k, v in cells.items())


def run(n_rows: int, backend: str, workdir: Path, hbase_host: str, hbase_port: int) -> dict:
    cfg = Config().replace(backend=backend, data_dir=workdir / "store", hbase_host=hbase_host,
                           hbase_port=hbase_port, table_prefix=f"bench{int(time.time())}", hbase_timeout_ms=30000)
    store = open_store(cfg, create=True)
    table = store.table("main")
    columns = [c for c in table.spec.families["i"].columns.values()]
    rng = np.random.default_rng(42)
    chunk = 20_000
    written, write_time, raw_total = 0, 0.0, 0
    try:
        while written < n_rows:
            rows = chunk_rows(columns, written, min(chunk, n_rows - written), rng)
            raw_total += sum(raw_size(columns, c) for _, c in rows[:200]) * len(rows) / min(200, len(rows))
            t0 = time.perf_counter()
            with table.batch(batch_size=2000) as b:
                for key, cells in rows:
                    b.put(key, cells)
            write_time += time.perf_counter() - t0
            written += len(rows)
            print(f"\r  wrote {written:,}/{n_rows:,} rows ({written / write_time:,.0f} rows/s)", end="", file=sys.stderr)
        print(file=sys.stderr)
        result = {"rows": n_rows, "rows_per_s": n_rows / write_time, "raw_per_row": raw_total / n_rows}
        if backend == "embedded":
            store.checkpoint()
            result["disk_per_row"] = store.size_bytes() / n_rows
        n_objects = n_rows // ALERTS_PER_OBJECT
        probe = np.random.default_rng(7).integers(0, n_objects, 2000)
        for label, cols in (("all", None), ("3 columns", ["i:jd", "i:magpsf", "i:fid"])):
            times = []
            for o in probe:
                t0 = time.perf_counter()
                got = list(table.scan(row_prefix=object_id(int(o)) + "_", columns=cols))
                times.append(time.perf_counter() - t0)
                assert len(got) == ALERTS_PER_OBJECT, (object_id(int(o)), len(got))
            q = statistics.quantiles(times, n=100)
            result[f"scan_{label}"] = (q[49] * 1000, q[94] * 1000)
    finally:
        if backend == "hbase":
            store.drop_tables()
        store.close()
    return result


def markdown(results: list[dict]) -> str:
    lines = ["## Storage: main table writes and prefix scans (`bench/bench_storage.py`)", "",
             f"Run {today()} on {machine()}. Rows: 106 typed `i:` columns (float32 magnitudes, float64 "
             f"coordinates and jd, ints, short strings), objects of {ALERTS_PER_OBJECT} alerts; "
             f"scans: 2,000 random objects, prefix `objectId_`.", "",
             "| backend | N rows | rows/s written | raw bytes/row | disk bytes/row | ratio | "
             "20-row scan, all columns p50 / p95 (ms) | 20-row scan, 3 columns p50 / p95 (ms) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        disk = r.get("disk_per_row")
        lines.append(
            f"| {r['backend']} | {r['rows']:,} | {r['rows_per_s']:,.0f} | {r['raw_per_row']:.0f} | "
            f"{disk:.0f} | {disk / r['raw_per_row']:.2f}× | " if disk else
            f"| {r['backend']} | {r['rows']:,} | {r['rows_per_s']:,.0f} | {r['raw_per_row']:.0f} | n/a | n/a | ")
        lines[-1] += (f"{r['scan_all'][0]:.3f} / {r['scan_all'][1]:.3f} | "
                      f"{r['scan_3 columns'][0]:.3f} / {r['scan_3 columns'][1]:.3f} |")
    lines += ["", "Targets (embedded, 2-core machine): ≥ 30,000 rows/s; ≤ 1.5× raw size on disk; "
              "all-column 20-row prefix scan p50 ≤ 1 ms."]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--backend", action="append", choices=["embedded", "hbase"],
                   help="repeat for both (default: embedded)")
    p.add_argument("--hbase-host", default="127.0.0.1")
    p.add_argument("--hbase-port", type=int, default=9090)
    p.add_argument("--no-write-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = p.parse_args(argv)
    results = []
    for backend in args.backend or ["embedded"]:
        workdir = Path(tempfile.mkdtemp(prefix="nocturne-bench-"))
        try:
            print(f"{backend}: {args.rows:,} rows", file=sys.stderr)
            r = run(args.rows, backend, workdir, args.hbase_host, args.hbase_port)
            r["backend"] = backend
            results.append(r)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    text = markdown(results)
    publish("storage", text, write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
