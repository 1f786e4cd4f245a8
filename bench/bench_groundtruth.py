"""Science fits against the simulator's ground truth, all three kinds, with their targets.

    python bench/bench_groundtruth.py [--no-write-doc] [--forced-only] [--events N] [--seed S]

``--forced-only`` runs only the second part: microlensing events with forced photometry
(tests/mulens_truth.py, science level, N simulated events of which those of peak S/N >= 20
qualify), fitted with and without their forced points (section ``groundtruth-forced``).

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

from bench.report import machine, publish, today  # noqa: E402
from tests import mulens_truth as mt  # noqa: E402
from tests import test_science_groundtruth as gt  # noqa: E402


def truth_minus_best(store, truth, object_id: str) -> float:
    """The fit's objective at the simulated truth minus at its best fit, on the fit's data."""
    from api import queries as q
    from api.queries.fits import mulens_inputs
    from science.mulens import objective_at
    e = truth[truth.objectId == object_id].iloc[0]
    fit = q.fit(store, object_id, "mulens")
    args, kwargs = mulens_inputs(q.lightcurve(store, object_id, with_upper=True))
    if not kwargs:
        return float("nan")
    frac = {b: fit["fs"][b] / (fit["fs"][b] + fit["fb"][b]) for b in fit["bands"]}
    at_truth = objective_at(*args, t0=e.t0, u0=e.u0, tE=e.tE, source_fraction=float(e.fs), **kwargs)
    at_best = objective_at(*args, t0=fit["t0"], u0=fit["u0"], tE=fit["tE"], source_fraction=frac, **kwargs)
    return at_truth["total"] - at_best["total"]


def forced_section(n_events: int, seed: int) -> str:
    """The microlensing criterion on simulated events with forced photometry, and without it."""
    import time
    events = mt.simulate(n_events, seed)
    t = time.perf_counter()
    rows = {"alerts + forced photometry": mt.evaluate(events)}
    per_fit = (time.perf_counter() - t) / max(len(rows["alerts + forced photometry"]), 1)
    rows["alerts only (no upper limits)"] = mt.evaluate(events, forced=False)
    n_points = np.median([len(e["lc"]["jd"]) for e in events if e["qualifies"]])
    lines = ["## Microlensing with forced photometry against the truth (`bench/bench_groundtruth.py`)", "",
             f"Run {today()} on {machine()}. {n_events} events drawn by the simulator "
             f"(`populations.draw_microlensing`), seed {seed}, visited at ZTF's cadence over {mt.NIGHTS} nights "
             f"(`cadence.schedule`, a visit of the field every {mt.CADENCE:g} night, {mt.WEATHER:.0%} of nights "
             "usable), measured by `photometry.measure`: a 5σ detection is an alert, every other visit a "
             "forced-photometry point (tests/mulens_truth.py). Qualifying: peak S/N ≥ 20 and t0 between the "
             f"first and last detection. Median {n_points:.0f} points per event; "
             f"{per_fit:.2f} s per fit (wall, with forced photometry).", "",
             "| photometry | N qualifying | t0 within 1 d and tE within 10 % | t0 within 1 d | "
             "tE within 3σ of its error | Δ < −1 (optimiser miss) | Δ median (misses) | warned misses |",
             "|---|---|---|---|---|---|---|---|"]
    for label, r in rows.items():
        ok = np.array([x["ok"] for x in r])
        delta = np.array([x["delta"] for x in r], dtype=float)
        missed = [x for x in r if not x["ok"]]
        lines.append(f"| {label} | {len(r)} | {ok.mean():.1%} | {np.mean([x['t0_ok'] for x in r]):.1%} | "
                     f"{np.mean([x['tE_in_3sigma'] for x in r]):.1%} | {int(np.sum(delta < -1))} | "
                     f"{np.nanmedian(delta[~ok]) if (~ok).any() else float('nan'):.1f} | "
                     f"{sum(bool(x.get('warnings')) for x in missed)} of {len(missed)} |")
    forced = rows["alerts + forced photometry"]
    frac = float(np.mean([x["ok"] for x in forced])) if forced else 0.0
    worst = min((x["delta"] for x in forced), default=float("nan"))
    lines += ["", "Δ: what the fit minimises (`science.mulens.objective_at`) at the true parameters minus at the "
              "best fit, on the fit's data; Δ < −1 would be an optimiser that stopped at a worse minimum than the "
              f"truth's (smallest Δ here: {worst:.1f}). Warned misses: misses whose fit returned a warning.", "",
              f"Target 90 %: {'met' if frac >= 0.9 else 'not met'} ({frac:.1%} of {len(forced)}). Forced photometry "
              "holds the wings of the light curve that separate tE from u0 and the blending: without it, most "
              "misses are flagged `degenerate_parameters`. The misses that remain with it are not optimiser "
              "failures (every Δ ≥ −1, tE within 3σ of its fitted error): their data hold tE to 10–50 % (low peak "
              "S/N, strong blending, or a high-magnification peak whose weight ZTF's 0.01 mag floor on sigmapsf "
              "caps), an error below the 50 % at which the fit warns."]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-write-doc", action="store_true")
    p.add_argument("--forced-only", action="store_true", help="only the events with forced photometry")
    p.add_argument("--events", type=int, default=300, help="simulated events with forced photometry")
    p.add_argument("--seed", type=int, default=2, help="their seed")
    args = p.parse_args(argv)
    publish("groundtruth-forced", forced_section(args.events, args.seed), write=not args.no_write_doc)
    if args.forced_only:
        return 0
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
        ml_rows = gt.microlensing_rows(store, truth, curves)
        ml_ok = [r["ok"] for r in ml_rows]
        ml_delta = {r["objectId"]: truth_minus_best(store, truth, r["objectId"]) for r in ml_rows if "error" not in r}
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
    lines += ["", "Microlensing: what the fit minimises (χ² of the detections plus the upper limits' censored "
              "term, `science.mulens.objective_at`) at the true parameters minus at the best fit, Δ; Δ < 0 "
              "would mean the optimiser missed a better minimum:", "",
              "| events | N | Δ < 0 (optimiser miss) | Δ min / median / max |", "|---|---|---|---|"]
    for label, want in (("within the criterion", True), ("missing it", False)):
        d = np.array([ml_delta[r["objectId"]] for r in ml_rows if r["objectId"] in ml_delta and r["ok"] is want])
        if len(d):
            lines.append(f"| {label} | {len(d)} | {int(np.sum(d < -1e-3))} | "
                         f"{d.min():.1f} / {np.median(d):.1f} / {d.max():.1f} |")
    missed = np.array([ml_delta[r["objectId"]] for r in ml_rows if r["objectId"] in ml_delta and not r["ok"]])
    if len(missed) and np.all(missed >= -1e-3):
        lines += ["", "For every event that misses, the best fit scores as well as or better than the truth, by "
                  "about what the successes do (a few units for 4–5 free parameters): the alerts, which start "
                  "when the star is already magnified and whose upper limits are 5σ, do not hold the wings of "
                  "the light curve that separate tE from u0 and blending. The fit is not failing; the "
                  "information is not in the alerts. Forced photometry (the wings below 5σ) would carry it."]
    elif len(missed):
        lines += ["", f"{int(np.sum(missed < -1e-3))} of the {len(missed)} events that miss score better at the "
                  "truth than at the fit: the optimiser stopped at a worse minimum there."]
    text = "\n".join(lines)
    publish("groundtruth", text, write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
