"""The object-level sky index (``objects_sky``) against the alert index, on big cones.

On the store of ``bench_api.build_store`` (``--alerts``, default 1 M; it must hold the table
filled: a store built before it is filled with ``python -m ingest reindex-sky``): for each
radius, the cone of ``bench_api.pick_queries`` (centred on a stored object) read both ways
in-process (answers checked equal; the two timed in turn), rows read and p50 / p95 ms; then the 1° cone over HTTP
(gunicorn, 2 workers), the index marked complete and then not (the server reads the alert
index). Writes the ``sky-index`` section of docs/benchmarks.md.

    python bench/bench_sky_index.py [--alerts 1000000] [--repeats 15] [--no-write]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_api import pick_queries  # noqa: E402
from bench.http_timing import quantiles, serve, stop, time_request  # noqa: E402
from bench.report import machine, publish, today  # noqa: E402

RADII = (5, 60, 300, 900, 1800, 3600)
SKY = "objects_sky"


class Counting:
    """Rows returned by every ``Table.read`` while active."""

    def __enter__(self):
        from store.base import Table
        self.rows, self.saved, counter = 0, Table.read, self

        def read(table, *a, **kw):
            batch = counter.saved(table, *a, **kw)
            counter.rows += len(batch)
            return batch
        Table.read = read
        return self

    def __exit__(self, *exc):
        from store.base import Table
        Table.read = self.saved


def query_layer(data_dir: Path, centre: dict, repeats: int) -> list[dict]:
    import api.queries.cone as cone
    from settings import Config
    from store import open_store
    from store.filled import is_filled

    out = []
    with open_store(Config().replace(data_dir=data_dir, backend="embedded")) as s:
        if not is_filled(s, SKY):
            raise SystemExit(f"{SKY} is not filled in {data_dir}: run `python -m ingest reindex-sky` on it first")
        saved, threshold = cone.latest_in_cone, cone.OBJECT_INDEX_ARCSEC
        cone.OBJECT_INDEX_ARCSEC = 0.0  # every radius both ways (in service: from OBJECT_INDEX_ARCSEC)
        finders = {"alerts": lambda *a, **k: None, "objects": saved}
        for r in RADII:
            row, answers, times = {"radius": r}, {}, {name: [] for name in finders}

            def run(name, timed):
                cone.latest_in_cone = finders[name]
                try:
                    t0 = time.perf_counter()
                    answer = cone.conesearch(s, centre["ra"], centre["dec"], r, n=1000)
                    if timed:
                        times[name].append(time.perf_counter() - t0)
                    return answer
                finally:
                    cone.latest_in_cone = saved
            for name in finders:
                with Counting() as c:
                    answers[name] = run(name, False)
                row[name] = {"rows_read": c.rows}
            for _ in range(repeats):  # interleaved, so that the machine's load falls on both alike
                for name in finders:
                    run(name, True)
            for name in finders:
                row[name].update(zip(("p50", "p95"), quantiles(times[name])))
            if not answers["alerts"].equals(answers["objects"]):
                raise SystemExit(f"the {r}″ cone's answers differ between the two indexes")
            row["answer"] = len(answers["objects"])
            out.append(row)
            print(row, flush=True)
        cone.OBJECT_INDEX_ARCSEC = threshold
    return out


def http(data_dir: Path, centre: dict, repeats: int) -> dict:
    from settings import Config
    from store import open_store
    from store.filled import mark_filled

    out = {}
    params = {**centre, "radius": 3600, "n": 1000}
    for name in ("objects", "alerts"):
        if name == "alerts":
            with open_store(Config().replace(data_dir=data_dir, backend="embedded")) as s:
                s.table("meta").delete(s.table("meta").keys.build(f"filled:{SKY}"))
        try:
            proc, port = serve("index:server", {"NOCTURNE_DATA_DIR": str(data_dir), "NOCTURNE_BACKEND": "embedded"},
                               workers=2, timeout_s=120)
            try:
                out[name] = time_request(port, "GET", "/api/v1/conesearch", params, repeats, warm=3)
            finally:
                stop(proc)
        finally:
            if name == "alerts":
                with open_store(Config().replace(data_dir=data_dir, backend="embedded")) as s:
                    mark_filled(s, SKY)
        print(name, out[name], flush=True)
    return out


def render(n_alerts: int, n_rows: dict, layer: list[dict], web: dict, repeats: int) -> str:
    lines = [f"## Object-level sky index: big cones (`bench/bench_sky_index.py`)", "",
             f"Run {today()} on {machine()}. Store of `bench_api.build_store`: {n_alerts:,} alert index rows, "
             f"{n_rows[SKY]:,} `{SKY}` rows (filled by `python -m ingest reindex-sky`). Cones centred on a stored "
             f"object (`bench_api.pick_queries`), n = 1000, no date window; p50 / p95 ms over {repeats} warm "
             f"repeats; the two answers are checked equal. Shared 2-core machine: compare the columns of one "
             f"run, not runs.", "",
             "### Query layer, in-process", "",
             "| radius | objects answered | rows read: alert index → objects_sky | alert index p50 / p95 ms "
             "| objects_sky p50 / p95 ms | speed-up |", "|---|---|---|---|---|---|"]
    for row in layer:
        a, o = row["alerts"], row["objects"]
        lines.append(f"| {row['radius']:,}″ | {row['answer']:,} | {a['rows_read']:,} → {o['rows_read']:,} | "
                     f"{a['p50']:.1f} / {a['p95']:.1f} | {o['p50']:.1f} / {o['p95']:.1f} | "
                     f"{a['p50'] / o['p50']:.2f}× |")
    if web:
        a, o = web["alerts"], web["objects"]
        lines += ["", "### 1° cone over HTTP (gunicorn, 2 workers, keep-alive client)", "",
                  "| read from | rows answered | p50 / p95 ms |", "|---|---|---|",
                  f"| alert index (store not marked) | {a['rows']:,} | {a['p50']:.1f} / {a['p95']:.1f} |",
                  f"| objects_sky | {o['rows']:,} | {o['p50']:.1f} / {o['p95']:.1f} |"]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alerts", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--no-http", action="store_true")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    data_dir = ROOT / "bench" / "out" / f"api-store-{args.alerts}" / "store"
    if not data_dir.exists():
        raise SystemExit(f"no store at {data_dir}: build it with bench/bench_api.py --sizes {args.alerts}")
    from settings import Config
    from store import open_store
    with open_store(Config().replace(data_dir=data_dir, backend="embedded")) as s:
        n_rows = {t: len(s.table(t).read(ranges=[(None, None)], columns=[])) for t in ("pixel", SKY)}
    centre = {k: v for k, v in pick_queries(data_dir)["cone 1°"][2].items() if k in ("ra", "dec")}
    layer = query_layer(data_dir, centre, args.repeats)
    web = {} if args.no_http else http(data_dir, centre, args.repeats)
    publish("sky-index", render(n_rows["pixel"], n_rows, layer, web, args.repeats), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
