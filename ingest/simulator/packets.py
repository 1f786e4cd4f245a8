"""From observations to ZTF packet contents: every candidate field of every alert.

``build_alerts`` takes an observed work unit and returns an ``Alerts`` set:
one row per detection (sorted by ``candid``, i.e. by time) with all the
``candidate`` columns, the matching ``prv_candidates`` columns, the history of
each alert (the rows of the same object in the 30 previous days) and the
per-(exposure, quadrant) values shared by all objects of an exposure (pid,
zero points, file names), which also make up the non-detection entries.

Numbers follow ZTF's conventions: ``nid`` counts days since 2017-01-01,
``pid = nid * 1e9 + day_fraction * 1e5 * 1e4 + rcid * 100 + 15`` and
``candid = pid * 1e6 + 15000 + tblid``, hence increasing with time and unique
(tblid is the object's index within its quadrant); objectIds are 'ZTF' + the
two-digit year of the first detection + 7 lower-case letters, a bijection of
the object's global index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import hashing, photometry, sky
from .cadence import BAND_NAMES
from .observe import PRV_WINDOW, Unit, persistent_history
from .plan import Plan
from .populations import KINDS, ZTF_START_JD

STAR_KINDS = frozenset({"rrlyrae", "periodic", "microlensing", "bogus"})
_LETTERS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_ID_SPACE = 26 ** 6
_ID_MULT = 48271 * 3  # coprime with 26


def object_ids(gid: np.ndarray, year: np.ndarray, seed: int) -> np.ndarray:
    """ZTF-style objectIds: 'ZTF' + yy + 'a' + 6 letters, unique per global index."""
    x = (gid.astype(np.int64) * _ID_MULT + (seed * 7919 + 12345)) % _ID_SPACE
    digits = np.empty((len(x), 6), dtype=np.uint8)
    for k in range(5, -1, -1):
        digits[:, k] = _LETTERS[x % 26]
        x //= 26
    letters = digits.view("S6").ravel().astype("U6")
    yy = np.char.zfill((year % 100).astype("U2"), 2)
    return np.char.add(np.char.add(np.char.add("ZTF", yy), "a"), letters).astype(object)


def _years(jd: np.ndarray) -> np.ndarray:
    days = np.floor(jd - 2440587.5).astype("datetime64[D]")
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


@dataclass
class Alerts:
    """Everything needed to write the alerts of one unit."""

    n: int
    rows: np.ndarray          # unit row of each alert (alerts sorted by candid)
    lo: np.ndarray            # first row of each alert's 30-day history
    night: np.ndarray         # night index of each alert
    cand: dict                # candidate column name -> array (or scalar)
    prv_det: dict             # prv columns of each alert's own detection
    eq: dict                  # per (exposure, quadrant) columns
    eq_of_row: np.ndarray     # unit row -> eq index
    alert_of_row: np.ndarray  # unit row -> alert index (-1 for non-detections)
    objectId: np.ndarray      # per alert
    obj_objectId: np.ndarray  # per unit object
    truth_n_alerts: np.ndarray
    first_alert_jd: np.ndarray
    last_alert_jd: np.ndarray
    jdstarthist_obj: np.ndarray
    kind: np.ndarray          # kind index per alert
    local: np.ndarray         # index in the kind's params per alert
    obs: np.ndarray           # noisy difference flux per alert
    sigma: np.ndarray
    true_mag: np.ndarray      # model (apparent) magnitude per alert, for checks
    static: dict              # per-object catalogue context (see static_sources)


def eq_table(plan: Plan, unit: Unit):
    """Per (exposure, rcid) values; returns (columns, index of each unit row)."""
    seed = plan.config.seed
    key = unit.exp * 64 + unit.rcid[unit.obj]
    uniq, inv = np.unique(key, return_inverse=True)
    exp, rcid = uniq // 64, uniq % 64
    e = plan.exposures
    band = e.fid[exp] - 1
    u = lambda salt: hashing.uniform(seed, exp, rcid, salt)  # noqa: E731
    frac = e.frac[exp]
    frac5 = np.floor(frac * 1e5).astype(np.int64)
    frac6 = np.floor(frac * 1e6).astype(np.int64)
    pid = e.nid[exp] * 10**9 + frac5 * 10**4 + rcid * 100 + 15
    dates = [plan.nights.dates[n] for n in e.night[exp]]
    ccd, quad = rcid // 4 + 1, rcid % 4 + 1
    base = [f"ztf_{d:%Y%m%d}{f6:06d}_{fld:06d}_z{BAND_NAMES[b]}_c{c:02d}_o_q{q}_scimrefdiffimg"
            for d, f6, fld, b, c, q in zip(dates, frac6, e.field[exp], band, ccd, quad)]
    fname = np.array([s + ".fits" for s in base], dtype="S")
    prvname = np.array([f"/ztf/archive/sci/{d:%Y}/{d:%m%d}/{f6:06d}/{s}.fits.fz"
                        for d, f6, s in zip(dates, frac6, base)], dtype="S")
    clr = np.array([-0.05, 0.08, 0.02])[band] + 0.02 * hashing.normal(seed, exp, rcid, 7)
    clrcounc = 2e-6 * np.exp(3 * u(8))
    cols = {
        "jd": e.jd[exp], "fid": e.fid[exp], "pid": pid, "nid": e.nid[exp], "field": e.field[exp],
        "rcid": rcid, "diffmaglim": e.maglim[exp] + plan.qoff_lim[rcid],
        "magzpsci": e.magzp[exp] + plan.qoff_zp[rcid], "magzpsciunc": 1e-6 * np.exp(3 * u(1)),
        "magzpscirms": 0.013 + 0.04 * u(2), "clrcoeff": clr, "clrcounc": clrcounc,
        "zpclrcov": -clrcounc * (0.5 + 0.5 * u(3)), "clrmed": np.array([0.6, 0.55, 0.3])[band] +
        0.15 * u(4), "clrrms": 0.12 + 0.22 * u(5), "nmatches": (200 + 2000 * u(6)).astype(np.int64),
        "pdiffimfilename": fname, "prv_pdiffimfilename": prvname, "seeing": e.seeing[exp],
        "exp": exp, "night": e.night[exp], "frac": frac,
    }
    cols["zpmed"] = cols["magzpsci"] + 0.02 + 0.02 * hashing.normal(seed, exp, rcid, 9)
    return cols, inv


def _reference_images(seed, field, rcid, fid):
    u = lambda salt: hashing.uniform(seed, field, rcid, fid, salt)  # noqa: E731
    start = 2458150.0 + 250 * u(1)
    return {"rfid": field * 10**6 + 120000 + fid * 100 + rcid, "jdstartref": start,
            "jdendref": start + 20 + 200 * u(2), "nframesref": (15 + 25 * u(3) ** 3).astype(np.int64),
            "ref_fwhm": 1.8 + 0.4 * u(4)}


def _ps1_objid(ra, dec):
    zh = np.floor((dec + 90.0) * 120).astype(np.int64)
    return zh * 10**13 + np.floor(ra * 1e6).astype(np.int64) * 10**4 + \
        (np.floor(np.mod(dec * 3.6e6, 1e4))).astype(np.int64)


def static_sources(plan: Plan, unit: Unit) -> dict:
    """What catalogues know around each object: reference source, PS1, Gaia."""
    n = unit.n_objects
    rng = unit.rng
    kinds = np.array(KINDS, dtype=object)[unit.kind]
    magnr = np.zeros((n, 3))
    distnr = np.zeros(n)
    for kind, p in unit.params.items():
        m = unit.kind == KINDS.index(kind)
        magnr[m] = p["magnr"][unit.local[m]]
        distnr[m] = p["distnr"][unit.local[m]]
    galaxy = np.zeros(n, bool)
    for kind in ("sn_ia", "sn_ii"):
        if kind in unit.params:
            m = unit.kind == KINDS.index(kind)
            galaxy[m] = unit.params[kind]["ref_is_galaxy"][unit.local[m]]
    star = np.isin(kinds, list(STAR_KINDS))
    agn = kinds == "agn"
    pa = rng.uniform(0, 2 * np.pi, n)
    ranr, decnr = sky.offset_position(unit.ra, unit.dec, distnr, pa)
    s = {"magnr": np.round(magnr, 3), "distnr": distnr, "ref_pa": pa, "ranr": ranr, "decnr": decnr}
    s["sigmagnr"] = np.clip(0.008 + 0.05 * 10 ** (0.4 * (magnr - 21.0)), 0.008, 0.4)
    s["chinr"] = np.where(galaxy, rng.uniform(1.0, 8.0, n), rng.lognormal(np.log(0.7), 0.4, n))
    s["sharpnr"] = np.where(galaxy, rng.uniform(0.1, 0.8, n), rng.normal(0, 0.05, n))
    s["ref_sgscore"] = np.select([galaxy, agn, star], [rng.uniform(0, 0.2, n), rng.uniform(0.3, 0.9, n),
                                                       rng.uniform(0.9, 1.0, n)], rng.uniform(0, 1, n))
    # PS1: the three nearest sources (the reference source first if PS1 sees it)
    d = np.sort(rng.uniform(1.5, 30.0, (n, 3)), axis=1)
    nb = np.stack([rng.uniform(16, 22.5, n)] * 3, 1) + rng.normal(0, 0.8, (n, 3))
    seen = (magnr[:, 1] < 22.5) & (kinds != "asteroid")
    d[:, 0] = np.where(seen, distnr, d[:, 0])
    exists = rng.random((n, 3)) < np.array([1.0, 0.95, 0.9])
    exists[:, 0] |= seen
    for j in range(3):
        pa_j = rng.uniform(0, 2 * np.pi, n)
        ra_j, dec_j = sky.offset_position(unit.ra, unit.dec, d[:, j], pa_j)
        r = np.where(seen, magnr[:, 1], nb[:, j]) if j == 0 else nb[:, j]
        g = np.where(seen, magnr[:, 0], r + 0.6) if j == 0 else r + rng.uniform(0.2, 1.2, n)
        i = np.where(seen, magnr[:, 2], r - 0.25) if j == 0 else r - rng.uniform(0.1, 0.5, n)
        z = i - rng.uniform(0.0, 0.3, n)
        sg = np.where(seen, s["ref_sgscore"], rng.uniform(0, 1, n)) if j == 0 else rng.uniform(0, 1, n)
        ok = exists[:, j]
        k = j + 1
        for name, v in ((f"sgmag{k}", g), (f"srmag{k}", r), (f"simag{k}", i), (f"szmag{k}", z)):
            s[name] = np.where(ok & (v < 23.3), v, -999.0)
        s[f"sgscore{k}"] = np.where(ok, sg, -999.0)
        s[f"distpsnr{k}"] = np.where(ok, d[:, j], -999.0)
        s[f"objectidps{k}"] = np.where(ok, _ps1_objid(ra_j, dec_j), -999)
    s["nmtchps"] = exists.sum(1) + rng.poisson(8, n)
    g_mag = magnr[:, 1] - 0.1
    gaia_star = (star | agn) & (g_mag < 20.8)
    s["neargaia"] = np.where(gaia_star, distnr, np.where(rng.random(n) < 0.3, 300.0, rng.uniform(2, 60, n)))
    s["maggaia"] = np.where(gaia_star, g_mag, np.where(s["neargaia"] == 300.0, -999.0, rng.uniform(17, 20.8, n)))
    bright = (kinds == "bogus") & (g_mag < 14)
    other_bright = rng.random(n) < 0.15
    s["neargaiabright"] = np.where(bright, distnr, np.where(other_bright, rng.uniform(20, 90, n), -999.0))
    s["maggaiabright"] = np.where(bright, g_mag, np.where(other_bright, rng.uniform(10.5, 14, n), -999.0))
    s["kinds"] = kinds
    s["galaxy"] = galaxy
    return s


def build_alerts(plan: Plan, unit: Unit) -> Alerts:
    cfg = plan.config
    rng = unit.rng
    e = plan.exposures
    det_rows = np.flatnonzero(unit.det)
    eq, eq_of_row = eq_table(plan, unit)
    s = static_sources(plan, unit)
    n_obj = unit.n_objects
    obj = unit.obj
    # ---- per-object history
    pre_ndet, pre_ncov, pre_start = persistent_history(unit, plan.ctx.t_first)
    cov_start = np.where(pre_ndet > 0, pre_start, ZTF_START_JD + 400 * rng.random(n_obj))
    pre_ncov = np.where(pre_ndet > 0, pre_ncov, rng.poisson((plan.ctx.t_first - cov_start) * 0.5))
    t_row = e.jd[unit.exp]
    first_det = np.full(n_obj, np.nan)
    last_det = np.full(n_obj, np.nan)
    det_obj = obj[det_rows]
    u_obj, first_idx = np.unique(det_obj, return_index=True)
    first_det[u_obj] = t_row[det_rows[first_idx]]
    last_idx = len(det_obj) - 1 - np.unique(det_obj[::-1], return_index=True)[1]
    last_det[u_obj] = t_row[det_rows[last_idx]]
    n_alerts = np.bincount(det_obj, minlength=n_obj)
    jdstarthist = np.where(pre_ndet > 0, pre_start, first_det)
    year = _years(np.where(np.isnan(jdstarthist), plan.ctx.t_first, jdstarthist))
    ids = object_ids(unit.gid, year, cfg.seed)
    # ---- alerts, sorted by candid (time, then quadrant, then tblid)
    rows = det_rows
    ceq = eq_of_row[rows]
    o = obj[rows]
    tblid = unit.tblid[o]
    candid = eq["pid"][ceq] * 10**6 + 15000 + tblid
    order = np.argsort(candid, kind="stable")
    rows, ceq, o, tblid, candid = rows[order], ceq[order], o[order], tblid[order], candid[order]
    na = len(rows)
    key = obj * 1e5 + (t_row - plan.ctx.t_first)
    lo = np.searchsorted(key, key[rows] - PRV_WINDOW, side="left")
    cum = np.cumsum(unit.det)
    obj_start = np.searchsorted(obj, np.arange(n_obj), side="left")
    # detections of the objects before each one (a unit no exposure covered has none)
    det_before_obj = np.where(obj_start > 0, cum[np.maximum(obj_start - 1, 0)], 0) if len(cum) \
        else np.zeros(n_obj, dtype=np.int64)
    ndethist = pre_ndet[o] + cum[rows] - det_before_obj[o]
    ncovhist = pre_ncov[o] + unit.jpos[rows] + 1
    band = e.fid[unit.exp[rows]] - 1
    obs, sigma = unit.df_obs[rows], unit.sigma[rows]
    magpsf, sigmapsf, positive = photometry.magnitudes(obs, sigma)
    snr = np.abs(obs) / sigma
    kinds = s["kinds"][o]
    bogus = kinds == "bogus"
    asteroid = kinds == "asteroid"
    seeing = eq["seeing"][ceq]
    fwhm = seeing / sky.PIXSCALE * rng.uniform(0.95, 1.1, na)
    ast_sig = np.hypot(0.06, 0.5 * seeing / np.maximum(snr, 1)) / 3600
    dra = rng.normal(0, 1, na) * ast_sig
    ddec = rng.normal(0, 1, na) * ast_sig
    ra = np.mod(unit.ra[o] + dra / np.cos(np.radians(unit.dec[o])), 360.0)
    dec = unit.dec[o] + ddec
    field, rcid = unit.field[o], unit.rcid[o]
    xpos, ypos, edge = sky.pixel_position(field, rcid, ra, dec)
    # distance to the reference source, as measured on this detection
    dn = s["distnr"][o]
    pa = s["ref_pa"][o]
    dx = dn * np.sin(pa) - dra * np.cos(np.radians(dec)) * 3600
    dy = dn * np.cos(pa) - ddec * 3600
    distnr = np.hypot(dx, dy)
    ref = _reference_images(cfg.seed, field, rcid, band + 1)
    elong = np.where(bogus, rng.uniform(1.2, 3.0, na), 1 + np.abs(rng.normal(0, 0.1, na)))
    aimage = 0.335 * fwhm * rng.uniform(0.9, 1.1, na) * np.sqrt(elong)
    bimage = aimage / elong
    magap = magpsf + rng.normal(0, 1, na) * sigmapsf + 0.02
    magapbig = magpsf + rng.normal(0, 1.3, na) * sigmapsf - 0.02
    ssnrms = rng.lognormal(np.log(25), 0.6, na)
    dsnrms = ssnrms * rng.uniform(0.3, 0.8, na)
    ss_name = np.full(na, "null", dtype=object)
    ss_dist = np.full(na, -999.0)
    ss_mag = np.full(na, -999.0)
    if asteroid.any():
        p = unit.params["asteroid"]
        li = unit.local[o[asteroid]]
        ss_name[asteroid] = p["ssnamenr"][li]
        ss_dist[asteroid] = p["ssdistnr"][li]
        ss_mag[asteroid] = np.round(magpsf[asteroid] + p["ssmag_offset"][li], 1)
    diffmaglim = eq["diffmaglim"][ceq]
    magnr = s["magnr"][o, band]
    rb = np.where(bogus, 0.7 * rng.beta(2, 4, na), 0.55 + 0.43 * rng.beta(5, 1.8, na))
    drb = np.where(bogus, rng.beta(0.6, 5, na), 1 - 0.5 * rng.beta(0.4, 6, na))
    cand = {
        "jd": eq["jd"][ceq], "fid": band + 1, "pid": eq["pid"][ceq], "diffmaglim": diffmaglim,
        "pdiffimfilename": eq["pdiffimfilename"][ceq], "programpi": "Kulkarni", "programid": 1,
        "candid": candid, "isdiffpos": np.where(positive, b"t", b"f"), "tblid": tblid,
        "nid": eq["nid"][ceq], "rcid": rcid, "field": field, "xpos": xpos, "ypos": ypos,
        "ra": ra, "dec": dec, "magpsf": magpsf, "sigmapsf": sigmapsf,
        "chipsf": rng.lognormal(np.log(1.8), 0.6, na) * np.where(bogus, 10, 1),
        "magap": magap, "sigmagap": 1.3 * sigmapsf + 0.005, "distnr": distnr, "magnr": magnr,
        "sigmagnr": s["sigmagnr"][o, band], "chinr": s["chinr"][o], "sharpnr": s["sharpnr"][o],
        "sky": rng.normal(0, 0.8, na), "magdiff": magap - magpsf, "fwhm": fwhm,
        "classtar": np.where(bogus, rng.uniform(0, 0.8, na), np.clip(rng.normal(0.97, 0.03, na), 0, 1)),
        "mindtoedge": edge, "magfromlim": diffmaglim - magap,
        "seeratio": np.minimum(seeing / ref["ref_fwhm"], 2.0), "aimage": aimage, "bimage": bimage,
        "aimagerat": aimage / fwhm, "bimagerat": bimage / fwhm, "elong": elong,
        "nneg": np.where(bogus, rng.integers(8, 30, na), rng.poisson(3.5, na)),
        "nbad": np.where(bogus, rng.poisson(1.5, na), 0), "rb": rb,
        "ssdistnr": ss_dist, "ssmagnr": ss_mag, "ssnamenr": ss_name.astype("S"),
        "sumrat": np.where(bogus, rng.uniform(0.4, 0.9, na), 1 - 0.1 * rng.beta(1, 4, na)),
        "magapbig": magapbig, "sigmagapbig": 1.6 * sigmapsf + 0.005,
        "ranr": s["ranr"][o], "decnr": s["decnr"][o],
        "ndethist": ndethist, "ncovhist": ncovhist, "jdstarthist": jdstarthist[o],
        "jdendhist": eq["jd"][ceq], "scorr": snr * rng.uniform(1.0, 1.1, na), "tooflag": 0,
        "rfid": ref["rfid"], "jdstartref": ref["jdstartref"], "jdendref": ref["jdendref"],
        "nframesref": ref["nframesref"], "rbversion": "t17_f5_c3", "dsnrms": dsnrms,
        "ssnrms": ssnrms, "dsdiff": dsnrms - ssnrms,
        "magzpsci": eq["magzpsci"][ceq], "magzpsciunc": eq["magzpsciunc"][ceq],
        "magzpscirms": eq["magzpscirms"][ceq], "nmatches": eq["nmatches"][ceq],
        "clrcoeff": eq["clrcoeff"][ceq], "clrcounc": eq["clrcounc"][ceq],
        "zpclrcov": eq["zpclrcov"][ceq], "zpmed": eq["zpmed"][ceq], "clrmed": eq["clrmed"][ceq],
        "clrrms": eq["clrrms"][ceq], "exptime": 30.0, "drb": drb, "drbversion": "d6_m7",
    }
    for k in ("sgmag", "srmag", "simag", "szmag", "sgscore", "distpsnr", "objectidps"):
        for j in (1, 2, 3):
            cand[f"{k}{j}"] = s[f"{k}{j}"][o]
    for k in ("neargaia", "neargaiabright", "maggaia", "maggaiabright", "nmtchps"):
        cand[k] = s[k][o]
    prv_det = dict(cand)
    prv_det["pdiffimfilename"] = eq["prv_pdiffimfilename"][ceq]
    for k in ("ssdistnr", "ssmagnr", "ssnamenr"):
        prv_det[k] = None
    alert_of_row = np.full(len(obj), -1, dtype=np.int64)
    alert_of_row[rows] = np.arange(na)
    # true model magnitude of the varying source, for ground-truth checks
    f_true = 10 ** (-0.4 * (magnr - 25)) + unit.df_true[rows]
    transient = np.isin(kinds, ["sn_ia", "sn_ii", "asteroid", "bogus"])
    with np.errstate(invalid="ignore", divide="ignore"):
        true_mag = np.where(transient, 25 - 2.5 * np.log10(np.abs(unit.df_true[rows])),
                            25 - 2.5 * np.log10(f_true))
    return Alerts(na, rows, lo, eq["night"][ceq], cand, prv_det, eq, eq_of_row, alert_of_row,
                  ids[o], ids, n_alerts, first_det, last_det, jdstarthist, unit.kind[o],
                  unit.local[o], obs, sigma, true_mag, s)


__all__ = ["Alerts", "build_alerts", "object_ids"]
