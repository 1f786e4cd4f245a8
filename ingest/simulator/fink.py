"""Fink's added values for simulated alerts, informed by the ground truth.

Fink enriches each ZTF packet with cross-matches (SIMBAD ``cdsxmatch``, Gaia,
VSX, TNS...), classifier scores (SuperNNova ``snn_*``, random forests
``rf_*``, microlensing ``mulens``, asteroid flag ``roid``), light-curve
features and rates.  Here these come from the true nature of each object with
realistic imperfections: scores are drawn from Beta distributions that lean
towards the truth, catalogue matches exist for a share of known objects, and
rates and features are computed from the alert's own 30-day history, as Fink
does.  Values Fink leaves empty for most alerts keep their usual defaults
('Unknown', 'nan', -1, NaN).
"""

from __future__ import annotations

import numpy as np

from . import hashing
from .encoding import avro_string, encode_records, zigzag_varint
from .populations import KINDS
from .schema import BLAZAR_KEYS, FINK_FIELDS, LC_FEATURES, MANGROVE_KEYS, T2_CLASSES

BROKER_VERSION, SCIENCE_VERSION = "4.1", "8.41.0"


def _avro_map(items: dict, value_type: str) -> bytes:
    """A non-null ``[map, null]`` union holding ``items`` (union-typed values)."""
    out = [b"\x00", zigzag_varint(len(items))]
    for k, v in items.items():
        out.append(avro_string(k))
        out.append(b"\x00" + (avro_string(v) if value_type == "string"
                              else np.float32(v).astype("<f4").tobytes()))
    out.append(b"\x00")
    return b"".join(out)


MANGROVE_NONE = {k: "None" for k in MANGROVE_KEYS}
BLAZAR_NONE = {k: -1.0 for k in BLAZAR_KEYS}
_MANGROVE_BYTES = _avro_map(MANGROVE_NONE, "string")
_BLAZAR_BYTES = _avro_map(BLAZAR_NONE, "float")


def _timestamps(jd: np.ndarray) -> np.ndarray:
    us = np.round((jd - 2440587.5) * 86400e6).astype("int64").astype("datetime64[us]")
    return np.char.replace(np.datetime_as_string(us, unit="us").astype("S26"), b"T", b" ")


def _window_stats(alerts, band_row: np.ndarray, band_wanted: int) -> dict:
    """Mean, weighted mean and std of magpsf over each alert's detections (window + itself)."""
    a_of = alerts.alert_of_row
    sel = (a_of >= 0) & (band_row == band_wanted)
    mag = alerts.cand["magpsf"][a_of[sel]]
    w = 1 / alerts.cand["sigmapsf"][a_of[sel]] ** 2
    sums = []
    for vals in (1.0, mag, mag ** 2, w, w * mag):
        col = np.zeros(len(band_row))
        col[sel] = vals
        sums.append(np.concatenate([[0.0], np.cumsum(col)]))
    lo, hi = alerts.lo, alerts.rows + 1
    n, sx, sx2, sw, swx = (c[hi] - c[lo] for c in sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, sx / n, np.nan)
        wmean = np.where(sw > 0, swx / sw, np.nan)
        var = np.maximum(sx2 / n - mean ** 2, 0) * n / np.maximum(n - 1, 1)
        std = np.where(n > 1, np.sqrt(var), np.nan)
    return {"mean": mean, "weighted_mean": wmean, "standard_deviation": std}


def fink_columns(plan, unit, alerts) -> dict:
    """Per-alert Fink columns (arrays of length ``alerts.n`` or scalars)."""
    n = alerts.n
    seed = plan.config.seed
    e = plan.exposures
    band_row = e.fid[unit.exp] - 1
    kinds = np.array(KINDS, dtype=object)[alerts.kind]
    o = unit.obj[alerts.rows]
    gid = unit.gid[o]
    u = lambda salt: hashing.uniform(seed, gid, salt)  # noqa: E731 per object, stable
    v = lambda salt: hashing.uniform(seed, alerts.cand["candid"], salt)  # noqa: E731 per alert
    sub = np.empty(n, dtype=object)
    for kind, p in unit.params.items():
        m = alerts.kind == KINDS.index(kind)
        sub[m] = p["subtype"][alerts.local[m]]
    jd = alerts.cand["jd"]
    # history in the window
    det_row = alerts.alert_of_row >= 0
    cdet = np.concatenate([[0], np.cumsum(det_row)])
    nalert = cdet[alerts.rows + 1] - cdet[alerts.lo]
    # previous observation in the same band
    b = band_row[alerts.rows]
    prev = np.full(n, -1)
    idx = np.arange(len(band_row))
    for bb in range(3):
        last = np.maximum.accumulate(np.where(band_row == bb, idx, -1))
        sel = b == bb
        cand_prev = np.where(alerts.rows[sel] > 0, last[np.maximum(alerts.rows[sel] - 1, 0)], -1)
        prev[sel] = np.where(cand_prev >= alerts.lo[sel], cand_prev, -1)
    has_prev = prev >= 0
    pa = np.where(has_prev, alerts.alert_of_row[np.maximum(prev, 0)], -1)
    from_upper = has_prev & (pa < 0)
    prev_mag = np.where(pa >= 0, alerts.cand["magpsf"][np.maximum(pa, 0)],
                        alerts.eq["diffmaglim"][alerts.eq_of_row[np.maximum(prev, 0)]])
    prev_err = np.where(pa >= 0, alerts.cand["sigmapsf"][np.maximum(pa, 0)], 0.2)
    dt = jd - e.jd[unit.exp[np.maximum(prev, 0)]]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(has_prev & (dt > 0), (alerts.cand["magpsf"] - prev_mag) / dt, np.nan)
        srate = np.where(has_prev & (dt > 0), np.hypot(alerts.cand["sigmapsf"], prev_err) / dt, np.nan)
    # first detection in the window
    nxt = np.minimum.accumulate(np.where(det_row, idx, len(idx))[::-1])[::-1]
    first_row = nxt[alerts.lo]
    jd_first = e.jd[unit.exp[first_row]]
    jdstarthist = alerts.cand["jdstarthist"]
    # classifier scores leaning to the truth
    sn = np.isin(kinds, ["sn_ia", "sn_ii"])
    ia = kinds == "sn_ia"
    rng = unit.rng
    snn_ia = np.where(ia, rng.beta(5, 2, n), np.where(sn, rng.beta(2, 5, n), rng.beta(2, 2, n)))
    snn_sn = np.where(sn, rng.beta(5, 2, n), rng.beta(1, 6, n))
    rf_ia = np.where(nalert >= 3, np.where(ia, rng.beta(5, 2, n), rng.beta(1.5, 5, n)), 0.0)
    rf_kn = np.where(sn & (nalert >= 2), rng.beta(1, 8, n), 0.0)
    micro = kinds == "microlensing"
    mulens = np.where(micro & (nalert >= 3), rng.beta(8, 2, n), 0.0)
    roid = np.where(kinds == "asteroid", 3, 0)
    # cross-matches (per object, stable across its alerts)
    known = u(1) < 0.8
    cds = np.full(n, "Unknown", dtype=object)
    cds[(kinds == "rrlyrae") & known] = "RRLyr"
    cds[(sub == "EW") & known] = "EB*"
    cds[(sub == "ROT") & known] = "RotV*"
    cds[(sub == "QSO") & known] = "QSO"
    cds[(sub == "Seyfert") & known] = "Seyfert_1"
    near_host = alerts.static["galaxy"][o] & (alerts.cand["distnr"] < 1.5)
    cds[sn & near_host & known] = "Galaxy"
    cds[(kinds == "bogus") & (u(2) < 0.7)] = "Star"
    cds[micro & (u(3) < 0.4)] = "Star"
    tns_known = sn & (u(4) < 0.3) & (nalert >= 3)
    tns = np.where(tns_known, np.where(ia, "SN Ia", np.where(sub == "IIP", "SN II", "SN IIL")), "")
    tnsclass = np.where(tns_known, np.char.add("(TNS) ", tns.astype(str)).astype(object), "Unknown")
    gaia = np.isin(kinds, ["rrlyrae", "periodic", "microlensing", "bogus"]) & (alerts.static["maggaia"][o] > 0)
    dr3 = np.where(gaia, np.char.add("Gaia DR3 ", (hashing.hash64(seed, gid, 5) >> np.uint64(2)).astype("U20")), "nan")
    plx = np.where(gaia, 0.05 + 2 * u(6) ** 2, np.nan)
    eplx = np.where(gaia, 0.02 + 0.4 * u(7), np.nan)
    var_flag = (np.isin(kinds, ["rrlyrae", "periodic"]) & gaia & (u(8) < 0.5)).astype(np.int64)
    vsx_map = {"RRab": "RRAB", "RRc": "RRC", "EW": "EW", "ROT": "ROT"}
    vsx = np.array([vsx_map.get(x, "nan") for x in sub], dtype=object)
    vsx = np.where(known & (u(9) < 0.6), vsx, "nan")
    finkclass = np.full(n, "Unknown", dtype=object)
    finkclass[sn] = np.where(ia[sn] & (nalert[sn] <= 3), "Early SN Ia candidate", "SN candidate")
    finkclass[cds != "Unknown"] = cds[cds != "Unknown"]
    finkclass[(mulens > 0.5)] = "Microlensing candidate"
    finkclass[kinds == "asteroid"] = "Solar System MPC"
    anomaly = np.where(nalert >= 3, rng.normal(-0.015, 0.003, n), np.nan)
    t_ingest = jd + (2 + 18 * v(1)) / 1440
    t_start = t_ingest + (1 + 30 * v(2)) / 1440
    t_end = t_start + (60 + 140 * v(3)) / 86400
    dates = np.floor(jd - 2440587.5).astype("datetime64[D]")
    ymd = dates.astype(object)
    cols = {
        "brokerIngestTimestamp": _timestamps(t_ingest), "brokerStartProcessTimestamp": _timestamps(t_start),
        "fink_broker_version": BROKER_VERSION, "fink_science_version": SCIENCE_VERSION,
        "cdsxmatch": cds.astype("S"), "tns": np.asarray(tns).astype("S"), "DR3Name": np.asarray(dr3).astype("S"),
        "Plx": plx, "e_Plx": eplx, "gaiaVarFlag": var_flag, "gaiaClass": "nan", "vsx": vsx.astype("S"),
        "spicy_id": -1, "spicy_class": "Unknown", "gcvs": "Unknown", "x3hsp": "Unknown",
        "x4lac": "Unknown", "mangrove": _MANGROVE_BYTES, "roid": roid,
        "rf_snia_vs_nonia": rf_ia, "snn_snia_vs_nonia": snn_ia, "snn_sn_vs_all": snn_sn,
        "mulens": mulens, "nalerthist": nalert, "rf_kn_vs_nonkn": rf_kn,
        "jd_first_real_det": jd_first, "jdstarthist_dt": jdstarthist - jd_first,
        "mag_rate": rate, "sigma_rate": srate, "lower_rate": rate - 2 * srate,
        "upper_rate": rate + 2 * srate, "delta_time": np.where(has_prev, dt, np.nan),
        "from_upper": from_upper, "blazar_stats": _BLAZAR_BYTES, "is_transient": sn | micro,
        "slsn_score": np.where(sn, 0.02 * rng.random(n), -1.0),
        "brokerEndProcessTimestamp": _timestamps(t_end), "tracklet": None,
        "timestamp": _timestamps(jd), "year": np.array([d.year for d in ymd]),
        "month": np.array([d.month for d in ymd]), "day": np.array([d.day for d in ymd]),
        "finkclass": finkclass.astype("S"), "tnsclass": tnsclass.astype("S"),
    }
    for k in ("anomaly_score", "anomaly_score_beta", "anomaly_score_anais", "anomaly_score_emille",
              "anomaly_score_julien", "anomaly_score_maria", "anomaly_score_emille_30days",
              "anomaly_score_varvara"):
        cols[k] = anomaly if k == "anomaly_score" else anomaly * (1 + 0.1 * rng.normal(size=n))
    for bname, bb in (("g", 0), ("r", 1)):
        stats = _window_stats(alerts, band_row, bb)
        cols[f"lc_features_{bname}"] = {f: stats.get(f, np.full(n, np.nan)) for f in LC_FEATURES}
    cols["t2"] = {k: np.zeros(n) for k in T2_CLASSES}
    return cols


def encode_fink(cols: dict, n: int) -> tuple[bytes, np.ndarray]:
    """Avro bytes of the Fink fields of each alert, in schema order."""
    fields, columns = [], {}
    for name, kind in FINK_FIELDS:
        if kind.startswith("map:"):
            fields.append((name, "raw"))
            columns[name] = cols[name]
        elif kind == "lc_features":
            # a plain (non-union) record: its fields follow one another
            for f in LC_FEATURES:
                key = f"{name}.{f}"
                fields.append((key, "double"))
                columns[key] = cols[name][f]
        else:
            fields.append((name, kind))
            columns[name] = cols[name]
    return encode_records(fields, columns, n)
