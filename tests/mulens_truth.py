"""Simulated microlensing events with forced photometry, for the fit's ground truth.

Science level (no packets, no store): the alert simulator's own pieces draw the events
(``populations.draw_microlensing``: PSPL with blending, the lensed star as the reference
source), schedule ZTF's visits (``cadence.schedule``: g and r most nights, sometimes a
third visit or i, the weather, a limiting magnitude per exposure) and measure them
(``populations.flux_microlensing`` and ``photometry.measure``: noise, 5-sigma detection).
A detected visit is an alert (difference magnitude, reference magnitude behind it); every
other visit is a forced-photometry point (the difference flux and its error, zero point
25, the simulator's flux unit). Both go through ``science.gather`` and the API's
microlensing fit (``api.queries.fits._run``), as a real object's photometry would.

Used by tests/test_science_mulens_truth.py (a few events) and bench/bench_groundtruth.py
(at least 50 qualifying events). The criterion is the issue's: of the events whose true t0
lies between the first and the last detection and whose peak S/N (1.0857 / sigmapsf of the
best detection) is at least 20, 90 % have |t0_fit - t0| < 1 day and |tE_fit / tE - 1| < 10 %.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

NIGHTS = 240             # the survey window; events peak within it
CADENCE = 1.0            # mean nights between visits of a field (ZTF's high-cadence fields)
WEATHER = 0.8            # share of usable nights
MIN_PEAK_SNR = 20.0
START = dt.date(2024, 3, 1)


def simulate(n_events: int, seed: int) -> list[dict]:
    """``n_events`` events, each {"truth": {t0, u0, tE, fs}, "lc": the fit's light curve,
    "peak_snr", "qualifies"}."""
    from ingest.simulator import cadence, photometry, populations
    from science.gather import combine, detections, forced_points, reference_mags
    rng = np.random.default_rng(seed)
    nights = cadence.Nights.make(START, NIGHTS)
    ctx = populations.Context(t_first=float(nights.jd0[0]) + 30, t_last=float(nights.jd0[-1]) - 30)
    p = populations.draw_microlensing("microlensing", rng, n_events, ctx)
    exposures = cadence.schedule(range(n_events), nights, rng, cadence=CADENCE, weather=WEATHER)
    out = []
    for i in range(n_events):
        idx = exposures.by_field[i]
        band = exposures.fid[idx] - 1
        rows = populations.Rows(obj=np.full(len(idx), i), t=exposures.jd[idx], band=band,
                                maglim=exposures.maglim[idx])
        df, f_psf = populations.flux_microlensing(p, rows, rng)
        obs, sigma, det = photometry.measure(df, f_psf, rows.maglim, rng)
        magpsf, sigmapsf, positive = photometry.magnitudes(obs[det], sigma[det])
        magnr = p["magnr"][i, band[det]]
        alerts = detections(rows.t[det], magpsf, sigmapsf, band[det] + 1, magnr, np.full(det.sum(), 0.02),
                            np.where(positive, "t", "f"), np.full(det.sum(), p["distnr"][i]), "alert")
        forced = pd.DataFrame({"jd": rows.t[~det], "band": band[~det] + 1, "flux": obs[~det],
                               "flux_err": sigma[~det], "zp": 25.0})
        lc = combine(alerts, forced_points(forced, reference_mags(alerts)))
        t0 = float(p["t0"][i])
        snr = float(np.max(1.0857 / sigmapsf)) if det.any() else 0.0
        inside = bool(det.any()) and rows.t[det].min() <= t0 <= rows.t[det].max()
        out.append({"truth": {"t0": t0, "u0": float(p["u0"][i]), "tE": float(p["tE"][i]), "fs": float(p["fs"][i])},
                    "lc": lc, "peak_snr": snr, "qualifies": inside and snr >= MIN_PEAK_SNR})
    return out


def alerts_only(lc: dict) -> dict:
    """The light curve without its forced photometry (what the fit had before it)."""
    keep = np.asarray(lc["kind"]) == "alert"
    return {k: np.asarray(v)[keep] for k, v in lc.items()}


def evaluate(events: list[dict], forced: bool = True) -> list[dict]:
    """The fit of each qualifying event: whether it meets the criterion (``ok``), whether t0
    is within 1 day (``t0_ok``), tE within 3 of its fitted errors (``tE_in_3sigma``), and
    ``delta``: what the fit minimises at the true parameters minus at the best fit, on the
    fit's data (negative: the optimiser missed a better minimum than its own)."""
    from api.queries.fits import _run, mulens_inputs
    from science.mulens import objective_at
    rows = []
    for e in (e for e in events if e["qualifies"]):
        t = e["truth"]
        lc = e["lc"] if forced else alerts_only(e["lc"])
        try:
            fit = _run("mulens", lc, {})
        except ValueError as exc:
            rows.append({"error": str(exc), "ok": False, "t0_ok": False, "tE_in_3sigma": False, "delta": np.nan})
            continue
        delta = np.nan
        args, kwargs = mulens_inputs(lc)
        if kwargs and fit["constrained"]:
            frac = {b: fit["fs"][b] / (fit["fs"][b] + fit["fb"][b]) for b in fit["bands"]}
            at = {name: objective_at(*args, t0=p["t0"], u0=p["u0"], tE=p["tE"], source_fraction=f, **kwargs)["total"]
                  for name, p, f in (("truth", t, t["fs"]), ("best", fit, frac))}
            delta = at["truth"] - at["best"]
        t0_ok = abs(fit["t0"] - t["t0"]) < 1
        rows.append({"dt0": round(fit["t0"] - t["t0"], 2), "tE": round(t["tE"], 1), "tE_fit": round(fit["tE"], 1),
                     "tE_err": fit["tE_err"], "u0": round(t["u0"], 3), "peak_snr": round(e["peak_snr"]),
                     "warnings": [w["code"] for w in fit["warnings"]], "delta": round(float(delta), 2),
                     "t0_ok": t0_ok, "ok": t0_ok and abs(fit["tE"] / t["tE"] - 1) < 0.1,
                     "tE_in_3sigma": fit["tE_err"] is not None and abs(fit["tE"] - t["tE"]) < 3 * fit["tE_err"]})
    return rows
