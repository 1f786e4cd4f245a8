"""All the photometry of an object for a fit: alerts, earlier detections, forced photometry.

A fit is only as good as the points it gets. An alert packet carries the object's earlier
detections (ZTF's ``prv_candidates``) and a survey may also measure the object where it
was not detected (forced photometry); all of it goes into one light curve here, each point
labelled with its ``kind``:

- ``alert``: the detections that were alerts;
- ``history``: earlier detections from the alerts' history, not alerts themselves (Fink's
  "bad quality" rows: most are good detections that were not kept as alerts). Their real/bogus
  score decides whether they are used (:func:`history_mask`: ``none``, ``good`` for
  ``rb >= 0.55``, ``all``);
- ``forced``: forced photometry, a difference flux at every visit, detected or not
  (:func:`forced_points`);
- ``detection``: a survey's detections where alerts and their history are not told apart
  (Rubin's diaSources, ``api.queries.rubin.fits``).

Each part is a dict of equal-length arrays (:data:`COLUMNS`); :func:`combine` joins them
in time order and keeps one point per time and band, the first part's (alerts win).
"""
from __future__ import annotations

import numpy as np

from science.inputs import as_float
from science.photometry import dc_mag, has_source_behind

KINDS = ("alert", "history", "forced", "detection")
HISTORY_CHOICES = ("none", "good", "all")
GOOD_RB = 0.55              # Fink's real/bogus cut for a good ZTF detection
MIN_FORCED_SNR = 3.0        # a forced difference flux below it has no useful difference magnitude
MAG_PER_LN = 2.5 / np.log(10.0)
#: the arrays of every part (see :func:`detections` for their meaning)
COLUMNS = ("jd", "mag", "err", "band", "is_dc", "diffmag", "differr", "magnr", "meas_err", "kind")


def history_mask(rb, choice: str) -> np.ndarray:
    """Which earlier detections a fit uses: ``none``, ``good`` (real/bogus score ``rb`` at
    least 0.55; a missing score is not good) or ``all``."""
    rb = as_float("rb", rb)
    if choice not in HISTORY_CHOICES:
        raise ValueError(f"history must be one of {HISTORY_CHOICES}, got {choice!r}")
    if choice == "none":
        return np.zeros(len(rb), dtype=bool)
    if choice == "all":
        return np.ones(len(rb), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.isfinite(rb) & (rb >= GOOD_RB)


def detections(jd, magpsf, sigmapsf, fid, magnr, sigmagnr, isdiffpos, distnr, kind: str) -> dict:
    """A part from ZTF detections (alerts or earlier ones): DC magnitudes where a source
    sits behind the transient (within 1.5", with a reference magnitude), else difference.

    ``diffmag``/``differr`` are the difference photometry, ``magnr`` the reference magnitude
    where a source is behind (else NaN) and ``meas_err`` the error of ``mag`` from the
    difference photometry alone (the reference's error is common to all points).
    """
    jd, magpsf, sigmapsf = as_float("jd", jd), as_float("magpsf", magpsf), as_float("sigmapsf", sigmapsf)
    magnr, sigmagnr, distnr = as_float("magnr", magnr), as_float("sigmagnr", sigmagnr), as_float("distnr", distnr)
    mag, err = dc_mag(magpsf, sigmapsf, magnr, sigmagnr, list(isdiffpos), distnr)
    mag, err = np.asarray(mag, dtype=float), np.asarray(err, dtype=float)
    behind = np.broadcast_to(has_source_behind(distnr, magnr), mag.shape)
    # sigma(F) = sigmapsf |dF| / 1.0857 of the difference flux, as a magnitude error of F
    with np.errstate(invalid="ignore", over="ignore"):
        meas_err = np.where(behind, sigmapsf * 10 ** (-0.4 * (magpsf - mag)), sigmapsf)
    return {"jd": jd, "mag": mag, "err": err, "band": as_float("fid", fid).astype(int), "is_dc": behind.copy(),
            "diffmag": magpsf, "differr": sigmapsf, "magnr": np.where(behind, magnr, np.nan),
            "meas_err": meas_err, "kind": np.full(len(jd), kind)}


def forced_points(frame, ref_mag: dict | None = None) -> dict:
    """A part from forced photometry: a table (a pandas DataFrame or a dict of arrays) with
    ``jd``, ``band``, ``flux``, ``flux_err`` (the difference flux and its error) and ``zp``
    (the AB zero point of that flux: m = zp - 2.5 log10 flux), optionally ``procstatus``
    (rows whose status is not 0 are left out).

    With the band's reference magnitude (``ref_mag`` {band: mag}, e.g. the alerts' ``magnr``)
    a point gets a DC magnitude from reference + difference flux, noise or not, which is how
    forced photometry shows the baseline of a variable or lensed star. Its difference
    magnitude (what the supernova fit takes) exists where the difference flux is at least
    3 sigma above zero.
    """
    cols = {c: frame[c] for c in ("jd", "band", "flux", "flux_err", "zp")}
    jd, flux = as_float("jd", cols["jd"]), as_float("flux", cols["flux"])
    ferr, zp = as_float("flux_err", cols["flux_err"]), as_float("zp", cols["zp"])
    band = np.asarray(cols["band"])
    ok = np.isfinite(jd) & np.isfinite(flux) & np.isfinite(ferr) & (ferr > 0) & np.isfinite(zp)
    if "procstatus" in getattr(frame, "columns", frame):
        status = np.asarray([str(s).strip() for s in np.asarray(frame["procstatus"])])
        ok &= np.isin(status, ("0", "0.0"))
    jd, flux, ferr, zp, band = jd[ok], flux[ok], ferr[ok], zp[ok], band[ok]
    ref = np.array([np.nan if (ref_mag or {}).get(b) is None else float(ref_mag[b]) for b in band.tolist()])
    ref_flux = 10 ** (-0.4 * (ref - zp))
    total = ref_flux + flux
    with np.errstate(invalid="ignore", divide="ignore"):
        dc = np.where(total > 0, zp - 2.5 * np.log10(np.where(total > 0, total, 1.0)), np.nan)
        dc_err = np.where(total > 0, MAG_PER_LN * ferr / total, np.nan)
        detected = flux >= MIN_FORCED_SNR * ferr
        diffmag = np.where(detected, zp - 2.5 * np.log10(np.where(flux > 0, flux, 1.0)), np.nan)
        differr = np.where(detected, MAG_PER_LN * ferr / np.where(flux > 0, flux, 1.0), np.nan)
    behind = np.isfinite(ref)
    return {"jd": jd, "mag": np.where(behind, dc, diffmag), "err": np.where(behind, dc_err, differr),
            "band": band, "is_dc": behind, "diffmag": diffmag, "differr": differr,
            "magnr": np.where(behind, ref, np.nan), "meas_err": np.where(behind, dc_err, differr),
            "kind": np.full(len(jd), "forced")}


def reference_mags(part: dict) -> dict:
    """{band: median reference magnitude} of the points of ``part`` with a source behind."""
    magnr, band = np.asarray(part["magnr"], dtype=float), np.asarray(part["band"])
    return {b: float(np.median(magnr[(band == b) & np.isfinite(magnr)]))
            for b in np.unique(band).tolist() if np.any((band == b) & np.isfinite(magnr))}


def combine(*parts: dict) -> dict:
    """One light curve from parts, in time order; a time and band seen in an earlier part
    (to 1e-5 day) is not taken again from a later one."""
    parts = [p for p in parts if p is not None and len(p["jd"])]
    if not parts:
        return {c: np.array([], dtype=str if c == "kind" else float) for c in COLUMNS}
    seen: set = set()
    kept = []
    for p in parts:
        keys = [(round(float(t), 5), str(b)) for t, b in zip(np.asarray(p["jd"]).tolist(),
                                                            np.asarray(p["band"]).tolist(), strict=True)]
        new = np.array([k not in seen for k in keys], dtype=bool)
        seen.update(keys)
        kept.append({c: np.asarray(p[c])[new] for c in COLUMNS})
    out = {c: np.concatenate([k[c] for k in kept]) for c in COLUMNS}
    order = np.argsort(out["jd"], kind="stable")
    return {c: v[order] for c, v in out.items()}
