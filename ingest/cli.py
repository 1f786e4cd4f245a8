"""Command line of the ingest: ``python -m ingest night|simulate ...``.

night PATH     ingest a folder of Avro packets, an Avro container, a .tar.gz of a night or
               Fink Parquet; ZTF or Rubin/LSST, told from the data (or --survey). Rubin alerts
               may also be Confluent wire-format messages (.avro files starting with byte 0),
               whose writer schema --schema gives. Exit code: 0 all stored; 3 done, some packets quarantined
               (see the summary and <data_dir>/quarantine/<night>/quarantine.jsonl);
               75 another ingest holds the lock; 1 the night could not be ingested
               (nothing half-done: run the same command again).
               --cluster tcp://SCHEDULER:8786 spreads the night over a Dask cluster (workers
               on other machines write their units to HBase; this process files the quarantine
               and writes the statistics row, last); --cluster local:N starts N worker processes
               here. HBase store only (ZTF or Rubin nights); exit code 2 when refused.
simulate OUT   write simulated nights (see ``python -m ingest simulate --help``).
reindex-sky    fill the object-level sky index (objects_sky) from the stored alerts, for a
               store made before that table (``ingest/reindex.py``); until then cone searches
               read the alert index. Exit code 0 done; 75 an ingest holds the lock; 1 failed
               (run it again: it resumes, and a second run writes nothing).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from settings import ConfigError, load_config

EXIT_QUARANTINED = 3
EXIT_LOCKED = 75


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "simulate":
        from ingest.simulator.cli import main as simulate
        return simulate(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("simulate", help="write simulated nights of alerts", add_help=False)
    night = sub.add_parser("night", help="ingest one night of alerts")
    night.add_argument("path", type=Path, help="folder, .avro, .tar.gz or .parquet")
    night.add_argument("--night", help="YYYYMMDD to file every alert under (default: each alert's UTC date)")
    night.add_argument("--config", help="configuration file (default: NOCTURNE_CONFIG or config.yml)")
    night.add_argument("--dry-run", action="store_true", help="read and validate only; write nothing")
    night.add_argument("--quarantine", type=Path, help="quarantine folder (default: <data_dir>/quarantine)")
    night.add_argument("--log-file", type=Path, help="log file (default: <data_dir>/logs/ingest.log)")
    night.add_argument("--batch-size", type=int, help="rows per write batch (default 5000; at most 500 for "
                                                      "ZTF's main table and 200 for Rubin's cutouts, whose rows hold images)")
    night.add_argument("--workers", type=int, help="processes that decode and encode (default: CPU count, max 4)")
    night.add_argument("--cluster", metavar="ADDRESS",
                       help="run the night on a Dask cluster: the scheduler's address (tcp://HOST:8786, "
                            "workers started with `dask worker`), or local:N for N worker processes here; "
                            "needs the hbase backend and the night's files at the same path on every worker")
    night.add_argument("--no-progress", action="store_true", help="plain log lines even on a terminal")
    night.add_argument("--survey", choices=["ztf", "rubin"], help="the alerts' survey (default: told from the data)")
    night.add_argument("--schema", type=Path, help="Rubin: writer schema of Confluent wire-format messages, "
                                                  "an .avsc file or a folder of them (picked by schema id)")
    night.add_argument("--rewrite-history", action="store_true",
                       help="Rubin: write every previous and forced source again, also those already stored "
                            "(by default a history row whose key is stored is skipped; use this when Rubin "
                            "re-delivers history rows with changed values)")
    reindex = sub.add_parser("reindex-sky", help="fill the object-level sky index from the stored alerts")
    reindex.add_argument("--config", help="configuration file (default: NOCTURNE_CONFIG or config.yml)")
    reindex.add_argument("--page", type=int, default=50_000, help="alert index rows read at a time (default 50,000)")
    args = parser.parse_args(argv)
    if args.command == "reindex-sky":
        return run_reindex(args)
    return run_night(args)


def run_reindex(args) -> int:
    from ingest.lock import IngestLocked
    from ingest.reindex import reindex_sky
    from store import StoreError

    try:
        config = load_config(args.config)
        page = max(1, args.page)
        done = reindex_sky(config, page=page, batch_size=min(2000, page),
                           progress=lambda d: print(f"  {d.alerts:,} alerts read, {d.written:,} rows written",
                                                    file=sys.stderr))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except IngestLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (StoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing is lost: run the same command again (it resumes)", file=sys.stderr)
        return 1
    print(f"objects_sky filled: {done.alerts:,} alerts read, {done.written:,} object rows written; "
          f"cone searches now read it")
    return 0


def run_night(args) -> int:
    from ingest.distributed import UnitLost
    from ingest.lock import IngestLocked
    from ingest.night import ingest
    from store import StoreError

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.night is not None and not (len(args.night) == 8 and args.night.isdigit()):
        print(f"error: --night {args.night!r} must be YYYYMMDD", file=sys.stderr)
        return 2
    if getattr(args, "cluster", None):
        refused = _refuse_cluster(args, config)
        if refused:
            print(f"error: {refused}", file=sys.stderr)
            return 2
    _setup_logging(args.log_file or (None if args.dry_run else Path(config.data_dir) / "logs" / "ingest.log"))
    log = logging.getLogger("nocturne.ingest")
    log.info("ingest %s into the %s store (%s)%s", args.path, config.backend,
             config.data_dir if config.backend == "embedded" else f"{config.hbase_host}:{config.hbase_port}",
             " [dry run]" if args.dry_run else "")
    try:
        if getattr(args, "cluster", None):
            summary = _ingest_on_cluster(args, config)
            if summary is None:
                return 2
        else:
            summary = ingest(args.path, config, night=args.night, dry_run=args.dry_run,
                             quarantine_dir=args.quarantine, batch_size=args.batch_size, workers=args.workers,
                             show_progress=False if args.no_progress else None,
                             survey=getattr(args, "survey", None), schema_path=getattr(args, "schema", None),
                             rewrite_history=getattr(args, "rewrite_history", False))
    except IngestLocked as exc:
        log.error("%s", exc)
        return EXIT_LOCKED
    except (FileNotFoundError, StoreError, UnitLost) as exc:
        log.error("%s", exc)
        log.error("nothing is half-done: fix the cause and run the same command again")
        return 1
    except OSError as exc:  # e.g. no space left for the quarantine or the log
        log.error("%s: %s", exc.strerror or type(exc).__name__, exc.filename or exc)
        log.error("nothing is half-done: fix the cause and run the same command again")
        return 1
    print(render_summary(summary, config))
    return EXIT_QUARANTINED if summary.quarantined or summary.cutouts_dropped else 0


def _refuse_cluster(args, config) -> str | None:
    """Why ``--cluster`` cannot run with these arguments (None when it can)."""
    from ingest.cluster import ClusterError, check
    from ingest.distributed import ClusterRefused, refuse_embedded

    try:
        check(args.cluster)
    except ClusterError as exc:
        return str(exc)
    if args.dry_run:
        return "--dry-run reads and validates on this machine: drop --cluster"
    try:
        refuse_embedded(config)
    except ClusterRefused as exc:
        return str(exc)
    return None


def _ingest_on_cluster(args, config):
    """The night on the Dask cluster of ``--cluster``; None (after saying why) when refused or
    when the cluster fails (a unit failed after its retries, or its workers kept dying)."""
    from ingest.cluster import ClusterError
    from ingest.distributed import ClusterRefused, ingest_on_cluster

    log = logging.getLogger("nocturne.ingest")
    try:
        return ingest_on_cluster(args.path, config, args.cluster, night=args.night, quarantine_dir=args.quarantine,
                                 show_progress=False if args.no_progress else None, batch_size=args.batch_size,
                                 survey=getattr(args, "survey", None), schema_path=getattr(args, "schema", None),
                                 rewrite_history=getattr(args, "rewrite_history", False))
    except (ClusterRefused, ClusterError) as exc:
        log.error("%s", exc)
        return None


def render_summary(summary, config) -> str:
    if summary.survey == "rubin":
        return render_rubin_summary(summary, config)
    rate = summary.alerts / summary.duration if summary.duration else 0
    lines = ["", "this run:", f"{'night':<10} {'packets':>9} {'stored':>9} {'repeats':>8} {'objects':>8} "
                 f"{'quarant.':>8} {'upper':>8} {'badqual':>8} {'forced':>8} {'g':>7} {'r':>7} {'i':>6}"]
    for night, c in sorted(summary.nights.items()):
        lines.append(f"{night:<10} {c.raw:>9,} {c.sci:>9,} {c.duplicates:>8,} {len(c.objects):>8,} "
                     f"{c.quarantined:>8,} {c.upper:>8,} {c.badquality:>8,} {c.forced:>8,} {c.filters['n_g']:>7,} "
                     f"{c.filters['n_r']:>7,} {c.filters['n_i']:>6,}")
    lines.append("")
    verb = "validated (dry run, nothing written)" if summary.dry_run else "stored"
    lines.append(f"{summary.alerts:,} distinct alerts {verb} in {summary.duration:.1f} s ({rate:,.0f} alerts/s); "
                 f"{summary.duplicates:,} repeated packet(s) (a candid seen earlier in the run, stored once); "
                 f"{summary.quarantined:,} quarantined")
    if summary.cutouts_dropped:
        lines.append(f"{summary.cutouts_dropped:,} damaged cutout(s) left out; their alerts are stored without them")
    for night, cells in sorted(summary.statistics.items()):
        lines.append(f"night {night} in the store (its statistics row): {cells['basic:sci']:,} alerts, "
                     f"{cells['basic:n_objects']:,} objects, {cells['basic:quarantined']:,} quarantined, "
                     f"{cells['basic:duplicates']:,} repeated")
    if (summary.quarantined or summary.cutouts_dropped) and not summary.dry_run:
        lines.append(f"quarantined packets and reasons: {Path(config.data_dir) / 'quarantine'}/<night>/quarantine.jsonl")
    classes = {}
    for c in summary.nights.values():
        for k, v in c.classes.items():
            classes[k] = classes.get(k, 0) + v
    if classes:
        top = sorted(classes.items(), key=lambda kv: -kv[1])[:10]
        lines.append("classes: " + ", ".join(f"{k} {v:,}" for k, v in top))
    return "\n".join(lines)


def render_rubin_summary(summary, config) -> str:
    rate = summary.alerts / summary.duration if summary.duration else 0
    bands = "ugrizy"
    lines = ["", "this run (Rubin):", f"{'night':<10} {'packets':>9} {'stored':>9} {'repeats':>8} {'objects':>8} "
             f"{'quarant.':>8} {'prv src':>8} {'forced':>8} " + " ".join(f"{b:>6}" for b in bands)]
    for night, c in sorted(summary.nights.items()):
        lines.append(f"{night:<10} {c.raw:>9,} {c.sci:>9,} {c.duplicates:>8,} {len(c.objects):>8,} "
                     f"{c.quarantined:>8,} {c.sources:>8,} {c.forced:>8,} "
                     + " ".join(f"{c.filters[f'n_{b}']:>6,}" for b in bands))
    lines.append("")
    verb = "validated (dry run, nothing written)" if summary.dry_run else "stored"
    lines.append(f"{summary.alerts:,} distinct alerts {verb} in {summary.duration:.1f} s ({rate:,.0f} alerts/s); "
                 f"{summary.duplicates:,} repeated packet(s) (a diaSourceId seen earlier in the run, stored once); "
                 f"{summary.quarantined:,} quarantined")
    if summary.cutouts_dropped:
        lines.append(f"{summary.cutouts_dropped:,} damaged cutout(s) left out; their alerts are stored without them")
    for night, cells in sorted(summary.statistics.items()):
        lines.append(f"night {night} in the store (its statistics row): {cells['f:alerts']:,} alerts, "
                     f"{cells['f:objects']:,} objects, {cells['f:quarantined']:,} quarantined, "
                     f"{cells['f:duplicates']:,} repeated")
    if (summary.quarantined or summary.cutouts_dropped) and not summary.dry_run:
        lines.append(f"quarantined packets and reasons: {Path(config.data_dir) / 'quarantine'}/<night>/quarantine.jsonl")
    return "\n".join(lines)


def _setup_logging(log_file: Path | None) -> None:
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    root = logging.getLogger("nocturne")
    root.setLevel(logging.INFO)
    root.handlers.clear()
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    root.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file)
        handler.setFormatter(fmt)
        root.addHandler(handler)
