"""Science fits against the simulator's ground truth, all three kinds, with their targets.

    python bench/bench_groundtruth.py [--no-write-doc]

Same simulation and criteria as tests/test_science_groundtruth.py (which asserts the
variable-star and supernova criteria in CI); this script also measures the microlensing
criterion, whose 90 % target is not met, and writes every fraction to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine, today, write_section  # noqa: E402
from tests import test_science_groundtruth as gt  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    from api import queries as q
    from ingest.night import ingest
    from ingest.simulator.cli import main as simulate
    from settings import Config
    from store import open_store
    tmp = Path(tempfile.mkdtemp(prefix="nocturne-truth-"))
    simulate(["--nights", str(gt.NIGHTS), "--alerts-per-night", str(gt.ALERTS_PER_NIGHT), "--seed", str(gt.SEED),
              "--cadence", "1", "--no-cutouts", "--quiet", "--mix", gt.MIX, str(tmp / "sim")])
    cfg = Config().replace(data_dir=tmp / "store")
    ingest(tmp / "sim", cfg, show_progress=False)
    truth = pd.read_csv(tmp / "sim" / "truth.csv")
    with open_store(cfg) as store:
        curves = {oid: q.lightcurve(store, oid) for oid in truth.objectId[truth.n_alerts > 0]}
        stars = truth[(truth.type == "rrlyrae") & truth.objectId.map(lambda o: len(curves.get(o, {"jd": []})["jd"]) >= 30)]
        var_ok = [abs(q.fit(store, s.objectId, "varstar", **gt.VARSTAR)["period"] / s.period - 1) < 1e-3
                  for s in stars.itertuples()]
        sne = [s for s in truth[truth.type == "sn_ia"].itertuples()
               if s.objectId in curves and gt.well_sampled(curves[s.objectId], s.t_peak)]
        sn_ok = []
        for s in sne:
            band = q.fit(store, s.objectId, "supernova")["bands"].get("r")
            sn_ok.append(bool(band) and abs(band["t_peak"] - s.t_peak) < 3)
        ml_ok = [r["ok"] for r in gt.microlensing_rows(store, truth, curves)]
    lines = ["## Science fits against the simulator's ground truth (`bench/bench_groundtruth.py`)", "",
             f"Run {today()} on {machine()}. Simulation: seed {gt.SEED}, {gt.NIGHTS} nights × "
             f"{gt.ALERTS_PER_NIGHT} alerts, a visit every night, mix {gt.MIX}; criteria as in "
             "tests/test_science_groundtruth.py.", "",
             "| kind | criterion | N qualifying | within | target | |", "|---|---|---|---|---|---|"]
    for kind, crit, ok in (("variable star (RR Lyrae, ≥ 30 detections)", "period within 0.1 %", var_ok),
                           ("microlensing (peak S/N ≥ 20)", "t0 within 1 d and tE within 10 %", ml_ok),
                           ("supernova Ia (well sampled in r)", "peak time within 3 d", sn_ok)):
        frac = float(np.mean(ok)) if ok else 0.0
        lines.append(f"| {kind} | {crit} | {len(ok)} | {frac:.1%} | 90 % | {'✓' if frac >= 0.9 else '✗'} |")
    lines += ["", "Microlensing misses the target: alerts cover only the magnified part of an event, where "
              "tE is degenerate with u0 and blending; for the misses the best fit has a χ² within the 95 % "
              "band of the true parameters' (6 free parameters), i.e. the data cannot tell them apart. "
              "Forced photometry after the event, or a prior on tE, would be needed."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write_doc:
        write_section("groundtruth", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
