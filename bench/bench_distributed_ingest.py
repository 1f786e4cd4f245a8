"""A night on a Dask cluster into HBase (``ingest/distributed.py``) with 1 and 2 local
workers, interleaved (1, 2, 1, 2 ...), against the single-machine ingest in one process.

    python -m bench.bench_distributed_ingest [--path NIGHT] [--repeats 2] [--no-write-doc]
    python -m bench.bench_distributed_ingest --survey rubin [--alerts 1000] [--unit-alerts 100]

Default night: the real ZTF night of ``$NOCTURNE_SHARED_DATA`` (561 packets, with cutouts); with
``--survey rubin``, the first night of ``python -m ingest simulate --survey rubin --nights 1
--alerts-per-night N --seed 3 --no-cutouts --no-avro`` (Parquet, a first night: every previous
and forced source is new), made in /tmp before the clock.
HBase: ``NOCTURNE_HBASE_HOST``/``PORT`` (default 127.0.0.1:9090); each run writes into tables of
its own prefix, made before the clock starts and dropped after. The cluster is started before
the clock too (a deployment's scheduler and workers are already up); its start is timed apart.
Reports alerts/s, CPU seconds per alert in the workers, in this process (client + scheduler)
and in the HBase server's Java processes (read from /proc: on a shared HBase this includes
whatever else writes to it at the time), and the load average.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine, publish, today  # noqa: E402


def java_cpu() -> float:
    """CPU seconds used so far by every Java process (the HBase server and its Thrift server)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if b"java" not in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return total


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def warm() -> None:
    import ingest.unit_task  # noqa: F401  (and with it prepare, rows, the store, numpy, astropy...)
    import science.stamps  # noqa: F401


def one_run(night: Path, base, workers: int | None, survey: str = "ztf") -> dict:
    """The night into fresh tables: on a LocalCluster of ``workers`` processes, or (None) by the
    single-machine ingest in one process."""
    from ingest.distributed import ingest_on_cluster
    from ingest.night import ingest
    from ingest.surveys import survey as survey_named
    from store import open_store

    schema = survey_named(survey).schema

    cfg = base.replace(table_prefix="b" + uuid.uuid4().hex[:8], data_dir=Path(f"/tmp/bench-dist-{uuid.uuid4().hex[:8]}"))
    print("prefix", cfg.table_prefix, flush=True)
    with open_store(cfg, create=True, schema=schema):
        pass  # tables made before the clock
    try:
        if workers is None:
            c0, j0, t0 = own_cpu(), java_cpu(), time.perf_counter()
            summary = ingest(night, cfg, workers=1, show_progress=False)
            wall, client, server, worker = time.perf_counter() - t0, own_cpu() - c0, java_cpu() - j0, 0.0
            start = 0.0
        else:
            from distributed import Client, LocalCluster
            s0 = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit="2GiB",
                              dashboard_address=None) as cluster, Client(cluster) as client_:
                start = time.perf_counter() - s0
                client_.run(warm)  # a long-lived worker has imported the ingest once; not timed
                w0 = sum(client_.run(own_cpu).values())
                c0, j0, t0 = own_cpu(), java_cpu(), time.perf_counter()
                summary = ingest_on_cluster(night, cfg, cluster.scheduler_address, show_progress=False)
                wall, client, server = time.perf_counter() - t0, own_cpu() - c0, java_cpu() - j0
                worker = sum(client_.run(own_cpu).values()) - w0
    finally:
        with open_store(cfg, schema=schema) as store:
            store.drop_tables()
    return {"workers": workers, "alerts": summary.alerts, "wall": wall, "client": client, "server": server,
            "worker": worker, "start": start, "load": os.getloadavg()[0]}


def render(runs: list[dict], night: Path, units: str, survey: str = "ztf") -> str:
    n = runs[0]["alerts"]
    what = "a ZTF night" if survey == "ztf" else "a simulated Rubin night (Parquet, no cutouts, a first night)"
    lines = [f"### Distributed ingest: {what} on a Dask LocalCluster into HBase ({today()}, `bench/bench_distributed_ingest.py`)",
             "", f"{machine()}; HBase standalone + Thrift on the same machine (shared with other sessions' tests); "
             f"night `{night.name}`, N = {n:,} alerts{' (with cutouts)' if survey == 'ztf' else ''}, {units}; "
             f"tables made before the clock; runs interleaved.",
             "", "| run | workers | s | alerts/s | worker CPU ms/alert | client+scheduler CPU ms/alert | "
             "HBase (Java) CPU ms/alert | cluster start s | load |", "|---|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(runs, 1):
        label = "one process (no cluster)" if r["workers"] is None else f"local:{r['workers']}"
        lines.append(f"| {i} | {label} | {r['wall']:.1f} | {r['alerts'] / r['wall']:.0f} | "
                     f"{1000 * r['worker'] / n:.1f} | {1000 * r['client'] / n:.1f} | {1000 * r['server'] / n:.1f} | "
                     f"{r['start']:.1f} | {r['load']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    from settings import Config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, default=Path(os.environ.get("NOCTURNE_SHARED_DATA", "/work/shared/data"))
                        / "ztf-night-2023-10-18")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--unit-files", type=int, default=40,
                        help="files a unit at most (default 40: the 561 one-alert files make 15 units, as a "
                             "big night makes many; the ingest's own limit is 256 files or 8 MB)")
    parser.add_argument("--survey", choices=["ztf", "rubin"], default="ztf")
    parser.add_argument("--alerts", type=int, default=1000, help="rubin: alerts of the simulated night (about)")
    parser.add_argument("--unit-alerts", type=int, default=100, help="rubin: Parquet rows a unit at most")
    parser.add_argument("--no-write-doc", action="store_true")
    args = parser.parse_args(argv)
    if args.survey == "rubin":
        args.path = simulated_rubin_night(args.alerts)
        import ingest.rubin.readers
        ingest.rubin.readers.UNIT_ALERTS = args.unit_alerts
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a stopped run still drops its tables
    import ingest.plan
    ingest.plan.UNIT_FILES = args.unit_files  # the plan is made in this process, for every run
    base = Config().replace(backend="hbase", hbase_host=os.environ.get("NOCTURNE_HBASE_HOST", "127.0.0.1"),
                            hbase_port=int(os.environ.get("NOCTURNE_HBASE_PORT", "9090")), hbase_timeout_ms=30000)
    runs = []
    for _ in range(args.repeats):
        for workers in (1, 2, None):
            runs.append(one_run(args.path, base, workers, args.survey))
            print(runs[-1], flush=True)
    if args.survey == "rubin":
        publish("distributed_ingest_rubin", render(runs, args.path, f"units of at most {args.unit_alerts} alerts",
                                                   "rubin"), write=not args.no_write_doc)
    else:
        publish("distributed_ingest", render(runs, args.path, f"units of at most {args.unit_files} files"),
                write=not args.no_write_doc)


def simulated_rubin_night(alerts: int) -> Path:
    """The first night of a simulated Rubin run of about ``alerts`` alerts, in its own folder."""
    from ingest.simulator.cli import main as simulate

    out = Path(f"/tmp/bench-dist-rubin-{alerts}")
    night = out / "night"
    if not night.is_dir():
        assert simulate([str(out), "--quiet", "--force", "--survey", "rubin", "--nights", "1", "--alerts-per-night",
                         str(alerts), "--seed", "3", "--no-cutouts", "--no-avro"]) == 0
        night.mkdir()
        for f in (out / "parquet").glob("*.parquet"):
            (night / f.name).symlink_to(f)
    return night


if __name__ == "__main__":
    main()
