"""The survey seam of the science tabs: what differs between a ZTF and a Rubin object.

A tab's layout takes its survey (:data:`ZTF` or :data:`RUBIN`) and writes the survey's name
into its data key, so the shared callbacks find it again (:func:`of`). The survey gives the
store, the data version (what a cached result is keyed by), the fit, the light curve the fit
used, the choice of photometry and the units of the plots; the tabs' code, messages and
background jobs are the same for both.

- ZTF: objectId; times in JD (MJD on the per-alert plots); DC magnitudes where a source is
  behind, difference magnitudes elsewhere; the alerts' earlier detections (``history``).
- Rubin: diaObjectId; times shown in MJD TAI (Rubin's ``midpointMjdTai``; the fits take JD);
  AB magnitudes from the fluxes in nJy (``scienceFlux`` for variable stars and microlensing,
  ``psfFlux`` for supernovae: :mod:`api.queries.rubin.fits`); detections and, by choice, the
  forced photometry. Fink's Rubin classifier scores are those the alerts carry.
"""
from __future__ import annotations

import numpy as np

from api import portal_gateway as G
from api import queries as q
from api.queries import rubin as qr
from api.queries.rubin.fits import MJD_TO_JD, lightcurve as rubin_lightcurve
from apps.components.rubin_lightcurve import BAND_COLOURS
from science.rubin_tags import tags_of_alerts

#: Fink's Rubin classifier scores (0..1) plotted in the Supernova tab
RUBIN_SCORES = {"f:clf_snnSnVsOthers_score": ("SuperNNova SN vs others", "#7b4fd0"),
                "f:clf_earlySNIa_score": ("Early SN Ia", "#d1495b")}


class ZTF:
    name = "ztf"
    photometry = [{"label": "alerts only", "value": "none"},
                  {"label": "+ earlier detections of good quality (rb ≥ 0.55)", "value": "good"},
                  {"label": "+ all earlier detections", "value": "all"}]
    default_photometry = {"varstar": "good", "mulens": "good", "supernova": "good"}
    time_offset = 0.0           # fit times are shown as they are: JD
    mjd_title = "MJD (= JD − 2400000.5)"
    colours = None              # the ZTF light curve's colours
    mag_title = {"varstar": "magnitude (DC where a source is behind)", "mulens": "DC magnitude",
                 "supernova": "difference magnitude"}
    dc_label = "DC"

    @staticmethod
    def store():
        return G.store()

    @classmethod
    def job_store(cls):
        return G.job_store(cls.name)

    @staticmethod
    def data_version(store, object_id: str) -> dict:
        """Object id and what identifies its data (count, last jd): a new night changes it."""
        lc = q.lightcurve(store, object_id)
        last = float(np.nanmax(lc["jd"])) if len(lc["jd"]) else None
        return {"objectId": object_id, "n": int(len(lc["jd"])), "last_jd": last}

    @staticmethod
    def fit(store, object_id: str, kind: str, photometry: str, **params) -> dict:
        return q.fit(store, object_id, kind, history=photometry, **params)

    @staticmethod
    def lightcurve(store, object_id: str, kind: str, photometry: str) -> dict:
        return q.lightcurve(store, object_id, history=photometry)

    @staticmethod
    def time_unit(result: dict) -> str:
        return result.get("time_unit", "JD")

    @classmethod
    def shown_time(cls, t):
        """A fit's time (JD) in the unit the tab shows; None stays None."""
        return None if t is None else t - cls.time_offset

    @staticmethod
    def missing(object_id: str) -> str:
        return f"{object_id} has no detection stored here."


class RUBIN(ZTF):
    name = "rubin"
    photometry = [{"label": "detections (diaSources) only", "value": "none"},
                  {"label": "+ forced photometry (diaForcedSources)", "value": "forced"}]
    # a flux <= 0 has no magnitude and is left out: harmless for a star's science-image flux,
    # a bias on a transient's faint forced difference fluxes, so the supernova fit goes without
    default_photometry = {"varstar": "forced", "mulens": "forced", "supernova": "none"}
    time_offset = MJD_TO_JD     # fit times (JD) shown as Rubin's MJD TAI
    mjd_title = "MJD (TAI)"
    colours = BAND_COLOURS      # as on the Rubin light curve
    mag_title = {"varstar": "AB magnitude (from scienceFlux)", "mulens": "AB magnitude (from scienceFlux)",
                 "supernova": "AB magnitude (from psfFlux, the difference flux)"}
    dc_label = "scienceFlux"

    @staticmethod
    def store():
        return G.rubin_store()

    @staticmethod
    def data_version(store, object_id: str) -> dict:
        """diaObjectId and what identifies its data (measurements, last time in JD)."""
        oid = _dia_object_id(object_id)
        times = [qr.history(store, table, [oid], ["r:midpointMjdTai"]) for table in ("sources", "fp")]
        mjd = np.concatenate([t["r:midpointMjdTai"].to_numpy(float) if len(t) else np.array([]) for t in times])
        last = float(np.nanmax(mjd)) + MJD_TO_JD if len(mjd) else None
        return {"objectId": str(object_id), "survey": "rubin", "n": int(len(mjd)), "last_jd": last}

    @staticmethod
    def fit(store, object_id: str, kind: str, photometry: str, **params) -> dict:
        return qr.fit(store, _dia_object_id(object_id), kind, photometry == "forced", **params)

    @staticmethod
    def lightcurve(store, object_id: str, kind: str, photometry: str) -> dict:
        """The points the fit took (AB magnitudes from its flux), each with its kind
        (``detection``, ``forced``); the variable-star and microlensing ones from the
        science-image flux, marked as such in the plots (``is_dc``)."""
        lc = rubin_lightcurve(store, _dia_object_id(object_id), kind, photometry == "forced")
        lc["is_dc"] = np.full(len(lc["jd"]), kind != "supernova")
        return lc

    @staticmethod
    def time_unit(result: dict) -> str:
        return "MJD TAI"

    @staticmethod
    def missing(object_id: str) -> str:
        return f"diaObject {object_id} has no measurement with a positive flux stored here."

    @staticmethod
    def scores_and_tags(store, object_id: str):
        """(time [JD], {column: values}, tags): Fink's Rubin classifier scores, one per diaSource
        (those of the alerts Fink processed: earlier diaSources have none; Fink's -1, not
        computed, is left out as missing), and the Fink tags any diaSource carries (in the object page's order);
        the object's diaSources read once."""
        cols = ["r:midpointMjdTai", *RUBIN_SCORES, "f:tags"]
        sources = qr.history(store, "sources", [_dia_object_id(object_id)], cols)
        found = {}
        for c in RUBIN_SCORES:
            v = sources[c].astype(float).to_numpy() if c in sources else np.array([])
            v = np.where(v >= 0, v, np.nan)
            if np.isfinite(v).any():
                found[c] = v
        t = sources["r:midpointMjdTai"].to_numpy(float) + MJD_TO_JD if len(sources) else np.array([])
        return t, found, tags_of_alerts(sources.get("f:tags", []))


def _dia_object_id(object_id) -> int:
    """A diaObjectId from the tab's data; LookupError (no such object) for anything else."""
    ids, _refused = qr.object_ids([str(object_id)])
    if not ids:
        raise LookupError(f"{object_id!r} is not a diaObjectId")
    return ids[0]


SURVEYS = {s.name: s for s in (ZTF, RUBIN)}


def of(key) -> type[ZTF] | type[RUBIN]:
    """The survey named in a tab's data key (or a survey's name); ZTF when it names none."""
    name = key.get("survey", "ztf") if isinstance(key, dict) else (key or "ztf")
    return SURVEYS.get(name, ZTF)
