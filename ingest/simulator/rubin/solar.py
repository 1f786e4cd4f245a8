"""Solar-system sources: ``ssSource`` and ``mpc_orbits`` of an asteroid's alert.

Each simulated asteroid gets an MPC provisional designation (packed and
unpacked; its ``ssObjectId`` is the packed one's bytes), an orbit (main belt
or near-Earth: a, e, i, node, argument of perihelion, mean anomaly at epoch
MJD 61000, H, G) and, at its detection, a consistent geometry: the Earth on its
orbit at that date, the asteroid along the line of sight at the distance where
it is ``r`` AU from the Sun, hence heliocentric and topocentric positions and
velocities (AU, AU/day), phase angle, elongation, ecliptic and galactic
coordinates and the ephemeris offset of the measured position.  Other alerts
carry both records with every field null, as Fink's files do.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from .. import hashing
from ..populations import KINDS
from . import schema, survey
from .sources import _struct, blank

OBLIQUITY = np.radians(23.4393)
GAUSS_K = 0.01720209895          # AU^1.5 / day
EPOCH_MJD = 61000.0


def _unit_vectors(ra, dec):
    a, d = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)], axis=1)


def _earth(mjd):
    """Heliocentric equatorial position (AU) and velocity (AU/day) of the Earth (circular orbit)."""
    lon = np.radians(280.46 + 0.9856474 * (mjd - 51544.5)) + np.pi  # Earth = Sun's longitude + 180
    ce, se = np.cos(OBLIQUITY), np.sin(OBLIQUITY)
    pos = np.stack([np.cos(lon), np.sin(lon) * ce, np.sin(lon) * se], axis=1)
    vel = GAUSS_K * np.stack([-np.sin(lon), np.cos(lon) * ce, np.cos(lon) * se], axis=1)
    return pos, vel


def _ecliptic(ra, dec):
    a, d = np.radians(ra), np.radians(dec)
    sb = np.sin(d) * np.cos(OBLIQUITY) - np.cos(d) * np.sin(OBLIQUITY) * np.sin(a)
    lam = np.arctan2(np.sin(a) * np.cos(OBLIQUITY) + np.tan(d) * np.sin(OBLIQUITY), np.cos(a))
    return np.degrees(np.mod(lam, 2 * np.pi)), np.degrees(np.arcsin(sb))


#: ICRS -> galactic rotation (rows: the galactic axes in ICRS)
_GALACTIC = np.array([[-0.0548755604162154, -0.8734370902348850, -0.4838350155487132],
                      [0.4941094278755837, -0.4448296299600112, 0.7469822444972189],
                      [-0.8676661490190047, -0.1980763734312015, 0.4559837761750669]])


def _galactic(ra, dec):
    g = _unit_vectors(ra, dec) @ _GALACTIC.T
    return np.degrees(np.mod(np.arctan2(g[:, 1], g[:, 0]), 2 * np.pi)), np.degrees(np.arcsin(np.clip(g[:, 2], -1, 1)))


def orbits(unit, seed: int) -> dict:
    """Per-object orbit and names of the unit's asteroids (keys: object index arrays)."""
    m = np.flatnonzero(unit.kind == KINDS.index("asteroid"))
    if not len(m):
        return {"objects": m}
    p = unit.params["asteroid"]
    li = unit.local[m]
    gid = unit.gid[m]
    u = lambda salt: hashing.uniform(seed, gid, 7100 + salt)  # noqa: E731
    neo = p["subtype"][li] == "NEO"
    names = [survey.designation(str(s), float(x)) for s, x in zip(p["ssnamenr"][li], u(0))]
    a = np.where(neo, 1.0 + 1.2 * u(1), 2.15 + 1.15 * u(1))
    e = np.where(neo, 0.15 + 0.5 * u(2), 0.02 + 0.25 * u(2))
    return {
        "objects": m, "unpacked": np.array([x[0] for x in names], dtype=object),
        "packed": np.array([x[1] for x in names], dtype=object),
        "ss_object_id": np.array([survey.ss_object_id(x[1]) for x in names], dtype=np.int64),
        "a": a, "e": e, "i": np.where(neo, 25, 18) * u(3) ** 2, "node": 360 * u(4), "argperi": 360 * u(5),
        "mean_anomaly": 360 * u(6), "h": np.where(neo, 19 + 4 * u(7), 14 + 5 * u(7)), "neo": neo,
        "nobs": (20 + 900 * u(8) ** 2).astype(np.int64), "nopp": (1 + 18 * u(9)).astype(np.int64),
        "arc": 30 + 9000 * u(10), "rate": p["rate"][li], "motion_pa": p["motion_pa"][li], "gid": gid,
    }


def ss_object_ids(unit, orb: dict) -> np.ndarray:
    out = np.zeros(unit.n_objects, dtype=np.int64)
    if len(orb["objects"]):
        out[orb["objects"]] = orb["ss_object_id"]
    return out


def _orbit_json(k: int, orb: dict) -> str:
    a, e = orb["a"][k], orb["e"][k]
    return json.dumps({
        "COM": {"coefficient_names": ["q", "e", "i", "node", "argperi", "peri_time"],
                "coefficient_values": [a * (1 - e), e, orb["i"][k], orb["node"][k], orb["argperi"][k],
                                       _peri_time(a, orb["mean_anomaly"][k])]},
        "epoch_data": {"epoch": EPOCH_MJD, "timeform": "MJD", "timesystem": "TDT"},
        "magnitude_data": {"G": 0.15, "H": round(float(orb["h"][k]), 3)},
        "categorization": {"orbit_type_int": 3 if orb["neo"][k] else 11,
                           "orbit_type_str": "Apollo" if orb["neo"][k] else "Main Belt"},
        "designation_data": {"packed_primary_provisional_designation": orb["packed"][k],
                             "unpacked_primary_provisional_designation": orb["unpacked"][k]},
        "orbit_fit_statistics": {"nobs_total": int(orb["nobs"][k]), "nopp": int(orb["nopp"][k])},
        "simulated": True,
    }, separators=(",", ":"))


def _peri_time(a, mean_anomaly):
    n = np.degrees(GAUSS_K / a ** 1.5)   # deg / day
    return EPOCH_MJD - mean_anomaly / n


def ss_records(fr, unit, a_rows, sources: pa.StructArray, orb: dict, rng):
    """(ssSource, mpc_orbits) struct arrays for the alerts at unit rows ``a_rows``."""
    o = unit.obj[a_rows]
    n = len(a_rows)
    is_ast = fr.asteroid[o]
    k = np.zeros(n, dtype=np.int64)
    if len(orb["objects"]):
        pos = np.searchsorted(orb["objects"], o)
        k = np.where(is_ast, np.minimum(pos, len(orb["objects"]) - 1), 0)
    else:
        return (blank(_struct(schema.SS_SOURCE, {}, n), np.ones(n, bool)),
                blank(_struct(schema.MPC_ORBITS, {}, n), np.ones(n, bool)))
    ra = sources.field("ra").to_numpy(zero_copy_only=False)
    dec = sources.field("dec").to_numpy(zero_copy_only=False)
    mjd = fr.mjd[a_rows]
    a, e = orb["a"][k], orb["e"][k]
    r = a * (1 - e * np.cos(np.radians(orb["mean_anomaly"][k])))
    earth, v_earth = _earth(mjd)
    los = _unit_vectors(ra, dec)
    eu = (earth * los).sum(1)
    r = np.maximum(r, 1.05)          # seen at night: beyond the Earth's orbit
    delta = -eu + np.sqrt(np.maximum(eu ** 2 - 1 + r ** 2, 0))
    topo = delta[:, None] * los
    helio = earth + topo
    radial = helio / np.linalg.norm(helio, axis=1)[:, None]
    pole = np.array([0.0, -np.sin(OBLIQUITY), np.cos(OBLIQUITY)])
    along = np.cross(pole, radial)
    along /= np.linalg.norm(along, axis=1)[:, None]
    v_helio = (GAUSS_K / np.sqrt(r))[:, None] * (along + e[:, None] * 0.3 * radial)
    v_topo = v_helio - v_earth
    helio_range = np.linalg.norm(helio, axis=1)
    cos_phase = (helio * topo).sum(1) / (helio_range * delta)
    cos_elong = -(earth * los).sum(1)
    lam, beta = _ecliptic(ra, dec)
    glon, glat = _galactic(ra, dec)
    off = np.abs(rng.normal(0, 0.08, n)) + 0.01        # arcsec
    ang = rng.uniform(0, 2 * np.pi, n)
    rate = orb["rate"][k]
    mpa = np.radians(orb["motion_pa"][k])
    phase = np.degrees(np.arccos(np.clip(cos_phase, -1, 1)))
    vmag = orb["h"][k] + 5 * np.log10(helio_range * delta) + 0.04 * phase
    ss = {
        "diaSourceId": fr.dia_source_id[a_rows], "ssObjectId": orb["ss_object_id"][k],
        "designation": orb["unpacked"][k], "eclLambda": lam, "eclBeta": beta, "galLon": glon,
        "galLat": glat, "elongation": np.degrees(np.arccos(np.clip(cos_elong, -1, 1))), "phaseAngle": phase,
        "topoRange": delta, "topoRangeRate": (v_topo * los).sum(1), "helioRange": helio_range,
        "helioRangeRate": (v_helio * radial).sum(1),
        "ephRa": np.mod(ra - off * np.sin(ang) / 3600 / np.cos(np.radians(dec)), 360),
        "ephDec": dec - off * np.cos(ang) / 3600, "ephVmag": vmag, "ephRate": rate,
        "ephRateRa": rate * np.sin(mpa), "ephRateDec": rate * np.cos(mpa), "ephOffset": off,
        "ephOffsetRa": off * np.sin(ang), "ephOffsetDec": off * np.cos(ang),
        "ephOffsetAlongTrack": off * np.cos(ang - mpa), "ephOffsetCrossTrack": off * np.sin(ang - mpa),
        "diaDistanceRank": 1,
    }
    for name, vec in (("helio", helio), ("topo", topo)):
        for j, axis in enumerate("xyz"):
            ss[f"{name}_{axis}"] = vec[:, j]
    for name, vec in (("helio", v_helio), ("topo", v_topo)):
        for j, axis in enumerate("xyz"):
            ss[f"{name}_v{axis}"] = vec[:, j]
        ss[f"{name}_vtot"] = np.linalg.norm(vec, axis=1)
    period = 365.25 * a ** 1.5
    unc = 1e-7 * (1 + 100 / orb["nobs"][k])
    mpc = {
        "id": orb["gid"][k].astype(np.int32), "designation": orb["unpacked"][k],
        "packed_primary_provisional_designation": orb["packed"][k],
        "unpacked_primary_provisional_designation": orb["unpacked"][k],
        "mpc_orb_jsonb": pa.array([_orbit_json(int(j), orb) if ok else None for j, ok in zip(k, is_ast)],
                                  type=pa.string()),
        "created_at": 0, "updated_at": 0, "orbit_type_int": np.where(orb["neo"][k], 3, 11),
        "u_param": np.clip(9 - orb["nopp"][k], 0, 9), "nopp": orb["nopp"][k],
        "arc_length_total": orb["arc"][k], "arc_length_sel": orb["arc"][k] * 0.999,
        "nobs_total": orb["nobs"][k], "nobs_total_sel": (orb["nobs"][k] * 0.97).astype(np.int64),
        "a": a, "q": a * (1 - e), "e": e, "i": orb["i"][k], "node": orb["node"][k],
        "argperi": orb["argperi"][k], "peri_time": _peri_time(a, orb["mean_anomaly"][k]),
        "yarkovsky": 0.0, "srp": 0.0, "a1": 0.0, "a2": 0.0, "a3": 0.0, "dt": 0.0,
        "mean_anomaly": orb["mean_anomaly"][k], "period": period, "mean_motion": 360 / period,
        "epoch_mjd": EPOCH_MJD, "h": orb["h"][k], "g": 0.15, "not_normalized_rms": 0.0,
        "normalized_rms": 0.8 + 0.3 * hashing.uniform(orb["gid"][k], 7200),
        "earth_moid": np.abs(a * (1 - e) - 1) * 0.8, "fitting_datetime": 0,
    }
    for name in ("a", "q", "e", "i", "node", "argperi", "peri_time", "mean_anomaly", "period", "mean_motion"):
        mpc[f"{name}_unc"] = unc * (1 + 0 * a)
    for name in ("yarkovsky", "srp", "a1", "a2", "a3", "dt"):
        mpc[f"{name}_unc"] = 0.0
    return (blank(_struct(schema.SS_SOURCE, ss, n), ~is_ast), blank(_struct(schema.MPC_ORBITS, mpc, n), ~is_ast))
