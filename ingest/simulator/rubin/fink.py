"""Fink's added values on simulated Rubin alerts, leaning on the ground truth.

As for ZTF (``..fink``), classifier scores are drawn from Beta distributions
that favour the true nature of the object, cross-matches exist for a share of
the objects a catalogue would know (SIMBAD types in SIMBAD's short codes,
Gaia DR3 for stars, Legacy Survey photometric redshifts, TNS names for some
supernovae, Mangrove hosts), and the light-curve features are computed from
the alert's own photometry (``diaSource`` and ``prvDiaSources``, per band, in
nJy).  Of Fink's 26 features, ``mean``, ``weighted_mean``,
``standard_deviation``, ``chi2``, ``mean_variance``, ``amplitude`` and
``linear_fit_slope`` are computed; the others are NaN.  CATS classes are
Fink's broad classes (11 SN-like, 12 fast, 13 long, 21 periodic, 22
non-periodic; -1 unclassified).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import hashing
from ..populations import KINDS
from . import schema, survey
from .sources import _struct

BROKER_VERSION, SCIENCE_VERSION = "4.1", "8.39.0"
CATS = {"sn_ia": 11, "sn_ii": 11, "microlensing": 12, "rrlyrae": 21, "periodic": 21, "agn": 22}
_CATS_ALL = np.array([11, 12, 13, 21, 22])
COMPUTED = ("mean", "weighted_mean", "standard_deviation", "chi2", "mean_variance", "amplitude",
            "linear_fit_slope")


def _utc_strings(mjd_tai: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, trailing zeros of the fraction dropped (as Spark writes)."""
    us = np.round((mjd_tai - survey.TAI_UTC - 40587.0) * 86400e6).astype(np.int64).astype("datetime64[us]")
    s = np.char.replace(np.datetime_as_string(us, unit="us").astype(str), "T", " ")
    s = np.char.rstrip(s, "0")
    return np.char.rstrip(s, ".").astype(object)


def _lc_features(fr, unit, a_rows, lo) -> pa.MapArray:
    """Per band with data: features over the detections of rows [lo, row] of each alert."""
    obj_det = unit.det
    n_rows = len(unit.obj)
    hi = a_rows + 1
    na = len(a_rows)
    w = 1 / fr.flux_err ** 2
    t = fr.mjd
    per_band = []
    for b in range(6):
        sel = obj_det & (fr.band == b)
        run = lambda v: np.concatenate([[0.0], np.cumsum(np.where(sel, v, 0.0))])  # noqa: E731
        s = {k: run(v) for k, v in (("n", np.ones(n_rows)), ("f", fr.flux), ("f2", fr.flux ** 2), ("w", w),
                                    ("wf", w * fr.flux), ("wf2", w * fr.flux ** 2), ("t", t), ("t2", t * t),
                                    ("tf", t * fr.flux))}
        n, sf, sf2, sw, swf, swf2, st, st2, stf = (s[k][hi] - s[k][lo] for k in
                                                    ("n", "f", "f2", "w", "wf", "wf2", "t", "t2", "tf"))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sf / n
            std = np.sqrt(np.maximum(sf2 / n - mean ** 2, 0) * n / (n - 1))
            std = np.where(n > 1, std, np.nan)
            wmean = swf / sw
            chi2 = np.where(n > 1, (swf2 - swf ** 2 / sw) / (n - 1), np.nan)
            slope = np.where(n > 1, (stf - st * sf / n) / (st2 - st ** 2 / n), np.nan)
        feats = {f: np.full(na, np.nan) for f in schema.LC_FEATURES}
        feats.update(mean=mean, weighted_mean=wmean, standard_deviation=std, chi2=chi2,
                     mean_variance=std / mean, linear_fit_slope=slope)
        # amplitude: half the range, from the detections themselves (few per alert)
        amp = np.full(na, np.nan)
        for i in np.flatnonzero(n > 0):
            v = fr.flux[lo[i]:hi[i]][sel[lo[i]:hi[i]]]
            amp[i] = 0.5 * (v.max() - v.min())
        feats["amplitude"] = amp
        per_band.append((n > 0, feats))
    has = np.stack([h for h, _ in per_band], axis=1)                   # (na, 6)
    counts = has.sum(1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    ai, bi = np.nonzero(has)                                           # alert-major order
    keys = pa.array(np.array(list(survey.BANDS), dtype=object)[bi], type=pa.string())
    items = pa.StructArray.from_arrays(
        [pa.array(np.stack([per_band[b][1][f] for b in range(6)], axis=1)[ai, bi], type=pa.float64())
         for f in schema.LC_FEATURES], fields=list(schema.LC_STRUCT))
    typ = schema.alert_schema().field("lc_features").type
    return pa.MapArray.from_arrays(pa.array(offsets), keys, items, type=typ)


def fink_columns(plan, unit, fr, a_rows, lo, dia_object: pa.StructArray) -> dict:
    """Fink's columns for the alerts at unit rows ``a_rows`` (``lo``: first row of each window)."""
    seed = plan.config.seed
    rng = unit.rng
    o = unit.obj[a_rows]
    na = len(a_rows)
    kinds = np.array(KINDS, dtype=object)[unit.kind[o]]
    gid = unit.gid[o]
    u = lambda salt: hashing.uniform(seed, gid, 7300 + salt)  # noqa: E731  per object
    sub = np.empty(na, dtype=object)
    for kind, p in unit.params.items():
        m = unit.kind[o] == KINDS.index(kind)
        sub[m] = p["subtype"][unit.local[o[m]]]
    sn = np.isin(kinds, ["sn_ia", "sn_ii"])
    ia = kinds == "sn_ia"
    ast = kinds == "asteroid"
    ndia = dia_object.field("nDiaSources").to_numpy(zero_copy_only=False)
    ndia = np.where(ast, 1, np.nan_to_num(ndia.astype(float), nan=1)).astype(int)
    # classifiers
    truth_cats = np.array([CATS.get(k, -1) for k in kinds])
    wrong = (u(1) < 0.15) | (kinds == "bogus")
    cats = np.where(wrong, _CATS_ALL[(u(2) * 5).astype(int) % 5], truth_cats)
    cats = np.where(ast, -1, cats)
    cats_score = np.where(ast, 0.0, np.where(wrong, rng.beta(2, 3, na), rng.beta(6, 1.5, na)))
    snn = np.where(sn, rng.beta(5, 2, na), rng.beta(1.5, 5, na))
    early = sn & (ndia <= 3)
    early_score = np.where(early, np.where(ia, rng.beta(5, 2, na), rng.beta(2, 5, na)), -1.0)
    # cross-matches, per object
    otype = np.full(na, None, dtype=object)
    known = u(3) < 0.7
    otype[(kinds == "rrlyrae") & known] = "RR*"
    otype[(sub == "EW") & known] = "EB*"
    otype[(sub == "ROT") & known] = "Ro*"
    otype[(sub == "QSO") & known] = "QSO"
    otype[(sub == "Seyfert") & known] = "Sy1"
    otype[sn & (u(4) < 0.3)] = "G"
    otype[(kinds == "microlensing") & (u(5) < 0.3)] = "*"
    otype[(kinds == "bogus") & (u(6) < 0.5)] = "*"
    star = np.isin(kinds, ["rrlyrae", "periodic", "microlensing", "bogus"])
    gaia = star & (u(7) < 0.85)
    source_id = (hashing.hash64(seed, gid, 7399) >> np.uint64(2)).astype("U20")
    dr3 = np.where(gaia, np.char.add("Gaia DR3 ", source_id), None)
    variable = np.isin(kinds, ["rrlyrae", "periodic"]) & gaia & (u(8) < 0.6)
    legacy = ~ast & (u(9) < 0.85)
    zt = np.full(na, 0.0)
    for kind in ("sn_ia", "sn_ii", "agn"):
        if kind in unit.params:
            m = kinds == kind
            zt[m] = unit.params[kind]["z"][unit.local[o[m]]]
    zphot = np.where(star, 0.0, np.abs(zt + 0.05 * (1 + zt) * (u(10) - 0.5) * 4))
    tns = sn & (u(11) < 0.3) & (ndia >= 3)
    tns_name = np.array([f"{'SN' if t else 'AT'} 2026{_letters(int(g))}" for t, g in zip(tns, gid)], dtype=object)
    tns_type = np.where(tns, np.where(ia, "SN Ia", np.where(sub == "IIP", "SN II", "SN IIL")), None)
    mangrove = sn & (zt < 0.05) & (u(12) < 0.4)
    vsx = np.array([{"RRab": "RRAB", "RRc": "RRC", "EW": "EW", "ROT": "ROT"}.get(s) for s in sub], dtype=object)
    vsx = np.where(known & (u(13) < 0.6), vsx, None)
    nul = lambda v, ok, typ: pa.array(np.where(ok, v, None), type=typ)  # noqa: E731
    xm = {
        "simbad_otype": pa.array(otype, type=pa.string()), "gaiadr3_DR3Name": pa.array(dr3, type=pa.string()),
        "gaiadr3_Plx": nul(0.05 + 2 * u(14) ** 2, gaia, pa.float32()),
        "gaiadr3_e_Plx": nul(0.02 + 0.5 * u(15), gaia, pa.float32()),
        "gaiadr3_VarFlag": variable.astype(np.int32),
        "legacydr8_zphot": nul(zphot, legacy, pa.float32()),
        "legacydr8_e_zphot": nul(0.02 + 0.3 * u(16), legacy, pa.float32()),
        "legacydr8_pstar": nul(np.where(star, 0.9 + 0.1 * u(17), 0.05 * u(17)), legacy, pa.float32()),
        "legacydr8_fqual": nul(np.zeros(na, np.int32), legacy, pa.int32()),
        "tns_fullname": nul(tns_name, tns, pa.string()), "tns_type": pa.array(tns_type, type=pa.string()),
        "tns_redshift": nul(zt, tns & (u(18) < 0.5), pa.float32()),
        "vsx_Type": pa.array(vsx, type=pa.string()),
        "gcvs_type": pa.array(np.where(u(19) < 0.3, vsx, None), type=pa.string()),
        "mangrove_HyperLEDA_name": nul(np.char.add("PGC", (100000 + 900000 * u(20)).astype(int).astype(str)),
                                       mangrove, pa.string()),
        "mangrove_2MASS_name": nul(np.char.add("2MASX J", (10**7 * u(21)).astype(int).astype(str)),
                                   mangrove, pa.string()),
        "mangrove_lum_dist": nul(4283 * zt * (1 + zt / 2), mangrove, pa.float32()),
        "mangrove_ang_dist": nul(1 + 10 * u(22), mangrove, pa.float32()),
    }
    cataloged = ~ast & ((otype != None) | gaia)  # noqa: E711
    mjd = fr.mjd[a_rows]
    first = np.minimum.accumulate(np.where(unit.det, np.arange(len(unit.obj)), len(unit.obj))[::-1])[::-1]
    first_mjd = fr.mjd[np.minimum(first[lo], a_rows)]
    ingest = mjd + (2.4 + 1.2 * rng.random(na)) / 1440
    start = ingest + (0.5 + 2 * rng.random(na)) / 1440
    end = start + (60 + 60 * rng.random(na)) / 86400
    stamp = _utc_strings(mjd)
    ymd = np.array([s[:10] for s in stamp])
    return {
        "brokerIngestMjd": ingest, "lsst_schema_version": schema.SCHEMA_VERSION,
        "brokerStartProcessTimestamp": _utc_strings(start), "fink_broker_version": BROKER_VERSION,
        "fink_science_version": SCIENCE_VERSION, "publisher": "Fink",
        "lc_features": _lc_features(fr, unit, a_rows, lo),
        "clf": _struct(schema.CLF, {"snnSnVsOthers_score": snn, "cats_class": cats, "cats_score": cats_score,
                                    "earlySNIa_score": early_score}, na),
        "xm": _struct(schema.XM, xm, na),
        "pred": _struct(schema.PRED, {"is_sso": ast, "is_first": pa.array(np.where(ast, None, ndia == 1),
                                                                          type=pa.bool_()),
                                      "is_cataloged": cataloged, "main_label_classifier": cats,
                                      "main_label_crossmatch": pa.array(otype, type=pa.string())}, na),
        "misc": _struct(schema.MISC, {"firstDiaSourceMjdTaiFink": first_mjd}, na),
        "brokerEndProcessTimestamp": _utc_strings(end), "timestamp": stamp,
        "year": np.array([int(s[:4]) for s in ymd]), "month": np.array([int(s[5:7]) for s in ymd]),
        "day": np.array([int(s[8:10]) for s in ymd]),
        "tns_type_recomputed": np.where(tns, tns_type, "Unknown"),
    }


def _letters(g: int) -> str:
    s = ""
    g = g % (26 ** 3)
    for _ in range(3):
        s = "abcdefghijklmnopqrstuvwxyz"[g % 26] + s
        g //= 26
    return s
