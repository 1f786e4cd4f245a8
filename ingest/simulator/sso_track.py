"""A simulated asteroid observed over many nights, with its geometry: for the phase curve.

The main simulator's asteroids are one detection each, with no orbit. This module makes
one asteroid on a circular, inclined heliocentric orbit seen from an Earth on a circular
orbit, over a season around opposition (a pair of g and r detections every few nights),
and writes:

- ``alerts/sso-track.avro``: ZTF 4.02 alert packets (one Avro container), a new objectId
  per detection as ZTF gives a moving object, ``ssnamenr`` naming it;
- ``ephemerides.parquet``: per detection ``ssnamenr, jd, r_au, delta_au, alpha_deg`` (the
  heliocentric and observer distances and the phase angle): what an ephemeris service
  (Fink uses IMCCE's Miriade) would give; the portal reads such a file offline from
  ``<data_dir>/sso_ephemerides.parquet``;
- ``truth.json``: H per band and G (IAU H, G system, Bowell et al. 1989), the orbit.

Magnitudes: ``H_band - 2.5 log10((1-G) Φ1 + G Φ2) + 5 log10(r Δ)`` plus Gaussian noise of
the quoted ``sigmapsf`` (no rotational light curve: the scatter is photometric only).
``python -m ingest.simulator.sso_track OUT [--seed N]``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import fastavro
import numpy as np
import pandas as pd

from science.phase_curve import hg_magnitude

from .schema import SCHEMA_VERSION, alert_schema

OBLIQUITY = np.radians(23.4393)
K_DEG_PER_DAY = 0.98560767  # mean motion at 1 au
ZTF_EPOCH_JD = 2457754.5     # 2017-01-01, ZTF's nid counts days from it

DEFAULTS = {"ssnamenr": "2018TD5", "a_au": 2.62, "incl_deg": 7.5, "node_offset_deg": -6.0, "H_r": 15.6,
            "g_minus_r": 0.55, "G": 0.22, "opposition_jd": 2460224.5, "first_day": -40, "last_day": 110,
            "every_days": 3.0}


def earth(jd):
    """Heliocentric ecliptic position of a circular-orbit Earth [au] (mean longitude)."""
    lon = np.radians(280.46 + 180.0 + 0.9856474 * (np.asarray(jd) - 2451545.0))
    return np.stack([np.cos(lon), np.sin(lon), np.zeros_like(lon)], -1)


def asteroid(jd, p: dict):
    """Heliocentric ecliptic position [au] on the circular orbit of ``p``, at opposition on
    ``opposition_jd`` (argument of latitude chosen so), ``node_offset_deg`` from its node then."""
    e0 = earth(np.array([p["opposition_jd"]]))[0]
    lon0 = np.arctan2(e0[1], e0[0])
    node, inc, a = lon0 + np.radians(p["node_offset_deg"]), np.radians(p["incl_deg"]), p["a_au"]
    u0 = np.arctan2(np.sin(lon0 - node), np.cos(lon0 - node) * np.cos(inc))  # same longitude as Earth
    u = u0 + np.radians(K_DEG_PER_DAY / a ** 1.5 * (np.asarray(jd) - p["opposition_jd"]))
    x = a * (np.cos(node) * np.cos(u) - np.sin(node) * np.sin(u) * np.cos(inc))
    y = a * (np.sin(node) * np.cos(u) + np.cos(node) * np.sin(u) * np.cos(inc))
    z = a * np.sin(u) * np.sin(inc)
    return np.stack([x, y, z], -1)


def geometry(jd, p: dict) -> dict:
    """ra, dec [deg, ICRS ≈ equatorial of date], r, delta [au], alpha [deg] at ``jd``."""
    ast, obs = asteroid(jd, p), earth(jd)
    geo = ast - obs
    x, y, z = geo[:, 0], geo[:, 1] * np.cos(OBLIQUITY) - geo[:, 2] * np.sin(OBLIQUITY), \
        geo[:, 1] * np.sin(OBLIQUITY) + geo[:, 2] * np.cos(OBLIQUITY)
    r, delta = np.linalg.norm(ast, axis=1), np.linalg.norm(geo, axis=1)
    cos_alpha = np.einsum("ij,ij->i", ast, geo) / (r * delta)
    return {"ra": np.degrees(np.arctan2(y, x)) % 360, "dec": np.degrees(np.arcsin(z / delta)),
            "r": r, "delta": delta, "alpha": np.degrees(np.arccos(np.clip(cos_alpha, -1, 1)))}


def _object_id(i: int, year: int) -> str:
    letters = "".join("abcdefghijklmnopqrstuvwxyz"[(i // 26 ** k) % 26] for k in (2, 1, 0))
    return f"ZTF{year % 100:02d}zsso{letters}"


def simulate(seed: int = 7, **overrides) -> tuple[list[dict], pd.DataFrame, dict]:
    """(packets, ephemerides, truth)."""
    p = {**DEFAULTS, **overrides}
    rng = np.random.default_rng(seed)
    days = np.arange(p["first_day"], p["last_day"] + 1e-9, p["every_days"])
    night_jd = p["opposition_jd"] + days + 0.25 + rng.uniform(0, 0.1, len(days))  # ~06h UTC: Palomar's night
    jd = np.sort(np.concatenate([night_jd, night_jd + 0.021]))  # g then r, 30 min apart
    fid = np.tile([1, 2], len(night_jd))
    geo = geometry(jd, p)
    h = np.where(fid == 1, p["H_r"] + p["g_minus_r"], p["H_r"])
    true_mag = hg_magnitude(geo["alpha"], 0.0, p["G"]) + h + 5 * np.log10(geo["r"] * geo["delta"])
    sigma = np.round(0.02 + 0.06 * 10 ** (0.4 * (true_mag - 20.0)), 3)
    mag = true_mag + rng.normal(0, sigma)
    packets = []
    for i, (t, f) in enumerate(zip(jd, fid)):
        nid = int(t - ZTF_EPOCH_JD)
        pid = nid * 10 ** 9 + int((t % 1) * 10 ** 9) // 10 ** 4 * 100 + 15
        candid = pid * 10 ** 6 + 15000 + i
        oid = _object_id(i, pd.Timestamp(t - 2440587.5, unit="D").year)
        candidate = {
            "jd": float(t), "fid": int(f), "pid": int(pid), "candid": int(candid), "isdiffpos": "t",
            "programid": 1, "nid": nid, "rcid": 33, "field": 700, "ra": float(geo["ra"][i]),
            "dec": float(geo["dec"][i]), "magpsf": float(mag[i]), "sigmapsf": float(sigma[i]),
            "diffmaglim": 20.6, "rb": 0.93, "drb": 0.995, "fwhm": 2.1, "ndethist": 1, "ncovhist": 1,
            "jdstarthist": float(t), "jdendhist": float(t), "ssnamenr": p["ssnamenr"],
            "ssdistnr": float(np.round(rng.uniform(0.1, 1.5), 2)), "ssmagnr": float(np.round(true_mag[i] - 0.3, 1)),
            "rbversion": "t17_f5_c3",
            "drbversion": "d6_m7", "exptime": 30.0}
        packets.append({"schemavsn": SCHEMA_VERSION, "publisher": "Nocturne simulator", "objectId": oid,
                        "candid": int(candid), "candidate": candidate, "prv_candidates": None})
    ephem = pd.DataFrame({"ssnamenr": p["ssnamenr"], "jd": jd, "r_au": geo["r"], "delta_au": geo["delta"],
                          "alpha_deg": geo["alpha"]})
    truth = {"ssnamenr": p["ssnamenr"], "H": {"g": p["H_r"] + p["g_minus_r"], "r": p["H_r"]}, "G": p["G"],
             "orbit": {k: p[k] for k in ("a_au", "incl_deg", "node_offset_deg", "opposition_jd")}, "seed": seed,
             "n_alerts": len(packets)}
    return packets, ephem, truth


def write(out: Path, seed: int = 7, **overrides) -> dict:
    packets, ephem, truth = simulate(seed, **overrides)
    (out / "alerts").mkdir(parents=True, exist_ok=True)
    with open(out / "alerts" / "sso-track.avro", "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(alert_schema()), packets, codec="null")
    ephem.to_parquet(out / "ephemerides.parquet", index=False)
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.simulator.sso_track", description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    truth = write(a.out, a.seed)
    print(f"{truth['n_alerts']} alerts of {truth['ssnamenr']} in {a.out / 'alerts'}; "
          f"ephemerides in {a.out / 'ephemerides.parquet'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
