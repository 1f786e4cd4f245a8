"""A ZTF night ingested end to end into HBase, first run and rerun, code trees interleaved.

    python -m bench.bench_hbase_ingest --input nocut=SIM1 --input cut=SIM2 \\
        --code before=/tmp/old-tree --code after=. [--rounds 2] [--workers 2] [--prefix hbing]

For each round, input and code tree (interleaved: A, B, A, B on the same input): the tables of
``--prefix`` are dropped and made again (outside the clock), ``python -m ingest night`` of that
tree runs on the input (first run), then again (rerun: every batch's merge read finds the
stored rows). Each run gives its wall time, the CPU of the ingest and its workers
(``RUSAGE_CHILDREN``), the CPU of the HBase JVMs over the run (psutil on the ``java``
processes: master/regionserver and Thrift), the load average, and then the statistics count
alone (``ingest.statistics.night_counts`` of that tree, timed, its values compared across
trees). The prefix's tables are dropped on exit. HBase: ``NOCTURNE_HBASE_HOST``/``PORT``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COUNT = """
import json, sys, time
from settings import load_config
from store import open_store
from ingest.statistics import night_counts
store = open_store(load_config(None))
t0, c0 = time.perf_counter(), time.process_time()
cells = night_counts(store, sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "cells": cells}))
"""


def java_cpu() -> dict:
    """CPU seconds so far of each HBase JVM (``thrift`` and ``master``, by their -Dproc_ flag)."""
    out = {}
    for p in psutil.process_iter(["name", "cmdline"]):
        if p.info["name"] != "java":
            continue
        role = "thrift" if "-Dproc_thrift" in (p.info["cmdline"] or []) else "hbase"
        t = p.cpu_times()
        out[role] = out.get(role, 0.0) + t.user + t.system
    return out


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def env_for(prefix: str, data: Path) -> dict:
    return dict(os.environ, NOCTURNE_BACKEND="hbase", NOCTURNE_TABLE_PREFIX=prefix, NOCTURNE_DATA_DIR=str(data),
                NOCTURNE_HBASE_TIMEOUT_MS="120000")


def fresh_tables(prefix: str) -> None:
    from settings import load_config
    from store import open_store

    cfg = load_config(None).replace(backend="hbase", table_prefix=prefix, hbase_timeout_ms=120000)
    with open_store(cfg, create=True) as store:
        store.drop_tables()
    with open_store(cfg, create=True):
        pass


def drop_tables(prefix: str) -> None:
    from settings import load_config
    from store import open_store

    cfg = load_config(None).replace(backend="hbase", table_prefix=prefix, hbase_timeout_ms=120000)
    with open_store(cfg) as store:
        store.drop_tables()


def one_run(tree: Path, path: Path, prefix: str, data: Path, workers: int, night: str) -> dict:
    env = env_for(prefix, data)
    load = os.getloadavg()[0]
    j0, c0, t0 = java_cpu(), children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ingest", "night", str(path), "--no-progress", "--workers",
                           str(workers)], cwd=tree, env=env, capture_output=True, text=True)
    wall, cpu, j1 = time.perf_counter() - t0, children_cpu() - c0, java_cpu()
    if done.returncode != 0:
        raise SystemExit(f"ingest failed in {tree}: {done.stderr[-2000:]}")
    alerts = int(re.search(r"([\d,]+) distinct alerts", done.stdout).group(1).replace(",", ""))
    count = subprocess.run([sys.executable, "-c", COUNT, night], cwd=tree, env=env, capture_output=True, text=True,
                           check=True)
    stats = json.loads(count.stdout.strip().splitlines()[-1])
    return {"alerts": alerts, "seconds": wall, "alerts_per_s": alerts / wall, "client_cpu": cpu,
            "jvm_cpu": {k: j1.get(k, 0) - j0.get(k, 0) for k in j1}, "load": load,
            "count_s": stats["seconds"], "count_cpu": stats["cpu"], "cells": stats["cells"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", action="append", required=True, help="LABEL=PATH of a simulated night")
    p.add_argument("--code", action="append", required=True, help="LABEL=DIR of a source tree")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--prefix", default="hbing")
    p.add_argument("--night", default="20250101")
    p.add_argument("--json", type=Path, help="append every run as a JSON line here")
    a = p.parse_args(argv)
    inputs = [x.split("=", 1) for x in a.input]
    trees = [(label, Path(d).resolve()) for label, d in (x.split("=", 1) for x in a.code)]
    results = []
    try:
        for rnd in range(a.rounds):
            for in_label, path in inputs:
                for label, tree in (trees if rnd % 2 == 0 else trees[::-1]):
                    fresh_tables(a.prefix)
                    with tempfile.TemporaryDirectory(prefix="hbing-") as data:
                        for run in ("first", "rerun"):
                            r = one_run(tree, Path(path), a.prefix, Path(data), a.workers, a.night)
                            r.update(round=rnd, input=in_label, code=label, run=run)
                            results.append(r)
                            jvm = " + ".join(f"{k} {v:.1f}" for k, v in sorted(r["jvm_cpu"].items()))
                            print(f"round {rnd} {in_label:>6} {label:>7} {run:>5}: {r['seconds']:6.1f} s "
                                  f"{r['alerts_per_s']:6.0f} alerts/s, client CPU {r['client_cpu']:5.1f} s, "
                                  f"JVM CPU {jvm} s, count {r['count_s']:.2f} s ({r['count_cpu']:.2f} CPU), "
                                  f"upper {r['cells']['basic:upper']} bad {r['cells']['basic:badquality']}, "
                                  f"load {r['load']:.1f}", flush=True)
                            if a.json:
                                with a.json.open("a") as f:
                                    f.write(json.dumps(r) + "\n")
    finally:
        drop_tables(a.prefix)
    by = {}
    for r in results:
        by.setdefault((r["input"], r["run"]), {}).setdefault(r["code"], []).append(r)
    for (inp, run), codes in by.items():
        cells = {c: [json.dumps(x["cells"], sort_keys=True) for x in rs] for c, rs in codes.items()}
        same = len({v for vs in cells.values() for v in vs}) == 1
        print(f"{inp} {run}: statistics counts equal across trees and rounds: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
