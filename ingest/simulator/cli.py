"""Command line: ``python -m ingest simulate [options] OUT``.

Writes nights of simulated ZTF alert packets under OUT, as a nightly archive
delivers them (or, with ``--survey rubin``, Rubin alerts in the LSST alert
schema 10.0 as Fink delivers them: see ``rubin/``), plus the ground truth and
a summary.  Examples::

    python -m ingest simulate --demo demo-alerts
    python -m ingest simulate --nights 10 --alerts-per-night 100000 --seed 1 \\
        --footprint 150,160,20,30 --workers 2 big-run
    python -m ingest simulate --nights 3 --alerts-per-night 5000 --tar --no-cutouts out
    python -m ingest simulate --survey rubin --demo rubin-demo
    python -m ingest simulate --survey rubin --nights 2 --alerts-per-night 20000 --no-avro --wire out
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from .engine import Output, run
from .plan import DEFAULT_CENTER, DEFAULT_DENSITY, Config
from .populations import DEFAULT_MIX, KINDS
from .sky import Footprint

#: options that only one survey understands (flag -> survey)
ZTF_ONLY = {"tar": "--tar", "containers": "--containers", "with_fp_hists": "--with-fp-hists"}
RUBIN_ONLY = {"wire": "--wire", "no_parquet": "--no-parquet", "window": "--window"}

DEMO = {"nights": 5, "alerts_per_night": 800, "seed": 42}
#: a Rubin alert carries months of history and three 34 KB stamps: a smaller demo
RUBIN_DEMO = {"nights": 3, "alerts_per_night": 300, "seed": 42}


def _mix(text: str) -> dict:
    mix = {k: 0.0 for k in KINDS}
    for item in text.split(","):
        k, _, v = item.partition("=")
        if k.strip() not in mix:
            raise argparse.ArgumentTypeError(f"unknown type {k!r}; known: {', '.join(KINDS)}")
        mix[k.strip()] = float(v)
    if sum(mix.values()) <= 0:
        raise argparse.ArgumentTypeError("the mix must have a positive share")
    return mix


def _pair(text: str) -> tuple[float, float]:
    a, b = (float(x) for x in text.split(","))
    return a, b


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest simulate",
        description="Simulate nights of ZTF alert packets (schema 4.02), or of Rubin alerts "
                    "(LSST alert schema 10.0, as Fink delivers them), with a ground-truth table.")
    p.add_argument("out", type=Path, help="output folder")
    p.add_argument("--survey", choices=("ztf", "rubin"), default="ztf",
                   help="ztf (default): ZTF 4.02 packets; rubin: LSST alerts in Fink's Parquet and Avro")
    g = p.add_argument_group("what to simulate")
    g.add_argument("--nights", type=int, help="number of nights (default 3)")
    g.add_argument("--alerts-per-night", type=int, help="about how many alerts per night (default 1000)")
    g.add_argument("--seed", type=int, help="random seed (default 0); same seed, same bytes")
    g.add_argument("--start-date", type=dt.date.fromisoformat,
                   help="UT date of the first night (default 2025-01-01; rubin: 2026-03-10)")
    g.add_argument("--footprint", type=_box, metavar="RA0,RA1,DEC0,DEC1",
                   help="sky box in degrees (ztf: dec is cut at -30; rubin: at +35)")
    g.add_argument("--center", type=_pair, metavar="RA,DEC",
                   help=f"centre of the footprint when --footprint is not given (default {DEFAULT_CENTER}; "
                   "rubin: 150.1,2.2, the COSMOS field)")
    g.add_argument("--area", type=float, help="footprint area in deg^2 around --center "
                   "(default: alerts / --density)")
    g.add_argument("--density", type=float, default=DEFAULT_DENSITY,
                   help="alerts per deg^2 used to size the default footprint (default 10000, like Fink)")
    g.add_argument("--mix", type=_mix, help="alert shares per type, e.g. sn_ia=0.2,rrlyrae=0.3 "
                   f"(types: {', '.join(KINDS)}; default {DEFAULT_MIX})")
    g.add_argument("--cadence", type=float, default=1.0,
                   help="mean nights between visits of a field (default 1; ZTF public survey: 2)")
    g.add_argument("--window", type=float,
                   help="rubin: days of history in prvDiaSources and prvDiaForcedSources (default 365)")
    g.add_argument("--demo", action="store_true",
                   help=f"README demo: {DEMO['nights']} nights x {DEMO['alerts_per_night']} alerts "
                   f"(rubin: {RUBIN_DEMO['nights']} x {RUBIN_DEMO['alerts_per_night']}), "
                   "all science cases, with Fink values (unless --raw); ztf: with fp_hists (forced photometry)")
    o = p.add_argument_group("what to write")
    o.add_argument("--no-cutouts", action="store_true", help="leave the three cutouts null")
    f = o.add_mutually_exclusive_group()
    f.add_argument("--with-fink-values", action="store_true", help="add Fink's added values to packets")
    f.add_argument("--with-fp-hists", action="store_true",
                   help="ztf: add fp_hists (forced photometry of the 30 days before each alert) as raw ZTF "
                        "4.02 packets carry them; Fink's archive, imitated by default, has none")
    f.add_argument("--raw", action="store_true",
                   help="plain ZTF packets (the ZTF default); rubin: LSST fields only, no Fink values")
    o.add_argument("--tar", action="store_true", help="one ztf_public_YYYYMMDD.tar.gz per night")
    o.add_argument("--containers", type=int, metavar="N",
                   help="multi-alert Avro containers of up to N alerts instead of one file per alert")
    o.add_argument("--codec", choices=("null", "deflate", "snappy"), default="null",
                   help="Avro block codec (default null, like the ZTF archive)")
    o.add_argument("--parquet", action="store_true", help="also write Parquet files in Fink's layout")
    o.add_argument("--no-avro", action="store_true", help="do not write Avro packets")
    o.add_argument("--no-parquet", action="store_true", help="rubin: do not write Fink's Parquet files")
    o.add_argument("--wire", action="store_true",
                   help="rubin: also one Confluent wire-format message per alert, schema beside as .avsc")
    o.add_argument("--truth-format", choices=("csv", "parquet"), default="csv",
                   help="ground-truth table OUT/truth.csv (default) or OUT/truth.parquet")
    o.add_argument("--workers", type=int, default=1, help="worker processes (output is the same)")
    o.add_argument("--force", action="store_true", help="write into a non-empty OUT")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _box(text: str) -> str:
    """``RA0,RA1,DEC0,DEC1`` checked here, cut to the survey's sky in ``config_from_args``."""
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not four numbers: {text!r}") from None
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"not four numbers: {text!r}")
    return text


def _check_survey(a: argparse.Namespace) -> None:
    other = ZTF_ONLY if a.survey == "rubin" else RUBIN_ONLY
    for attr, flag in other.items():
        if getattr(a, attr):
            raise ValueError(f"{flag} does not apply to --survey {a.survey}")


def config_from_args(a: argparse.Namespace):
    """(Config, Output) of the chosen survey's simulator."""
    _check_survey(a)
    if a.survey == "rubin":
        return rubin_config_from_args(a)
    return ztf_config_from_args(a)


def ztf_config_from_args(a: argparse.Namespace) -> tuple[Config, Output]:
    base = DEMO if a.demo else {}
    nights = a.nights or base.get("nights", 3)
    per_night = a.alerts_per_night or base.get("alerts_per_night", 1000)
    seed = a.seed if a.seed is not None else base.get("seed", 0)
    if nights < 1 or per_night < 1:
        raise ValueError("--nights and --alerts-per-night must be positive")
    footprint = Footprint.parse(a.footprint) if a.footprint else None
    center = a.center or DEFAULT_CENTER
    if footprint is None and a.area:
        footprint = Footprint.around(*center, a.area)
    cfg = Config(nights=nights, alerts_per_night=per_night, seed=seed, start=a.start_date or dt.date(2025, 1, 1),
                 footprint=footprint, center=center, density=a.density, cadence=a.cadence,
                 cutouts=not a.no_cutouts, fink=a.with_fink_values or (a.demo and not a.raw),
                 fp_hists=a.with_fp_hists or a.demo)
    if a.mix:
        cfg.mix = a.mix
    out = Output(root=a.out, avro=not a.no_avro, layout="containers" if a.containers else "files",
                 tar=a.tar, codec=a.codec, container_size=a.containers or 10000,
                 parquet=a.parquet, truth_format=a.truth_format)
    return cfg, out


def rubin_config_from_args(a: argparse.Namespace):
    from .rubin import observe as rubin
    from .rubin.engine import Output as RubinOutput

    base = RUBIN_DEMO if a.demo else {}
    nights = a.nights or base.get("nights", 3)
    per_night = a.alerts_per_night or base.get("alerts_per_night", 1000)
    seed = a.seed if a.seed is not None else base.get("seed", 0)
    if nights < 1 or per_night < 1:
        raise ValueError("--nights and --alerts-per-night must be positive")
    window = 365.0 if a.window is None else a.window
    if window < 0:
        raise ValueError("--window must not be negative")
    center = a.center or rubin.DEFAULT_CENTER
    if a.footprint:
        footprint = Footprint.parse(a.footprint, dec_min=-90.0, dec_max=rubin.RUBIN_DEC_MAX)
    else:
        footprint = rubin.around(*center, a.area) if a.area else None
    cfg = rubin.Config(nights=nights, alerts_per_night=per_night, seed=seed,
                       start=a.start_date or rubin.Config.start, footprint=footprint, center=center,
                       density=a.density, cadence=a.cadence, window=window, cutouts=not a.no_cutouts,
                       fink=not a.raw)
    if a.mix:
        cfg.mix = a.mix
    out = RubinOutput(root=a.out, parquet=not a.no_parquet, avro=not a.no_avro, wire=a.wire, codec=a.codec,
                      truth_format=a.truth_format)
    return cfg, out


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m ingest simulate``; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        cfg, out = config_from_args(args)
        if out.root.exists() and any(out.root.iterdir()) and not args.force:
            raise ValueError(f"{out.root} is not empty (use --force to write into it)")
        t0 = time.perf_counter()
        if args.survey == "rubin":
            from .rubin.engine import run as run_rubin
            summary = run_rubin(cfg, out, workers=args.workers, progress=not args.quiet)
        else:
            summary = run(cfg, out, workers=args.workers, progress=not args.quiet)
    except ValueError as e:
        print(f"simulate: error: {e}", file=sys.stderr)
        return 2
    dt_s = time.perf_counter() - t0
    print(f"simulate: {summary['alerts']} alerts of {summary['objects']} objects over "
          f"{len(summary['nights'])} nights written to {out.root} in {dt_s:.1f} s "
          f"({summary['alerts'] / max(dt_s, 1e-9):.0f} alerts/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
